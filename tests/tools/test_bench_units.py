"""Pieces of the benchmark and reproduction tools: FLOPs model, ratios, machine id, task options, claims, cases."""

import os
import subprocess
import sys
import time

import pytest

from benchmarks import cases, configs, flops, machine, report, settings, timing
from benchmarks.worker import needs_fresh_process, parse_task
from tfgan_eff.search import genotype as genotype_lib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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
            _timed("baseline_sngan+xla", 5.0),
            _timed("torch_sngan", 2.0, info=dict(g_params=3, d_params=4), median_cpu_s=4.0),
            dict(task="sparse_dynamic", status="skipped", reason="not built"),
            _timed("search_supernet", 3.0, flops_per_step=30e9), _timed("search_derived", 1.0, flops_per_step=10e9)]
    _, checks, variants = report.derive(rows)
    by_name = {c["check"]: c for c in checks}
    dgl = by_name["DGL stage 2 / stage 1 step time"]
    assert dgl["ratio"] == pytest.approx(1.5) and dgl["meets_target"] is False
    assert dgl["flop_ratio"] is None  # stage 2 has no FLOP count
    search = by_name["search supernet / derived net D+G step time"]  # information only, beside its FLOP ratio
    assert search["target"] is None and search["meets_target"] is None and search["flop_ratio"] == pytest.approx(3.0)
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
    assert "CPU X x 2 cores" in text and "| baseline_dcgan |" in text and "tf_matmul (float32): 100.0" in text
    assert "DGL stage 2: **skipped** - tfgan_eff.distill is missing" in text
    assert "before: [1.0, 1.0, 1.0], after: [1.5, 1.0, 1.0]" in text


def test_time_interleaved_calls_in_turn_with_spread():
    calls = []
    stats = timing.time_interleaved([lambda: calls.append("a"), lambda: calls.append("b")], warmup=1, repeats=5)
    assert calls == ["a", "b"] * 6  # one warm-up round, then 5 timed rounds, A B A B ...
    for s in stats:
        assert s["runs"] == 5 and len(s["cpu_times_s"]) == 5
        assert s["min_s"] <= s["median_s"] <= s["max_s"] and s["min_cpu_s"] <= s["median_cpu_s"] <= s["max_cpu_s"]


def test_round_ratios_pair_rounds():
    a = dict(times_s=[2.0, 4.0, 3.0], cpu_times_s=[4.0, 4.0, 6.0])
    b = dict(times_s=[1.0, 4.0, 2.0], cpu_times_s=[2.0, 8.0, 3.0])
    out = timing.round_ratios(a, b)  # wall ratios 2, 1, 1.5; CPU ratios 2, 0.5, 2
    assert (out["ratio"], out["min_ratio"], out["max_ratio"]) == (1.5, 1.0, 2.0)
    assert (out["cpu_ratio"], out["min_cpu_ratio"], out["max_cpu_ratio"]) == (2.0, 0.5, 2.0)


def test_peaks_best_over_sizes_higher_of_runs_and_libraries():
    # wall GFLOP/s is best at n=2, per CPU-second at n=1: each figure keeps its own best size
    best = machine.best_over_sizes(lambda n, r: {1: (10.0, 9.0), 2: (12.0, 5.0)}[n], (1, 2), 3)
    assert (best["gflops"], best["n"], best["gflops_per_cpu_s"], best["cpu_n"]) == (12.0, 2, 9.0, 1)
    start = dict(task="machine", cores=2, tf_matmul_gflops=190.0, numpy_matmul_gflops=200.0,
                 tf_matmul_bf16_gflops=400.0)
    end = dict(task="machine_end", cores=2, tf_matmul_gflops=210.0, numpy_matmul_gflops=150.0,
               tf_matmul_bf16_gflops=380.0)
    merged = machine.higher_peaks([start, end])
    assert (merged["tf_matmul_gflops"], merged["numpy_matmul_gflops"], merged["tf_matmul_bf16_gflops"]) == \
        (210.0, 200.0, 400.0)
    assert merged["peak_from"]["tf_matmul_gflops"] == "machine_end" and merged["task"] == "machine"
    assert machine.best_peak(merged) == (210.0, "tf_matmul_gflops")
    assert machine.best_peak(dict(merged, torch_matmul_gflops=300.0)) == (300.0, "torch_matmul_gflops")
    assert machine.best_peak(merged, "bfloat16") == (400.0, "tf_matmul_bf16_gflops")
    assert machine.best_peak({}, per_cpu_s=True) == (None, None)


