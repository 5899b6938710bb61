"""Work dirs: created with clear errors, a lock so two commands never write the same work dir at once, and failed
writes (disk full, read-only) reported in one line."""

import contextlib
import errno
import os
import re

import tensorflow as tf
from absl import logging

from tfgan_eff.errors import UserError
from tfgan_eff.training.checkpoint import checkpoint_step, resume_point

CLAIM_FILE = "experiment.json"  # what the training command writes in the work dir it locks (training/experiment.py)
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)
# TF's file errors: "... {{function_node ...}} /path/of/the/file; No space left on device [Op:SaveV2]"
_TF_PATH_AND_REASON = re.compile(r"(\S+); ([^;\[\n]+?)\s*(?:\[Op:|$)", re.MULTILINE)


class WorkdirLockedError(UserError, RuntimeError):
    """Another live process holds the work dir."""


class WorkdirError(UserError, OSError):
    """The work dir cannot be created or written (a file is in the way, or no permission)."""


class WorkdirWriteError(UserError, OSError):
    """A write into the work dir failed (disk full, no permission, read-only file system); what was saved is kept."""


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
        try:
            if _owner(self.path) == os.getpid():
                os.remove(self.path)
        except OSError as err:  # e.g. the work dir became read-only: a lock of a dead process is taken over anyway
            logging.warning("could not remove the lock %s (%s); the next command takes it over", self.path,
                            err.strerror)


def claimed_workdir(path):
    """The work dir a training command locks that holds `path`: the nearest of `path` and its parents with a
    CLAIM_FILE (a method's sub-run belongs to its method's work dir); None when no training claims one."""
    folder = os.path.abspath(os.fspath(path))
    while not os.path.isfile(os.path.join(folder, CLAIM_FILE)):
        if os.path.dirname(folder) == folder:
            return None
        folder = os.path.dirname(folder)
    return folder


def _inside(path, root):
    real_path, real_root = os.path.realpath(path), os.path.realpath(root)
    return os.path.commonpath([real_path, real_root]) == real_root


def _failed_write(err, workdir):
    """(path or None, reason, disk full?) when `err` is a write under `workdir` that failed for lack of space or
    permission, else None (any other error keeps its traceback)."""
    if isinstance(err, OSError) and err.errno in _DISK_FULL + _NOT_WRITABLE:
        path, reason, full = err.filename, err.strerror, err.errno in _DISK_FULL
    elif isinstance(err, (tf.errors.ResourceExhaustedError, tf.errors.PermissionDeniedError)):
        found = _TF_PATH_AND_REASON.search(err.message)  # no path: e.g. out of memory, not a write
        if not found:
            return None
        (path, reason), full = found.groups(), isinstance(err, tf.errors.ResourceExhaustedError)
    else:
        return None
    if path is not None and not _inside(path, workdir):
        return None
    return path, reason, full


def _resume_text(workdir):
    """Where a rerun of the training in `workdir` starts, for the message of a failed write."""
    run_dir, prefix = resume_point(workdir)
    where = "" if os.path.samefile(run_dir, workdir) else f" of {os.path.relpath(run_dir, workdir)}"
    if prefix is None:
        return f"no checkpoint{where} was saved yet, so it starts at step 0"
    return f"it resumes from step {checkpoint_step(prefix)}{where} (the last saved checkpoint, {prefix})"


@contextlib.contextmanager
def _failed_writes_reported(workdir, resumes):
    """A write under `workdir` that fails for lack of space or permission (OSError ENOSPC, EDQUOT, EACCES, EPERM or
    EROFS, or TF's ResourceExhaustedError / PermissionDeniedError naming a file there) ends as one WorkdirWriteError
    saying what happened and what to do; with `resumes` (training) also the step a rerun resumes from."""
    try:
        yield
    except (OSError, tf.errors.OpError) as err:
        failure = _failed_write(err, workdir)
        if failure is None:
            raise
        path, reason, full = failure
        fix = "free disk space" if full else f"make {workdir} writable"
        after = f"; {_resume_text(workdir)}" if resumes else ""
        raise WorkdirWriteError(f"cannot write {path or 'in ' + workdir}: {reason}. Everything saved before is kept: "
                                f"{fix} and rerun the same command{after}") from err


@contextlib.contextmanager
def writing(workdir, resumes=False):
    """Holds `workdir`'s WorkdirLock while the body writes into it (the train command); a write there that fails for
    lack of space or permission ends as one WorkdirWriteError (see _failed_writes_reported)."""
    with WorkdirLock(workdir), _failed_writes_reported(workdir, resumes):
        yield


@contextlib.contextmanager
def writing_into(path):
    """For a command that writes into `path` (evaluate, export): holds the lock of the work dir a training claimed
    there (see claimed_workdir), so a live training refuses the command; failed writes are reported as by writing.
    Nothing is locked where no training writes."""
    owner = claimed_workdir(path)
    with writing(owner) if owner else _failed_writes_reported(os.path.abspath(path), resumes=False):
        yield
