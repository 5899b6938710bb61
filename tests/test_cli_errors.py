"""Every expected user error of the train command: one line `error: ...` naming the problem and the fix, exit code 2,
no traceback (unless --debug), and nothing already in the work dir lost; a write that fails mid-run (disk full,
read-only) says so in one line and the rerun resumes. In-process through train.main (the same flags parser and main
the command runs) so the cases share one TF import. (evaluate and export: tests/reliability/test_user_mistakes.py.)"""

import errno
import logging
import os
import re
import sys
import tempfile

import pytest
import tensorflow as tf
from absl import flags

from tfgan_eff import cli, train
from tfgan_eff.training.workdir import WorkdirError

SMOKE = ("--smoke", "--config.train.steps=2", "--config.eval.at_end=False", "--config.export.enabled=False")


def _snapshot(root):
    """{relative path: bytes} of every file under root."""
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, root)] = f.read()
    return files


def _write(path, content):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(content, bytes) else "w") as f:
        f.write(content)


def _config_file(tmp, body):
    _write(f"{tmp}/cfg.py", body)
    return [f"--config={tmp}/cfg.py"]


def _image_folder(tmp, files):
    os.makedirs(f"{tmp}/images")
    for name, content in files.items():
        _write(f"{tmp}/images/{name}", content)
    return [f"--config.data.source=folder:{tmp}/images", "--config.eval.at_end=False"]


# name: (set-up(tmp dir) -> extra flags, expected message regex). The work dir is <tmp>/w unless the flags say.
CASES = {
    "config file missing": (lambda t: [f"--config={t}/none.py"],
                            r"cannot build the config from .*/none.py: OSError: .*No such file"),
    "config file raising": (lambda t: _config_file(t, "raise RuntimeError('boom')\n"),
                            r"cannot load the --config file: RuntimeError: boom"),
    "config file returning a dict": (lambda t: _config_file(t, "def get_config():\n    return {'a': 1}\n"),
                                     r"cfg.py: AttributeError: 'dict' object has no attribute"),
    "work dir is a file": (lambda t: _write(f"{t}/w", "keep me") or [],
                           r"--workdir .*/w is a file, not a directory: pass another --workdir"),
    "work dir under a file": (lambda t: _write(f"{t}/f", "keep me") or [f"--workdir={t}/f/w"],
                              r"--workdir .*/f/w is under a file"),
    "empty image folder": (lambda t: _image_folder(t, {}), r"no usable images .* under .*images"),
    "unreadable image folder": (lambda t: _image_folder(t, {"a.png": b"not a png", "b.jpg": b"\x00"}),
                                r"no usable images .*\(2 unreadable or too small"),
    "image folder is a file": (lambda t: _write(f"{t}/x.png", b"") or ["--config.data.source=folder:" + f"{t}/x.png"],
                               r"data.source folder .*x.png' is a file, not a folder"),
    "TFDS data not prepared": (lambda t: os.makedirs(f"{t}/tfds") or [
        "--config.data.source=tfds:cifar10", f"--config.data.tfds_data_dir={t}/tfds", "--config.eval.at_end=False"],
        r"TFDS dataset 'cifar10' \(split 'train'\) is not prepared in .*tfds.*tfds build cifar10"),
    "infinite learning rate": (lambda t: ["--config.train.g_opt.lr=inf"], r"train.g_opt.lr must be a finite number"),
    "lock held": (lambda t: _write(f"{t}/w/.lock", str(os.getppid())) or [],
                  rf"work dir .*/w is in use by process {os.getppid()}.*delete .*/w/.lock and rerun"),
    "no readable checkpoint": (lambda t: [_write(f"{t}/w/checkpoints/ckpt-2.{ext}", b"garbage")
                                          for ext in ("index", "data-00000-of-00001")] and [],
                               r"no readable checkpoint in .*/w/checkpoints \(tried ckpt-2\)\. Nothing was "
                               r"overwritten"),
    "NaN stop": (lambda t: ["--config.train.g_opt.lr=1e30", "--config.train.d_opt.lr=1e30"],
                 r"a loss became NaN/Inf in .*/w \(non-finite .* loss.*\)\. The last good checkpoint is none yet\. "
                 r"Lower the learning rates and rerun"),
    "unknown eval metric": (lambda t: ["--config.eval.metrics=fid,bogus"],  # refused before training, not after
                            r"eval.metrics item='bogus' is not one of \['fid', 'kid', 'is', 'pr', 'dc'\]"),
    "no export mode": (lambda t: ["--config.export.enabled=True", "--config.export.modes="],
                       r"export.modes is empty: list one or more of float32, dynamic_int8, full_int8, or set "
                       r"export.enabled=False"),
    "no TPU": (lambda t: ["--strategy=tpu"], r"--strategy=tpu but no TPU was found \(.*\): run on a TPU VM, or pass "
                                             r"--strategy=auto"),
    "multi_worker without TF_CONFIG": (lambda t: ["--strategy=multi_worker"],  # the test unsets TF_CONFIG
                                       r"--strategy=multi_worker: TF_CONFIG is not set\. Set TF_CONFIG='\{\"cluster"),
    "extra positional argument": (lambda t: ["extra"], r"unexpected argument\(s\) 'extra': every option is a "
                                                       r"--flag=value \(see --help\)"),
}