def test_run_order_and_fresh_processes():
    assert settings.run_order(["interleaved", "export"]) == ["machine", *settings.INTERLEAVED, "export",
                                                             "machine_end"]
    assert settings.run_order(["machine", "baseline_sngan"]) == ["machine", "baseline_sngan", "machine_end"]
    assert needs_fresh_process("mirrored") and needs_fresh_process("versus+1t")
    assert not needs_fresh_process("pairs") and not needs_fresh_process("versus")
    assert needs_fresh_process("pairs+op1")


def test_op1_sets_one_thread_per_op_and_leaves_the_inter_op_pool():
    code = ("from benchmarks.worker import apply_process_options; apply_process_options({'op1'}); "
            "import tensorflow as tf; t = tf.config.threading; "
            "print(t.get_intra_op_parallelism_threads(), t.get_inter_op_parallelism_threads())")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split()[-2:] == ["1", "0"]  # 0 = TF's default


def _member(group, member, wall, cpu, **extra):
    return dict(task=f"{group}:{member}", member=member, group=group, name=member, status="ok",
                median_s=sorted(wall)[1], min_s=min(wall), max_s=max(wall), times_s=wall, median_cpu_s=sorted(cpu)[1],
                min_cpu_s=min(cpu), max_cpu_s=max(cpu), cpu_times_s=cpu, **extra)


def test_interleaved_groups_claim_against_best_torch_config():
    params = dict(g_params=3, d_params=4)
    tf = settings.torch_member  # member names of the PyTorch configurations
    rows = [dict(task="machine", status="ok", machine_id="cpu-x-2c", cores=2, tf_matmul_gflops=100.0,
                 tf_matmul_gflops_per_cpu_s=50.0),
            dict(task="versus", kind="group", status="ok", started="t0", load_before=[2.0, 2.0, 2.0],
                 load_after=[3.0, 2.0, 2.0], warmup=1, rounds=3, wall_s=9.0),
            _member("versus", "baseline_sngan", [2.2, 3.3, 2.6], [4.0, 5.0, 4.5], flops_per_step=100e9,
                    info=params),
            _member("versus", tf("eager"), [4.0, 6.0, 5.0], [8.0, 9.0, 8.5], info=params),
            _member("versus", tf("channels_last"), [2.0, 3.0, 2.4], [5.0, 5.5, 4.0], info=params),
            dict(task=f"versus:{tf('compiled G and D')}", member=tf("compiled G and D"), group="versus",
                 name="compiled", status="error", reason="RuntimeError: in-place"),
            _member("pairs", "dgl_stage1", [1.0, 1.0, 1.0], [2.0, 2.0, 2.0], flops_per_step=4e9),
            _member("pairs", "dgl_stage2", [1.2, 1.5, 1.1], [2.4, 2.2, 2.6], flops_per_step=5e9),
            dict(task="pairs", kind="group", status="ok", started="t1", warmup=1, rounds=3)]
    groups = {g["task"]: g for g in report.interleaved(rows)}
    claim, = groups["versus"]["claims"]
    assert claim["label"] == "SNGAN step"
    # channels_last has the lowest medians (2.4 s wall, 5.0 CPU-s); ratios round by round: wall 1.1, 1.1, 2.6 / 2.4,
    # CPU 0.8, 5 / 5.5, 4.5 / 4: TF is cheaper in CPU time but slower in wall time, so it misses the goal
    assert claim["best_wall"] == claim["best_cpu"] == tf("channels_last")
    assert claim["ratio"] == pytest.approx(1.1) and claim["min_ratio"] == pytest.approx(2.6 / 2.4)
    assert claim["cpu_ratio"] == pytest.approx(5 / 5.5) and claim["max_cpu_ratio"] == pytest.approx(4.5 / 4)
    assert claim["meets_goal"] is False
    checks = {c["check"]: c for c in groups["versus"]["comparisons"]}
    assert checks["TF / PyTorch [eager] SNGAN step"]["ratio"] == pytest.approx(0.55)
    assert len(checks) == 2  # the failed configuration has no ratio
    dgl = groups["pairs"]["comparisons"][0]
    assert dgl["check"] == "DGL stage 2 / stage 1 step time" and dgl["ratio"] == pytest.approx(1.2)
    assert dgl["meets_target"] is True  # 1.2 wall and 1.2 CPU <= 1.4
    assert dgl["flop_ratio"] == pytest.approx(1.25)
    text = report.markdown(rows, dict(load_before=[1.0, 1.0, 1.0], load_after=[1.0, 1.0, 1.0], quick=False,
                                      started="t0", wall_s=10.0, protocol="p", isolated=True))
    assert "### `versus`: t0, 3 timed rounds in 9 s (after 1 warm-up rounds)" in text
    assert "[2.0, 2.0, 2.0] -> [3.0, 2.0, 2.0]" in text
    assert "| compiled | error: RuntimeError: in-place |" in text
    assert "MISSES the goal" in text and "with `versus`" in text
    assert "| DGL stage 2 / stage 1 step time | 1.20 (1.10-1.50) | 1.20 (1.10-1.30) | 1.25 | <= 1.4 |" in text
    # the PyTorch rows borrow the TF row's FLOPs (same parameter counts): 100 GFLOP in 2.6 s against 100 GFLOP/s
    assert rows[2]["fraction_of_peak"] == pytest.approx(1 / 2.6) and rows[4]["flops_per_step"] == 100e9


