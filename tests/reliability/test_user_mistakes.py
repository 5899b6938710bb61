"""evaluate and export, as users run them, on a tiny trained work dir: every mistake (a wrong path, a missing or bad
flag, a work dir in use by a training) is one line `error: ...` with exit code 2 and writes nothing; a run whose newest
checkpoint is unreadable is evaluated at the step it can read, and says so; a successful export prints only our own
lines and its files follow the umask. (The train command's mistakes: tests/test_cli_errors.py.)

The mistakes of one command run in one process (cli_cases.py), sharing one TensorFlow import."""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from killed_run import run_to_end  # pylint: disable=import-error

from tfgan_eff import inference

CLI_CASES = os.path.join(os.path.dirname(__file__), "cli_cases.py")
ENV = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # the commands quiet TF themselves
OUR_LOG_LINE = re.compile(r"^[IWE]\d{4} [\d:.]+ +\d+ [\w.]+\.py:\d+\] ")  # absl lines of our modules (TF's: .cc)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A smoke baseline run (4 steps, checkpoints at 2 and 4) through the train command."""
    workdir = tmp_path_factory.mktemp("mistakes") / "run"
    run_to_end(str(workdir), "--method=baseline", "--smoke", "--config.eval.at_end=False",
               "--config.export.enabled=False")
    return workdir


def _snapshot(root):
    """{relative path: (size, mtime)} of every file under root (a write shows as a change or a new file)."""
    return {os.path.relpath(os.path.join(folder, name), root): (os.stat(os.path.join(folder, name)).st_size,
                                                                 os.stat(os.path.join(folder, name)).st_mtime_ns)
            for folder, _, names in os.walk(root) for name in names}


def _locked_copies(trained, root):
    """Copies of the run locked by a live process (this test's): one as it is, and one as the sub-run `main` of a
    method work dir (whose lock is on the method's dir, as `train --workdir=method` takes it). Also a SavedModel dir
    for the flag checks that come before it is read."""
    os.makedirs(root / "saved_model")
    (root / "saved_model" / "saved_model.pb").write_bytes(b"")
    shutil.copytree(trained, root / "locked")
    method = root / "method"
    shutil.copytree(trained, method / "main")
    os.remove(method / "main" / "experiment.json")  # sub-runs have none: the method's work dir is claimed
    (method / "experiment.json").write_text(json.dumps({"method": "baseline", "config": "x"}))
    (method / "summary.json").write_text(json.dumps({"generator_workdir": "main"}))
    for workdir in (root / "locked", method):
        (workdir / ".lock").write_text(str(os.getpid()))


