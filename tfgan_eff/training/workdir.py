"""Work dirs: created with clear errors, and a lock so two runs never write the same work dir."""

import errno
import os

from tfgan_eff.errors import UserError


class WorkdirLockedError(UserError, RuntimeError):
    """Another live process holds the work dir."""


class WorkdirError(UserError, OSError):
    """The work dir cannot be created or written (a file is in the way, or no permission)."""


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError as err:
        return err.errno == errno.EPERM
    return True


def _owner(path):
    """The pid in a lock file; 0 when it is empty or not a number; None when the file is gone."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read().strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return 0
    return int(text) if text.isdigit() else 0


def make_workdir(workdir):
    """Creates `workdir` (and parents) and checks that it is writable; raises WorkdirError naming the problem."""
    try:
        os.makedirs(workdir, exist_ok=True)
    except FileExistsError as err:
        raise WorkdirError(f"--workdir {workdir} is a file, not a directory: pass another --workdir") from err
    except NotADirectoryError as err:
        raise WorkdirError(f"--workdir {workdir} is under a file ({err.filename}): pass another --workdir") from err
    except PermissionError as err:
        raise WorkdirError(f"cannot create --workdir {workdir}: no permission for {err.filename}") from err
    if not os.access(workdir, os.W_OK | os.X_OK):
        raise WorkdirError(f"--workdir {workdir} is not writable: fix its permissions or pass another --workdir")


class WorkdirLock:
    """An exclusive `<workdir>/.lock` holding the owner's pid; a lock left by a dead process is taken over.

    The lock appears with its pid already in it (written to a temp file, then hard-linked into place, which fails
    if a lock exists), so no process can ever read an empty lock and take it for stale.
    """

    def __init__(self, workdir):
        self.path = os.path.join(workdir, ".lock")

    def __enter__(self):
        workdir = os.path.dirname(self.path)
        make_workdir(workdir)
        tmp = f"{self.path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(str(os.getpid()))
        try:
            while True:
                try:
                    os.link(tmp, self.path)
                    return self
                except FileExistsError:
                    pass
                owner = _owner(self.path)
                if owner and owner != os.getpid() and _alive(owner):
                    raise WorkdirLockedError(
                        f"work dir {workdir} is in use by process {owner}; wait for it, stop it, or pass another "
                        f"--workdir. If process {owner} is not a run of this work dir (the lock outlived a crash "
                        f"and its pid was reused), delete {self.path} and rerun")
                if owner is not None:
                    self._remove_stale(owner)
        finally:
            os.remove(tmp)

    def _remove_stale(self, owner):
        """Removes the lock of dead `owner`, unless another process replaced it meanwhile (then it is put back)."""
        aside = f"{self.path}.stale{os.getpid()}"
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return  # another process removed it first
        if _owner(aside) != owner:  # a fresh lock taken in between: restore it
            try:
                os.link(aside, self.path)
            except FileExistsError:
                pass
        os.remove(aside)

    def __exit__(self, *exc):
        if _owner(self.path) == os.getpid():
            os.remove(self.path)