def test_alphagan_peers_get_their_own_claims_and_borrow_their_twins_flops():
    params = dict(g_params=5, d_params=6)
    torch_search, torch_derived = (lambda c: settings.torch_member(c, "torch_search"),
                                   lambda c: settings.torch_member(c, "torch_derived"))
    rows = [dict(task="machine", status="ok", tf_matmul_gflops=100.0, tf_matmul_gflops_per_cpu_s=50.0),
            dict(task="alphagan", kind="group", status="ok", started="t0", warmup=0, rounds=3, wall_s=1.0),
            _member("alphagan", "search_step", [4.0, 4.0, 4.0], [4.0, 4.0, 4.0], flops_per_step=40e9, info=params),
            _member("alphagan", torch_search("eager"), [8.0, 8.0, 8.0], [8.0, 8.0, 8.0], info=params),
            _member("alphagan", torch_search("fused"), [5.0, 5.0, 5.0], [5.0, 5.0, 5.0], info=dict(g_params=1)),
            _member("alphagan", "search_derived", [1.0, 1.0, 1.0], [1.0, 1.0, 1.0], flops_per_step=2e9),
            _member("alphagan", torch_derived("eager"), [0.5, 0.5, 0.5], [0.8, 0.8, 0.8])]
    groups = report.interleaved(rows)
    assert len(groups) == 1
    claims = {c["label"]: c for c in groups[0]["claims"]}
    assert set(claims) == {"alphaGAN search step", "alphaGAN derived-net step"}  # no SNGAN rows: no SNGAN claim
    search, derived = claims["alphaGAN search step"], claims["alphaGAN derived-net step"]
    assert search["best_wall"] == torch_search("fused") and search["ratio"] == pytest.approx(0.8)
    assert search["meets_goal"] is True
    assert derived["ratio"] == pytest.approx(2.0) and derived["cpu_ratio"] == pytest.approx(1.25)
    assert derived["meets_goal"] is False
    report.derive(rows)
    assert rows[3]["flops_per_step"] == 40e9  # same parameter counts as the TF search step
    assert "flops_per_step" not in rows[4]  # another network (parameter counts differ): no FLOPs borrowed
    text = report.markdown(rows, dict(load_before=[1.0, 1.0, 1.0], load_after=[1.0, 1.0, 1.0], quick=False,
                                      started="t0", wall_s=1.0, protocol="p", isolated=True))
    assert "**alphaGAN derived-net step, TF / best PyTorch configuration: wall 2.00" in text


def test_build_experiment_times_keras_traced_build_against_first_call_build(symbolic_traces):
    from benchmarks import profile
    from tfgan_eff.config import presets
    from tfgan_eff.models import registry
    from tfgan_eff.ops.eager_build import BuildOnFirstCall

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