def _run_cases(module, cases, tmp_path):
    """{name: (exit code, stderr)} of each case's argv, run by `module`'s main in one process."""
    cases_path = tmp_path / f"{module}.cases.json"
    cases_path.write_text(json.dumps(list(cases.values())))
    out = subprocess.run([sys.executable, CLI_CASES, module, str(cases_path)], capture_output=True, text=True,
                         env=ENV, timeout=600, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    results = json.loads(out.stdout.strip().splitlines()[-1])
    return {name: (result["code"], result["stderr"]) for name, result in zip(cases, results)}


def _assert_one_error_line(code, stderr, message):
    """Exit code 2 and stderr is one line `error: ...` matching `message` (our own log lines aside)."""
    lines = [line for line in stderr.splitlines() if line.strip() and not OUR_LOG_LINE.match(line)]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert re.search(message, lines[0]), lines[0]


LOCKED = r"error: work dir {} is in use by process {}; wait for it, stop it, or pass another --workdir"
NO_SUCH_RUN = r"{} does not exist: pass a work dir, a checkpoint prefix \(RUN_DIR/checkpoints/ckpt-N\) or an exported"
A_FILE = r"{} is a file, not a directory: pass a work dir"
UNKNOWN_MODE = (r"error: unknown TFLite mode\(s\) 'bogus': pass one or more of float32, dynamic_int8, full_int8 "
                r"\(e.g. --modes=float32,dynamic_int8,full_int8\)$")


def _evaluate_mistakes(t, run, pid):
    """{name: (argv, expected error)} for `python -m tfgan_eff.evaluate`."""
    saved_model = f"--workdir={t}/saved_model"
    return {
        "missing dir": ([f"--workdir={t}/missing"], NO_SUCH_RUN.format(f"{t}/missing")),
        "a file": ([f"--workdir={run}/config.json"], A_FILE.format(f"{run}/config.json")),
        "SavedModel, unknown --dataset": ([saved_model, "--dataset=bogus"], r"error: --dataset='bogus': use digits, "
                                          r"shapes, tfds:NAME .* or folder:PATH$"),
        "SavedModel without --dataset": ([saved_model], r"error: evaluating a SavedModel needs its reference data: "
                                         r"pass --dataset=digits, shapes, tfds:NAME or folder:PATH, or "
                                         r"--ref_stats=FILE.npz"),
        "extra positional argument": ([f"--workdir={run}", "extra"], r"error: unexpected argument\(s\) 'extra': "
                                      r"every option is a --flag=value \(see --help\)$"),
        "run being trained": ([f"--workdir={t}/locked"], LOCKED.format(f"{t}/locked", pid)),
        "method work dir being trained": ([f"--workdir={t}/method"], LOCKED.format(f"{t}/method", pid)),
        "its sub-run while the method trains": ([f"--workdir={t}/method/main"], LOCKED.format(f"{t}/method", pid)),
    }


def _export_mistakes(t, run, pid):
    """{name: (argv, expected error)} for `python -m tfgan_eff.export` (each would write into its --out)."""
    return {
        "missing dir": ([f"--workdir={t}/missing", f"--out={t}/x"], NO_SUCH_RUN.format(f"{t}/missing")),
        "a file": ([f"--workdir={run}/config.json", f"--out={t}/x"], A_FILE.format(f"{run}/config.json")),
        "unknown mode": ([f"--workdir={run}", f"--out={t}/x", "--modes=bogus"], UNKNOWN_MODE),
        "an unknown mode among known": ([f"--workdir={run}", f"--out={t}/x", "--modes=float32,bogus"], UNKNOWN_MODE),
        "no mode": ([f"--workdir={run}", "--modes="], r"error: no TFLite mode given: pass one or more of float32"),
        "extra positional argument": ([f"--workdir={run}", f"--out={t}/x", "extra"],
                                      r"error: unexpected argument\(s\) 'extra'"),
        "run being trained": ([f"--workdir={t}/locked"], LOCKED.format(f"{t}/locked", pid)),
        "its sub-run while the method trains": ([f"--workdir={t}/method/main"], LOCKED.format(f"{t}/method", pid)),
    }


def _run_mistakes(module, mistakes, trained, tmp_path, extra_cases=None):
    """Runs the mistakes (and `extra_cases`, {name: argv}, which may write elsewhere) in one process; asserts each
    mistake is one line and that none wrote anything; returns {name: (exit code, stderr)}."""
    root = tmp_path / "root"  # the copies and every --out target
    _locked_copies(trained, root)
    cases = mistakes(root, trained, os.getpid())
    before = {path: _snapshot(path) for path in (trained, root)}
    results = _run_cases(module, {**{name: argv for name, (argv, _) in cases.items()}, **(extra_cases or {})},
                         tmp_path)
    for name, (_, message) in cases.items():
        _assert_one_error_line(*results[name], message)
    assert _snapshot(trained) == before[trained]
    assert _snapshot(root) == before[root]  # no --out written, locks untouched
    assert sorted(os.listdir(root)) == ["locked", "method", "saved_model"]
    return results


def test_export_mistakes_are_one_line_and_write_nothing(trained, tmp_path):
    _run_mistakes("tfgan_eff.export.__main__", _export_mistakes, trained, tmp_path)


def test_evaluate_mistakes_are_one_line_and_write_nothing_and_a_stale_run_says_which_step(trained, tmp_path):
    """Besides the mistakes: a run whose newest checkpoint is unreadable is evaluated at the step it can read, with a
    warning, and its eval.json records that step."""
    stale = tmp_path / "stale"
    shutil.copytree(trained, stale)
    index = stale / "checkpoints" / "ckpt-4.index"
    index.write_bytes(index.read_bytes()[:100])  # truncated
    results = _run_mistakes("tfgan_eff.evaluate", _evaluate_mistakes, trained, tmp_path,
                            {"stale": [f"--workdir={stale}", "--num_samples=32"]})
    code, stderr = results["stale"]
    assert code == 0, stderr
    assert re.search(rf"using step 2 \({stale}/checkpoints/ckpt-2\), NOT the run's last step 4: the newer "
                     "checkpoints are unreadable or gone", stderr), stderr
    scored = json.loads((stale / "eval.json").read_text())
    assert scored["generator"] == {"step": 2, "checkpoint": f"{stale}/checkpoints/ckpt-2"}
    assert scored["num_samples"] == 32 and scored["fid"] > 0


def test_export_prints_only_our_lines_records_the_step_and_follows_the_umask(trained, tmp_path):
    out = tmp_path / "exp"
    done = subprocess.run([sys.executable, "-m", "tfgan_eff.export", f"--workdir={trained}", f"--out={out}",
                           "--modes=float32"], capture_output=True, text=True, env=ENV, timeout=600, check=False,
                          preexec_fn=lambda: os.umask(0o027))
    assert done.returncode == 0, done.stderr[-3000:]
    foreign = [line for line in done.stderr.splitlines() if line.strip() and not OUR_LOG_LINE.match(line)]
    assert not foreign, foreign  # no oneDNN / cpu_feature_guard / absl::InitializeLog / converter / XNNPACK lines
    report = json.loads((out / "report.json").read_text())
    source = {"step": 4, "checkpoint": f"{trained}/checkpoints/ckpt-4"}
    assert report["generator"]["source"] == source and set(report["artifacts"]) == {"saved_model", "float32"}
    assert inference.load_generator(out / "saved_model").source == {"saved_model": f"{out}/saved_model", **source}
    for folder, _, names in os.walk(out):  # umask 027: 750 and 640, as os.makedirs and open() give
        assert os.stat(folder).st_mode & 0o777 == 0o750, folder
        for name in names:
            assert os.stat(os.path.join(folder, name)).st_mode & 0o777 == 0o640, name
