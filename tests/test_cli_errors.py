"""Every expected user error of the train command: one line `error: ...` naming the problem and the fix, exit code 2,
no traceback (unless --debug), and nothing already in the work dir lost. In-process through train.main (the same
flags parser and main the command runs) so the cases share one TF import."""

import os
import re
import sys

import pytest
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
        train.parse_flags(["train", *argv])
        train.main(["train"])
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize("case", CASES)
def test_user_error_is_one_line(case, tmp_path, capsys, monkeypatch):
    setup, message = CASES[case]
    extra = setup(str(tmp_path))
    # A --config file registers its own --config.* overrides, so a file that fails to load gets none.
    base = ["--smoke"] if any(arg.startswith("--config=") for arg in extra) else SMOKE
    argv = [*base, f"--workdir={tmp_path}/w", *extra]
    before = _snapshot(tmp_path)
    code, err = _train(argv, capsys, monkeypatch)
    assert code == cli.EXIT_USER_ERROR, err
    assert err.count("error: ") == 1 and "Traceback" not in err, err
    text = err[err.index("error: "):]  # one line; a config error lists each problem on its own line
    assert re.search(message, text), text
    after = _snapshot(tmp_path)
    assert {k: after.get(k) for k in before} == before  # nothing lost or changed


def test_debug_flag_shows_the_traceback(tmp_path, capsys, monkeypatch):
    _write(f"{tmp_path}/w", "keep me")
    with pytest.raises(WorkdirError, match="is a file, not a directory"):
        _train([*SMOKE, f"--workdir={tmp_path}/w", "--debug"], capsys, monkeypatch)