def _train(argv, capsys, monkeypatch):
    """Runs the train command's parser and main in-process; returns (exit code, stderr)."""
    if not any(arg.startswith("--config=") for arg in argv):  # parse the --config file again, with these overrides
        argv = [f"--config={train._DEFAULT_CONFIG}", *argv]  # pylint: disable=protected-access
    monkeypatch.setattr(sys, "argv", ["train", *argv])  # config_flags reads --config.* overrides from sys.argv
    for name in [name for name in flags.FLAGS if name.startswith("config.")]:
        delattr(flags.FLAGS, name)  # the previous parse's override flags; config_flags defines them per parse
    flags.FLAGS.unparse_flags()
    try:
        train.main(train.parse_flags(["train", *argv]))  # positional arguments reach main, as under app.run
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr().err


def _one_error_line(code, err, message):
    """Asserts exit code 2 and one `error: ...` (its problems may follow on their own lines) matching `message`."""
    assert code == cli.EXIT_USER_ERROR, err
    assert err.count("error: ") == 1 and "Traceback" not in err and "USAGE" not in err, err
    text = err[err.index("error: "):]  # one line; a config error lists each problem on its own line
    assert re.search(message, text), text


@pytest.mark.parametrize("case", CASES)
def test_user_error_is_one_line(case, tmp_path, capsys, monkeypatch):
    setup, message = CASES[case]
    monkeypatch.delenv("TF_CONFIG", raising=False)
    extra = setup(str(tmp_path))
    # A --config file registers its own --config.* overrides, so a file that fails to load gets none.
    base = ["--smoke"] if any(arg.startswith("--config=") for arg in extra) else SMOKE
    argv = [*base, f"--workdir={tmp_path}/w", *extra]
    before = _snapshot(tmp_path)
    code, err = _train(argv, capsys, monkeypatch)
    _one_error_line(code, err, message)
    after = _snapshot(tmp_path)
    assert {k: after.get(k) for k in before} == before  # nothing lost or changed


def test_debug_flag_shows_the_traceback(tmp_path, capsys, monkeypatch):
    _write(f"{tmp_path}/w", "keep me")
    with pytest.raises(WorkdirError, match="is a file, not a directory"):
        _train([*SMOKE, f"--workdir={tmp_path}/w", "--debug"], capsys, monkeypatch)


def _disk_full_at_checkpoint(step):
    """tf.train.Checkpoint.write failing as TF does on a full disk, for the checkpoint of `step`."""
    write = tf.train.Checkpoint.write

    def failing_write(self, file_prefix, *args, **kwargs):
        if os.path.basename(file_prefix) == f"ckpt-{step}":
            raise tf.errors.ResourceExhaustedError(None, None, (  # TF's message (tfgan_eff/training/workdir.py)
                f"{{{{function_node __wrapped__SaveV2_dtypes_2_device_/job:localhost/replica:0/task:0/device:CPU:0}}}} "
                f"{file_prefix}_temp/part-00000-of-00001.data-00000-of-00001.tempstate1; No space left on device "
                "[Op:SaveV2]"))
        return write(self, file_prefix, *args, **kwargs)

    return {(tf.train.Checkpoint, "write"): failing_write}


