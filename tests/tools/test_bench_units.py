"""Pure pieces of the benchmark and reproduction tools: FLOPs model, ratios, machine id, task options, claims."""

import pytest

from benchmarks import flops, machine, report, timing
from benchmarks.worker import parse_task


def test_gan_step_flops_counts_each_pass():
    # G 10, D 100 FLOPs per image; batch 4, G batch 8, 2 D steps, teacher D 50.
    # D step: G fwd 4*10 + 3*100*(4+4) = 2440; G step: 3*(10+100+50)*8 = 3840.
    assert flops.gan_step_flops(10, 100, 4, 8, 2, teacher_d_flops=50) == 2 * 2440 + 3840
    assert flops.search_d_plus_g_flops(10, 100, 4) == flops.gan_step_flops(10, 100, 4, 4, 1)


def test_fraction_of_peak():
    achieved, fraction = flops.fraction_of_peak(2e9, 0.5, 8.0)
    assert achieved == pytest.approx(4.0) and fraction == pytest.approx(0.5)
    assert flops.fraction_of_peak(None, 0.5, 8.0) == (None, None)


def test_machine_id_is_a_slug_with_cores():
    assert machine.slug("AMD EPYC 7B13 64-Core  Processor") == "amd-epyc-7b13-64-core-processor"
    ident = machine.machine_id()
    assert ident.endswith(f"-{machine.os.cpu_count()}c") and " " not in ident
    assert machine.machine_id(["NVIDIA A100-SXM4-40GB"]).endswith("-1gpu-nvidia-a100-sxm4-40gb")


def test_time_calls_counts_warmup_and_runs():
    calls = []
    stats = timing.time_calls(lambda: calls.append(1), warmup=2, repeats=3)
    assert len(calls) == 5 and stats["runs"] == 3 and stats["min_s"] <= stats["median_s"] <= stats["max_s"]
    with pytest.raises(ValueError):
        timing.time_calls(lambda: None, repeats=0)


def test_parse_task_options():
    assert parse_task("baseline_sngan+xla+1t") == ("baseline_sngan", {"xla", "1t"})
    assert parse_task("machine") == ("machine", set())
    with pytest.raises(ValueError, match="unknown task option"):
        parse_task("baseline_dcgan+fast")


def _timed(task, seconds, **extra):
    return dict(task=task, name=task, status="ok", median_s=seconds, **extra)


def test_derive_ratios_targets_and_peak():
    rows = [dict(task="machine", status="ok", tf_matmul_gflops=100.0),
            _timed("dgl_stage1", 1.0, flops_per_step=50e9), _timed("dgl_stage2", 1.5),
            _timed("sparse_dense", 2.0), _timed("sparse_static", 2.2),
            _timed("baseline_sngan", 4.0, flops_per_step=8e9, info=dict(g_params=3, d_params=4), median_cpu_s=6.0),
            _timed("baseline_sngan+xla", 5.0), _timed("torch_sngan", 2.0, g_params=3, d_params=4, median_cpu_s=4.0),
            dict(task="sparse_dynamic", status="skipped", reason="not built")]
    _, checks, variants = report.derive(rows)
    by_name = {c["check"]: c for c in checks}
    dgl = by_name["DGL stage 2 / stage 1 step time"]
    assert dgl["ratio"] == pytest.approx(1.5) and dgl["meets_target"] is False
    assert by_name["sparse static masked / dense step time"]["meets_target"] is True
    assert "sparse_dynamic" in by_name["sparse dynamic masked / dense step time"]["missing"]
    tf_torch = by_name["TF / PyTorch SNGAN step time"]
    assert tf_torch["ratio"] == pytest.approx(2.0) and tf_torch["cpu_ratio"] == pytest.approx(1.5)
    assert variants == [dict(case="baseline_sngan", variant="xla", plain_s=4.0, variant_s=5.0,
                             speedup=pytest.approx(0.8), cpu_ratio=None)]
    assert rows[1]["fraction_of_peak"] == pytest.approx(0.5)  # 50 GFLOP in 1 s against 100 GFLOP/s
    assert rows[7]["flops_per_step"] == 8e9  # the PyTorch twin borrows the TF SNGAN FLOPs (same params)


def test_markdown_describes_machine_and_problems():
    rows = [dict(task="machine", status="ok", machine_id="cpu-x-2c", cpu_model="CPU X", cores=2, gpus=[],
                 tf_matmul_gflops=100.0, packages={"keras": "3"}),
            _timed("baseline_dcgan", 0.1, images_per_step=64, steps_per_s=10.0, images_per_s=640.0),
            dict(task="dgl_stage2", name="DGL stage 2", status="skipped", reason="tfgan_eff.distill is missing")]
    text = report.markdown(rows, dict(load_before=[1.0, 1.0, 1.0], load_after=[1.5, 1.0, 1.0], quick=True,
                                      started="now", wall_s=1.0, protocol="p", isolated=False))
    assert text.startswith("# Benchmarks on `cpu-x-2c`")
    assert "CPU X x 2 cores" in text and "| baseline_dcgan |" in text and "100.0 GFLOP/s" in text
    assert "DGL stage 2: **skipped** - tfgan_eff.distill is missing" in text
    assert "before: [1.0, 1.0, 1.0], after: [1.5, 1.0, 1.0]" in text


def test_build_experiment_times_keras_traced_build_against_first_call_build(symbolic_traces):
    from benchmarks import profile  # pylint: disable=import-outside-toplevel
    from tfgan_eff.config import presets  # pylint: disable=import-outside-toplevel
    from tfgan_eff.models import registry  # pylint: disable=import-outside-toplevel
    from tfgan_eff.ops.eager_build import BuildOnFirstCall  # pylint: disable=import-outside-toplevel

    cfg = presets.smoke(presets.baseline())
    calls = []

    def build():
        calls.append(len(symbolic_traces))
        registry.build_generator(cfg)
        calls[-1] = len(symbolic_traces) - calls[-1]  # symbolic traces during this build
    original_build = BuildOnFirstCall.build
    row = profile.build_experiment("DCGAN G", build, quick=True)
    assert BuildOnFirstCall.build is original_build  # restored
    assert row["task"] == "profile_build" and row["status"] == "ok" and row["unit"] == "ms"
    assert row["before"] > 0 and row["after"] > 0 and isinstance(row["verdict"], str)
    # warm-up + 3 timed calls each, interleaved: the traced build traces, the first-call build never does
    assert len(calls) == 8 and all(n > 0 for n in calls[0::2]) and not any(calls[1::2])
