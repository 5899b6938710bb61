"""The command-line entry points, run as users run them (subprocesses)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tfgan_eff import inference

ENV = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # the commands quiet TF themselves


def _run(*args, check=True):
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=600, env=ENV,
                          check=check)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One smoke baseline run through the CLI, with evaluation and float32 export, on set CPU thread pools."""
    workdir = tmp_path_factory.mktemp("cli") / "run"
    out = _run("tfgan_eff.train", "--method=baseline", "--smoke", f"--workdir={workdir}", "--config.train.steps=3",
               "--config.train.intra_op_threads=1", "--config.train.inter_op_threads=3")
    (workdir.parent / "train.stderr").write_text(out.stderr)
    return workdir


def test_train_cli_output_has_no_tf_noise(trained):
    """TF's C++ and Python INFO/WARNING lines are silenced; our progress and result lines stay."""
    lines = (trained.parent / "train.stderr").read_text().splitlines()
    for noise in ("E0000", "oneDNN", "Sharding callback duration", "cpu_feature_guard", "absl::InitializeLog"):
        assert not [line for line in lines if noise in line], noise
    assert any("3/3" in line and "steps/s" in line for line in lines)  # the progress bar
    assert any("done: " in line for line in lines)
    assert any("CPU threads per op 1, ops at once 3" in line for line in lines)  # set before TF started


def test_train_cli_writes_everything(trained):
    summary = json.loads((trained / "summary.json").read_text())
    assert summary["method"] == "baseline" and summary["steps"] == 3
    assert {"fid", "kid_mean", "is_mean", "precision", "recall", "density", "coverage"} <= set(summary["metrics"])
    report = json.loads((trained / "export" / "report.json").read_text())
    assert report["artifacts"]["float32"]["max_abs_diff"] < 1e-4
    assert os.path.exists(trained / "eval.json")


def test_load_generator_from_workdir_and_saved_model(trained):
    from_run = inference.load_generator(trained)
    from_export = inference.load_generator(trained / "export" / "saved_model")
    a, b = from_run.sample(4, seed=7), from_export.sample(4, seed=7)
    assert a.dtype == np.uint8 and a.shape == (4, 16, 16, 3)
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1  # same EMA weights, rounding only
    assert not np.array_equal(from_run.sample(4, seed=8), a)


def test_evaluate_cli(trained, tmp_path):
    out = tmp_path / "e.json"
    _run("tfgan_eff.evaluate", f"--workdir={trained}", "--num_samples=32", f"--out={out}")
    results = json.loads(out.read_text())
    assert results["num_samples"] == 32 and results["fid"] > 0 and "protocol" in results


def test_export_cli(trained, tmp_path):
    out = tmp_path / "exp"
    _run("tfgan_eff.export", f"--workdir={trained}", f"--out={out}", "--modes=float32,dynamic_int8")
    report = json.loads((out / "report.json").read_text())
    assert set(report["artifacts"]) == {"saved_model", "float32", "dynamic_int8"}


def test_export_cli_refuses_a_generator_workdir_outside(trained, tmp_path):
    """A summary.json pointing outside its work dir is not followed: nothing is written into the other run."""
    escape = tmp_path / "esc"
    escape.mkdir()
    (escape / "summary.json").write_text(json.dumps({"generator_workdir": str(trained)}))
    before = {name: (trained / "export" / name).stat().st_mtime_ns for name in os.listdir(trained / "export")}
    out = _run("tfgan_eff.export", f"--workdir={escape}", check=False)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert f"error: {escape}/summary.json names generator_workdir" in out.stderr and "not inside" in out.stderr
    after = {name: (trained / "export" / name).stat().st_mtime_ns for name in os.listdir(trained / "export")}
    assert after == before and os.listdir(escape) == ["summary.json"]


def test_evaluate_cli_error_is_one_line(tmp_path):
    out = _run("tfgan_eff.evaluate", f"--workdir={tmp_path}", check=False)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith(f"error: {tmp_path} is neither a work dir")


def test_train_cli_errors_are_clear(tmp_path):
    bad_key = _run("tfgan_eff.train", "--smoke", "--config.train.n_critics=2", f"--workdir={tmp_path}", check=False)
    assert bad_key.returncode != 0 and 'Did you mean "n_critic"' in bad_key.stderr
    assert "Traceback" not in bad_key.stderr
    bad_method = _run("tfgan_eff.train", "--method=gan", check=False)
    assert bad_method.returncode != 0 and "baseline" in bad_method.stderr
    shown = _run("tfgan_eff.train", "--help", check=False)
    help_text = shown.stdout + shown.stderr
    for flag in ("--method", "--config", "--workdir", "--strategy", "--smoke"):
        assert flag in help_text