def test_op_type_strips_onednn_prefixes_and_marks_gradients():
    from benchmarks.profile import op_type  # imports TensorFlow

    assert op_type("g/sep_conv_3x3/depthwise", "_MklNativeDepthwiseConv2dNative") == "DepthwiseConv2dNative"
    assert op_type("gradient_tape/g/conv/Conv2DBackpropFilter", "_MklNativeConv2DBackpropFilter") == \
        "Conv2DBackpropFilter (gradient)"
    # custom gradients (tfgan_eff/ops/depthwise.py, the reflect pad) name their scopes '..._gradient', made unique
    assert op_type("depthwise_gradient_14/DepthwiseConv2dNativeBackpropInput",
                   "_MklNativeDepthwiseConv2dNativeBackpropInput") == "DepthwiseConv2dNativeBackpropInput (gradient)"
    assert op_type("reflect_pad_gradient/Slice", "Slice") == "Slice (gradient)"


def test_screen_keeps_non_alternatives_and_near_best_alternatives():
    from benchmarks.interleave import screen  # imports TensorFlow

    names = ["tf", "torch[a]", "torch[b]", "torch[c]", "torch[d]"]
    costs = [(50.0, 50.0), (2.0, 4.0), (3.9, 9.0), (5.0, 7.9), (4.5, 8.5)]  # tf is never screened out
    assert screen(names, costs, ("torch",), 2.0) == ["tf", "torch[a]", "torch[b]", "torch[c]"]
    assert screen(names, costs, ()) == names
    # each prefix is its own set of alternatives: "other" is judged against "other" only
    names, costs = names + ["other[a]", "other[b]"], costs + [(40.0, 40.0), (90.0, 90.0)]
    assert screen(names, costs, ("torch", "other"), 2.0) == ["tf", "torch[a]", "torch[b]", "torch[c]", "other[a]"]


def _busy(seconds):
    """A step that keeps the CPU busy for `seconds` (so its wall and CPU time both scale with it)."""
    def step():
        end = time.process_time() + seconds
        while time.process_time() < end:
            pass
    return step


def test_interleave_run_screens_alternatives_and_keeps_member_order(monkeypatch):
    from benchmarks import interleave  # imports TensorFlow
    from benchmarks.cases import Case, Skipped

    def case(seconds):
        return lambda quick, xla: Case("n", "m", _busy(seconds), 1, None, {})

    def broken(quick, xla):
        raise RuntimeError("no compiler\nsecond line")

    def missing(quick, xla):
        raise Skipped("not installed")
    members = [("tf", case(0.002)), ("alt[fast]", case(0.002)), ("alt[broken]", broken), ("alt[slow]", case(0.05)),
               ("alt[missing]", missing)]
    monkeypatch.setitem(interleave.GROUPS, "g", lambda options: members)
    monkeypatch.setitem(interleave.SCREENED, "g", ("alt",))
    summary, *rows = interleave.run("g+1t", "g", quick=True, options={"1t"})
    assert [r["member"] for r in rows] == [m for m, _ in members]  # the group's order, whatever the status
    status = {r["member"]: r["status"] for r in rows}
    assert status == {"tf": "ok", "alt[fast]": "ok", "alt[broken]": "error", "alt[slow]": "screened out",
                      "alt[missing]": "skipped"}
    assert rows[2]["reason"] == "RuntimeError: no compiler" and rows[3]["screening_s"] >= 0.05
    assert summary["kind"] == "group" and summary["members"] == ["g+1t:tf", "g+1t:alt[fast]"]
    assert rows[0]["runs"] == summary["rounds"] and rows[0]["group"] == "g+1t" and rows[0]["options"] == ["1t"]


def test_search_derived_case_is_in_the_supernets_space_against_the_searchers_d():
    cfg = configs.preset("search", True)
    space = cfg.search
    derived, supernet = cases.search_derived_step(True, False), cases.search_supernet_step(True, False)
    generator = derived.owner.generator
    assert (generator.genotype.op_set, generator.genotype.padding) == (space.op_set, space.padding)
    assert (space.op_set, space.padding) != ("paper", "zero")  # else this test would not tell the spaces apart
    assert generator.genotype.normal == genotype_lib.ALPHAGAN_S.normal
    assert space.d_width != 1.0  # else this test would not tell the D widths apart
    assert derived.info["d_ch"] == supernet.info["d_ch"] == cases.registry.scaled_width(
        cfg.model.d.ch, cfg.model.d.width * space.d_width)
    assert derived.info["d_params"] == supernet.info["d_params"]  # the same D network
