"""workdir.writing: which errors become the one-line WorkdirWriteError (failed writes under the work dir) and which
keep their traceback, where its message says a rerun resumes, and which work dir evaluate / export lock."""

import errno
import json
import os
import time

import pytest
import tensorflow as tf

from tfgan_eff.training import workdir
from tfgan_eff.training.workdir import WorkdirWriteError, claimed_workdir, writing, writing_into


def _run_dir(path, checkpoint_steps=()):
    os.makedirs(path / "checkpoints")
    (path / "config.json").write_text("{}")
    for step in checkpoint_steps:
        time.sleep(0.01)  # distinct modification times
        (path / "checkpoints" / f"ckpt-{step}.index").write_bytes(b"")
    return path


def _raise_in(path, err):
    with writing(str(path), resumes=True):
        raise err


@pytest.mark.parametrize("make_error,message", [
    (lambda w: OSError(errno.ENOSPC, "No space left on device"),
     r"cannot write in {w}: No space left on device\. Everything saved before is kept: free disk space and rerun the "
     r"same command; it resumes from step 4 \(the last saved checkpoint, {w}/checkpoints/ckpt-4\)$"),
    (lambda w: PermissionError(errno.EACCES, "Permission denied", f"{w}/samples/x.png"),
     r"cannot write {w}/samples/x.png: Permission denied\. .*: make {w} writable and rerun the same command; it "
     r"resumes from step 4"),
    (lambda w: tf.errors.PermissionDeniedError(None, None, f"{{{{function_node x}}}} {w}/tb; Read-only file system "
                                               "[Op:CreateSummaryFileWriter] name: "),
     r"cannot write {w}/tb: Read-only file system\. .*make {w} writable"),
])
def test_failed_writes_under_the_work_dir_become_one_error(tmp_path, make_error, message):
    w = _run_dir(tmp_path / "w", (2, 4))
    with pytest.raises(WorkdirWriteError, match=message.format(w=w)):
        _raise_in(w, make_error(w))
    assert not os.path.exists(w / ".lock")


@pytest.mark.parametrize("make_error", [
    lambda w: tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor with shape[1000000000]"),
    lambda w: PermissionError(errno.EACCES, "Permission denied", "/elsewhere/data.png"),  # reading data, not ours
    lambda w: OSError(errno.EIO, "Input/output error", f"{w}/config.json"),
    lambda w: ValueError("a bug"),
])
def test_other_errors_keep_their_type(tmp_path, make_error):
    w = _run_dir(tmp_path / "w")
    err = make_error(w)
    with pytest.raises(type(err)) as raised:
        _raise_in(w, err)
    assert raised.value is err


def test_a_rerun_resumes_the_run_written_last(tmp_path):
    """In a method's work dir the run in progress is the one started or checkpointed last."""
    method = tmp_path / "m"
    _run_dir(method / "teacher", (100,))
    _run_dir(method / "student", (2,))
    with pytest.raises(WorkdirWriteError, match=r"it resumes from step 2 of student \(the last saved checkpoint, "
                       rf"{method}/student/checkpoints/ckpt-2\)$"):
        _raise_in(method, OSError(errno.ENOSPC, "No space left on device"))
    time.sleep(0.01)
    _run_dir(method / "retrain")  # started, no checkpoint yet
    with pytest.raises(WorkdirWriteError, match=r"no checkpoint of retrain was saved yet, so it starts at step 0$"):
        _raise_in(method, OSError(errno.ENOSPC, "No space left on device"))


def test_evaluate_and_export_lock_the_work_dir_training_locks(tmp_path):
    method = tmp_path / "m"
    _run_dir(method / "main")
    assert claimed_workdir(method / "main" / "export") is None
    with writing_into(method / "main" / "export"):  # nothing claimed: nothing to lock, failed writes still reported
        assert not os.path.exists(method / "main" / "export")
    with pytest.raises(WorkdirWriteError, match=r"cannot write .*/export/x: Read-only file system\. Everything saved "
                       r"before is kept: make .*/m/main/export writable and rerun the same command$"):
        with writing_into(method / "main" / "export"):
            raise OSError(errno.EROFS, "Read-only file system", f"{method}/main/export/x")
    (method / workdir.CLAIM_FILE).write_text(json.dumps({"method": "dgl", "config": "x"}))
    assert claimed_workdir(method / "main" / "export") == str(method)
    with writing_into(method / "main" / "export"):
        assert os.path.exists(method / ".lock")
    assert not os.path.exists(method / ".lock")
