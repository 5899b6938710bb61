"""The command-line entry points, run as users run them (subprocesses)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tfgan_eff import inference

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")


def _run(*args, check=True):
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=600, env=ENV,
                          check=check)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One smoke baseline run through the CLI, with evaluation and float32 export."""
    workdir = tmp_path_factory.mktemp("cli") / "run"
    _run("tfgan_eff.train", "--method=baseline", "--smoke", f"--workdir={workdir}", "--config.train.steps=3")
    return workdir


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