def _read_only_after_checkpoint(step):
    """The work dir `w` read-only once its `ckpt-<step>` exists: no temp file or dir can be created in it and its lock
    cannot be removed (OSError EROFS, as on a read-only mount; as root, chmod would not stop the writes)."""
    real = {"mkdtemp": tempfile.mkdtemp, "mkstemp": tempfile.mkstemp, "remove": os.remove}

    def read_only(path):
        parts = os.path.abspath(path).split(os.sep)
        workdir = os.sep.join(parts[:parts.index("w") + 1]) if "w" in parts else None
        return workdir is not None and os.path.exists(os.path.join(workdir, "checkpoints", f"ckpt-{step}.index"))

    def refuse(path):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), path)

    def make_temp(kind):
        def make(*args, dir=None, prefix=None, **kwargs):  # pylint: disable=redefined-builtin  # tempfile's name
            if dir is not None and read_only(dir):
                refuse(os.path.join(dir, prefix or "tmp"))
            return real[kind](*args, dir=dir, prefix=prefix, **kwargs)
        return make

    def remove(path, **kwargs):
        if str(path).endswith(".lock") and read_only(path):
            refuse(path)
        return real["remove"](path, **kwargs)

    return {(tempfile, "mkdtemp"): make_temp("mkdtemp"), (tempfile, "mkstemp"): make_temp("mkstemp"),
            (os, "remove"): remove}


def _train_with(patches, argv, capsys, monkeypatch):
    """_train with `patches` ({(owner, name): replacement}) in place."""
    with monkeypatch.context() as patched:
        for (owner, name), replacement in patches.items():
            patched.setattr(owner, name, replacement)
        return _train(argv, capsys, monkeypatch)


def test_a_failed_write_is_one_line_and_the_rerun_resumes(tmp_path, capsys, monkeypatch, caplog):
    """The disk fills up at the checkpoint of step 4; the rerun finds the work dir read-only; the next rerun resumes
    from step 2. The failed runs keep what was saved (a rerun after a kill at the same point matches an uninterrupted
    run bit for bit: tests/reliability/test_kill_resume.py)."""
    argv = [*SMOKE, "--config.train.steps=4", "--config.train.ckpt_every=2", f"--workdir={tmp_path}/w"]
    resumes = r"rerun the same command; it resumes from step 2 \(the last saved checkpoint, .*/w/checkpoints/ckpt-2\)$"
    _one_error_line(*_train_with(_disk_full_at_checkpoint(4), argv, capsys, monkeypatch),
                    r"cannot write .*/w/checkpoints/\.saving-\w+/ckpt-4_temp/\S+: No space left on device\. Everything "
                    r"saved before is kept: free disk space and " + resumes)
    assert {"ckpt-2.index", "ckpt-2.data-00000-of-00001"} <= set(os.listdir(tmp_path / "w" / "checkpoints"))
    assert "could not remove the lock" not in caplog.text
    _one_error_line(*_train_with(_read_only_after_checkpoint(2), argv, capsys, monkeypatch),
                    r"cannot write .*/w/\S+: Read-only file system\. Everything saved before is kept: "
                    r"make .*/w writable and " + resumes)
    # The lock that could not be removed is one warning line, not a second traceback; the next run takes it over.
    assert "could not remove the lock" in caplog.text and os.path.exists(tmp_path / "w" / ".lock")
    with caplog.at_level(logging.INFO):
        assert _train(argv, capsys, monkeypatch)[0] == 0
    assert f"resuming at step 2 from {tmp_path}/w/checkpoints/ckpt-2" in caplog.text
    assert os.path.exists(tmp_path / "w" / "checkpoints" / "ckpt-4.index") and not os.path.exists(tmp_path / "w" /
                                                                                                    ".lock")
