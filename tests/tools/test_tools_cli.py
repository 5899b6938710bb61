"""tools/benchmark.py --quick and tools/reproduce.py --scale=quick end to end, in subprocesses (toy sizes).

Both run concurrently from one fixture: each is mostly TF start-up and tracing, single-threaded work that two
cores overlap well. The reproduction runs the sparse part at one density: four training jobs two at a time (each
its own `python -m tfgan_eff.train`), then one FID-curve job.
"""

import glob
import json
import os
import pathlib
import subprocess
import sys

import pytest

from tfgan_eff.files import read_json

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Runs both tools once; returns {tool: (return code, output dir, log)}."""
    base = tmp_path_factory.mktemp("tools")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    commands = {
        "benchmark": [sys.executable, os.path.join(ROOT, "tools", "benchmark.py"), "--quick",
                      "--tasks=baseline_dcgan,baseline_dcgan+bf16,baseline_sngan", f"--out={base / 'bench'}"],
        "reproduce": [sys.executable, os.path.join(ROOT, "tools", "reproduce.py"), "--scale=quick", "--seeds=0",
                      "--parts=sparse", "--densities=0.5", "--jobs=2", "--threads_per_run=1", f"--out={base / 'repro'}",
                      f"--workdir={base / 'repro_runs'}"],
    }
    # The two run side by side.
    procs = {name: subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)  # pylint: disable=consider-using-with
             for name, cmd in commands.items()}
    results = {}
    for name, proc in procs.items():
        log, _ = proc.communicate(timeout=600)
        results[name] = (proc.returncode, base / ("bench" if name == "benchmark" else "repro"), log)
    return results


def _only(pattern):
    found = glob.glob(pattern)
    assert len(found) == 1, f"expected one match of {pattern}, got {found}"
    return found[0]


def test_benchmark_quick_writes_json_and_markdown(outputs):
    code, out, log = outputs["benchmark"]
    assert code == 0, log[-3000:]
    results = read_json(_only(str(out / "*" / "benchmark_quick.json")))
    rows = {r["task"]: r for r in results["rows"]}
    mach = rows["machine"]
    assert mach["status"] == "ok" and mach["cores"] == os.cpu_count() and mach["cpu_model"]
    assert mach["tf_matmul_gflops"] > 0 and mach["numpy_matmul_gflops"] > 0 and mach["tf_matmul_bf16_gflops"] > 0
    assert os.path.basename(os.path.dirname(_only(str(out / "*" / "benchmark_quick.json")))) == mach["machine_id"]
    for task in ("baseline_dcgan", "baseline_sngan"):
        row = rows[task]
        assert row["status"] == "ok", row
        assert row["steps_per_s"] == pytest.approx(1 / row["median_s"])
        assert row["images_per_s"] == pytest.approx(row["images_per_step"] * row["steps_per_s"])
        assert row["flops_per_step"] > 0 and 0 < row["fraction_of_peak"]
        assert row["vm_hwm_kib"] > 0 and row["runs"] >= 1
        assert row["info"]["precision"] == "float32"
    assert rows["baseline_dcgan+bf16"]["info"]["precision"] == "mixed_bfloat16"
    text = pathlib.Path(_only(str(out / "*" / "benchmark_quick.md"))).read_text(encoding="utf-8")
    assert text.startswith(f"# Benchmarks on `{mach['machine_id']}`")
    assert mach["cpu_model"] in text and "Load average" in text and "matmul peak" in text
    assert "| baseline DCGAN |" in text and "| baseline SNGAN |" in text and "| baseline DCGAN [mixed bf16] |" in text


def test_reproduce_quick_runs_each_run_as_its_own_job_and_writes_table_and_plots(outputs):
    code, out, log = outputs["reproduce"]
    assert code == 0, log[-3000:]
    results = read_json(_only(str(out / "*" / "reproduce_quick" / "reproduce.json")))
    sparse = results["results"]["sparse"]
    # Every method is built: 'skipped' (a MethodNotAvailableError, e.g. a module that fails to import) is a failure.
    assert sparse["status"] == "ok", sparse
    points = {p["mode"]: p for p in sparse["seeds"][0]["points"]}
    assert sparse["seeds"][0]["finished"] >= results["meta"]["started"]  # ISO times sort as strings
    assert set(points) == {"dense", "static", "dynamic", "pruned"}
    assert [step for step, _ in points["dynamic"]["curve"]] == [1, 2, 3, 4]  # an FID point per kept checkpoint
    assert [step for step, _ in points["pruned"]["curve"]] == [1, 2, 3, 4]  # 2 dense steps, then 2 after pruning
    assert points["dynamic"]["curve"][-1][1] == points["dynamic"]["fid"]  # the last point is the final evaluation
    # Each job ran the training CLI with its own config: the pruned pipeline prunes the dense job's step-2
    # checkpoint and retrains it 2 steps, on 1 thread.
    runs = results["meta"]["workdir"]
    with open(os.path.join(runs, "sparse", "seed_0", "density_0.5", "method", "prune", "config.json"),
              encoding="utf-8") as f:
        prune = json.load(f)
    assert (prune["train"]["steps"], prune["sparse"]["prune_step"], prune["train"]["intra_op_threads"]) == (2, 2, 1)
    assert prune["sparse"]["prune_from"] == os.path.join(runs, "sparse", "seed_0", "dense")
    assert "[jobs] sparse/s0/d0.5/method: ran" in log
    text = pathlib.Path(_only(str(out / "*" / "reproduce_quick" / "reproduce.md"))).read_text(encoding="utf-8")
    assert "dynamic G FID < static FID at d_G=0.5" in text and "1 seed(s) done: [0]" in text
    assert "sparse G and D trained from scratch FID < dense pruned once and retrained at d_G=0.5" in text
    assert "## How the gaps evolve" in text
    try:
        import matplotlib  # noqa: F401  pylint: disable=unused-import
    except ImportError:  # plots need the optional `bench` extra; the report must say they were skipped
        assert sparse["plot"].startswith("skipped: matplotlib is not installed")
        return
    for name in ("sparse_fid_vs_density.png", "sparse_claim_curves.png"):
        assert f"]({name})" in text
        with open(_only(str(out / "*" / "reproduce_quick" / name)), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
