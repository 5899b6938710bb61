"""Runs one benchmark task in this process and returns its rows (tools/benchmark.py runs each task in its own
subprocess, so the process peak RSS of a row is that row's own)."""

import os
import time
import traceback

from benchmarks import machine, settings
from benchmarks.timing import reset_tf_peak, tf_peak_bytes, time_calls, vm_hwm_kib, with_rates

# Task suffixes: +xla = trainer.compile(jit_compile=True); +1t = one thread (TF intra/inter-op, torch);
# +i1 = one TF inter-op thread (intra-op unchanged); +op1 = one TF thread per op (intra-op 1, inter-op unchanged: how
# the search preset runs, train.intra_op_threads=1); +eigen = TF_ENABLE_ONEDNN_OPTS=0 (Eigen kernels, not oneDNN);
# +bf16 = train.precision=mixed_bfloat16 (bfloat16 compute, float32 variables).
OPTIONS = ("xla", "bf16", "1t", "i1", "op1", "eigen")
# Options that must be set before TensorFlow runs anything (so they need a fresh process: --isolate).
PROCESS_OPTIONS = ("1t", "i1", "op1", "eigen")
LABELS = {"xla": "XLA", "bf16": "mixed bf16", "1t": "1 thread", "i1": "1 inter-op thread", "op1": "1 thread per op",
          "eigen": "oneDNN off"}


def parse_task(task):
    """'baseline_sngan+xla+1t' -> ('baseline_sngan', {'xla', '1t'}); unknown suffixes are an error."""
    base, *options = task.split("+")
    unknown = [o for o in options if o not in OPTIONS]
    if unknown:
        raise ValueError(f"unknown task option(s) {unknown} in {task!r}; options are {OPTIONS}")
    return base, set(options)


def label(options):
    """' [XLA, 1 thread]' for a row name ('' without options), in OPTIONS order."""
    names = [LABELS[o] for o in OPTIONS if o in options]
    return f" [{', '.join(names)}]" if names else ""


def needs_fresh_process(task):
    """Whether `task` sets up its process before TensorFlow runs (thread / kernel options, logical CPUs), so that it
    can only run in a subprocess of its own (--isolate)."""
    base, options = parse_task(task)
    return bool(set(PROCESS_OPTIONS) & options) or base in settings.LOGICAL_CPUS


def apply_process_options(options, logical_cpus=1):
    """Sets the thread / kernel-library options of this process and splits its CPU into `logical_cpus` devices;
    must run before TF executes anything."""
    if "eigen" in options:
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"  # read when TensorFlow is imported
    if logical_cpus > 1:
        from tfgan_eff.training.strategy import split_cpu

        split_cpu(logical_cpus)
    if not {"1t", "i1", "op1"} & options:
        return
    from tfgan_eff.training.strategy import set_threads

    # 0 leaves a pool at TF's default, as train.intra_op_threads / inter_op_threads do.
    set_threads(intra_op=1 if {"1t", "op1"} & options else 0, inter_op=1 if {"1t", "i1"} & options else 0)
    if "1t" in options:
        try:
            import torch
        except ImportError:
            return
        torch.set_num_threads(1)


def _machine_row(task, quick):
    """The machine description and its measured matmul peaks (TF, NumPy and PyTorch; float32 and bfloat16), each
    the best over several sizes and repeats; `machine_end` measures the peaks again at the end of a run."""
    sizes, repeats = ((256, 512), 2) if quick else ((1024, 2048, 3072), 5)
    return dict(machine.describe(machine.gpu_names()), task=task, status="ok", measured_at=machine.now(),
                load=machine.load_average(), matmul_sizes=list(sizes), matmul_repeats=repeats,
                **machine.matmul_peaks(sizes, repeats))


def _case_row(name, quick):
    """Builds case `name` (options +xla: jit_compile=True, +bf16: mixed_bfloat16), warms it up and times it."""
    from benchmarks import configs
    from benchmarks.cases import CASES, Skipped

    base, options = parse_task(name)
    configs.set_precision("mixed_bfloat16" if "bf16" in options else "float32")
    row = dict(task=name, case=base, xla="xla" in options)
    t0 = time.perf_counter()
    try:
        case = CASES[base](quick, row["xla"])
    except Skipped as err:
        return dict(row, status="skipped", reason=str(err))
    build_s = time.perf_counter() - t0
    warmup, repeats = settings.timing_settings(quick)
    t1 = time.perf_counter()
    case.step()  # trace (and XLA-compile) + first run
    first_call_s = time.perf_counter() - t1
    rss_kib, tracked = vm_hwm_kib(), reset_tf_peak()
    stats = time_calls(case.step, max((warmup if case.warmup is None else case.warmup) - 1, 0), repeats)
    return dict(row, name=case.name + label(options), method=case.method, options=sorted(options), status="ok",
                xla=case.xla, build_s=build_s, first_call_s=first_call_s, **with_rates(stats, case.images_per_step),
                flops_per_step=case.flops_per_step, info=case.info, tf_peak_bytes=tf_peak_bytes() if tracked else None,
                hwm_before_timing_kib=rss_kib, vm_hwm_kib=vm_hwm_kib())


def _torch_row(task, quick):
    """The PyTorch SNGAN reference step timed alone; a 'skipped' row when torch is not installed."""
    row = dict(task=task, name="PyTorch SNGAN" + label(parse_task(task)[1]))
    try:
        from benchmarks import torch_sngan
    except ImportError as err:
        return dict(row, status="skipped",
                    reason=f"torch is not installed ({err}); pip install -e '.[bench]' (torch==2.13.0)")
    s = settings.sngan_settings(quick)
    step = torch_sngan.SNGANStep(s)
    t0 = time.perf_counter()
    stats = time_calls(step, *settings.timing_settings(quick))
    return dict(row, framework="pytorch", info=torch_sngan.describe(step), settings=s, method="baseline",
                status="ok", wall_s=time.perf_counter() - t0, **with_rates(stats, s["n_critic"] * s["batch"]),
                vm_hwm_kib=vm_hwm_kib())


def run_task(task, quick):
    """Rows of `task`; an exception becomes an 'error' row with its traceback's last line (never a number)."""
    try:
        base, options = parse_task(task)
        apply_process_options(options, settings.LOGICAL_CPUS.get(base, 1))
        if task in settings.MACHINE_TASKS:
            return [_machine_row(task, quick)]
        if base == "torch_sngan":
            return [_torch_row(task, quick)]
        if base in settings.INTERLEAVED_GROUPS:
            from benchmarks import interleave

            return interleave.run(task, base, quick, options, label(options))
        if task == "export":  # TFLite generators: size, LiteRT latency at batch 1
            from benchmarks.exports import export_rows

            return export_rows(quick, ("float32",) if quick else ("float32", "dynamic_int8", "full_int8"),
                               3 if quick else 200)
        if task in settings.PROFILE_TASKS:  # op time in the steps; model construction
            from benchmarks import profile

            return profile.build_experiments(quick) if task == "profile_build" else profile.run_all(quick)
        return [_case_row(task, quick)]
    except Exception as err:  # pylint: disable=broad-exception-caught
        # A failing row must not sink the report: it is recorded as an error with the reason.
        return [dict(task=task, name=task, status="error", reason=f"{type(err).__name__}: {err}".splitlines()[0],
                     traceback=traceback.format_exc()[-2000:])]
