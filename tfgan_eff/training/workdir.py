"""Work-dir files: atomic JSON writes and a lock so two runs never write the same work dir."""

import errno
import json
import os


def write_json(path, obj):
    """Writes `obj` as indented JSON atomically (temp file + rename)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=True, default=str)
    os.replace(tmp, path)


def read_json(path):
    """Reads a JSON file."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class WorkdirLockedError(RuntimeError):
    """Another live process holds the work dir."""


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError as err:
        return err.errno == errno.EPERM
    return True


class WorkdirLock:
    """An exclusive `<workdir>/.lock` holding the owner's pid; a lock left by a dead process is taken over."""

    def __init__(self, workdir):
        self.path = os.path.join(workdir, ".lock")

    def __enter__(self):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    with open(self.path, encoding="utf-8") as f:
                        owner = int(f.read().strip() or 0)
                except (OSError, ValueError):
                    owner = 0
                if owner and owner != os.getpid() and _alive(owner):
                    raise WorkdirLockedError(
                        f"work dir {os.path.dirname(self.path)} is in use by process {owner}; wait for it, stop it, "
                        "or pass another --workdir") from None
                os.remove(self.path)  # stale: its owner is gone
                continue
            with os.fdopen(fd, "w") as f:
                f.write(str(os.getpid()))
            return self

    def __exit__(self, *exc):
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass
