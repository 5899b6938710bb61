"""Turns benchmark rows into the results JSON (rows + derived checks) and the Markdown report."""

import json
import os

from benchmarks.flops import APPROXIMATION, fraction_of_peak
from benchmarks.settings import PROFILE_TASKS

# (check name, numerator task, denominator task, target ratio or None, what the target comes from)
CHECKS = (
    ("DGL stage 2 / stage 1 step time", "dgl_stage2", "dgl_stage1", 1.4, "issue 5"),
    ("sparse static masked / dense step time", "sparse_static", "sparse_dense", 1.15, "issue 6"),
    ("sparse dynamic masked / dense step time", "sparse_dynamic", "sparse_dense", 1.15, "issue 6"),
    ("one drop/grow update / one sparse step", "sparse_update", "sparse_dynamic", 1.0, "issue 6"),
    ("search supernet / derived net D+G step time", "search_supernet", "search_derived", None, "issue 7"),
    ("TF / PyTorch SNGAN step time", "baseline_sngan", "torch_sngan", None, "issue 8"),
    ("TF (XLA) / PyTorch SNGAN step time", "baseline_sngan+xla", "torch_sngan", None, "issue 8"),
    ("TF / PyTorch SNGAN step time, 1 thread each", "baseline_sngan+1t", "torch_sngan+1t", None, "issue 8"),
)
MIB = 2 ** 20
# (info key, label) shown in the "sizes" column, in order.
_SIZE_KEYS = (("g_arch", "G"), ("g_ch", "G ch"), ("d_arch", "D"), ("d_ch", "D ch"), ("resolution", "px"),
              ("batch", "B"), ("g_batch", "G batch"), ("n_critic", "n_critic"), ("g_density", "d_G"),
              ("inner_steps", "inner"), ("worst_steps", "worst"), ("arch_steps", "arch"))


def _ok(rows):
    return {r["task"]: r for r in rows if r.get("status") == "ok" and "median_s" in r}


def _borrow_twin_flops(rows):
    """PyTorch rows get the FLOPs of the TF SNGAN row when both networks have the same parameter counts (the
    same layers), so their fraction of peak is comparable; otherwise they stay without."""
    twin = next((r for r in rows if r.get("task") == "baseline_sngan" and r.get("status") == "ok"), None)
    if not twin or not twin.get("flops_per_step"):
        return
    for row in rows:
        if row.get("task", "").startswith("torch_sngan") and row.get("status") == "ok" and \
                (row.get("g_params"), row.get("d_params")) == (twin["info"]["g_params"], twin["info"]["d_params"]):
            row["flops_per_step"] = twin["flops_per_step"]
            row["flops_note"] = "from the TF SNGAN row (same parameter counts)"


def derive(rows):
    """Adds GFLOP/s and fraction of peak to each timed row; returns (machine row, checks, variants), where a
    variant is a row with options (+xla, +1t, ...) next to the plain row of the same case."""
    machine = next((r for r in rows if r.get("task") == "machine" and r.get("status") == "ok"), {})
    _borrow_twin_flops(rows)
    for row in rows:
        if row.get("status") == "ok" and row.get("flops_per_step"):
            # mixed_bfloat16 rows are measured against the bfloat16 matmul peak
            peak = "tf_matmul_bf16_gflops" if (row.get("info") or {}).get("precision") == "mixed_bfloat16" \
                else "tf_matmul_gflops"
            row["gflops_per_s"], row["fraction_of_peak"] = fraction_of_peak(
                row["flops_per_step"], row["median_s"], machine.get(peak))
            row["gflops_per_cpu_s"], row["fraction_of_cpu_peak"] = fraction_of_peak(
                row["flops_per_step"], row.get("median_cpu_s"), machine.get(peak + "_per_cpu_s"))
    timed = _ok(rows)
    checks = []
    for name, num, den, target, source in CHECKS:
        if num in timed and den in timed:
            a, b = timed[num], timed[den]
            ratio = a["median_s"] / b["median_s"]
            cpu_ratio = _cpu_ratio(a, b)
            judged = cpu_ratio if cpu_ratio is not None else ratio  # CPU time: robust on a shared machine
            checks.append(dict(check=name, ratio=ratio, cpu_ratio=cpu_ratio, target=target, source=source,
                               meets_target=None if target is None else judged <= target,
                               numerator_s=a["median_s"], denominator_s=b["median_s"]))
        else:
            missing = [t for t in (num, den) if t not in timed]
            checks.append(dict(check=name, ratio=None, target=target, source=source,
                               missing=f"not measured: {', '.join(missing)}"))
    variants = []
    for task, row in timed.items():
        base, _, options = task.partition("+")
        if options and base in timed:
            plain = timed[base]
            variants.append(dict(case=base, variant=options, plain_s=plain["median_s"], variant_s=row["median_s"],
                                 speedup=plain["median_s"] / row["median_s"], cpu_ratio=_cpu_ratio(row, plain)))
    return machine, checks, variants


def _cpu_ratio(a, b):
    """Process CPU time per step of row a over row b (None when either lacks it)."""
    if a.get("median_cpu_s") and b.get("median_cpu_s"):
        return a["median_cpu_s"] / b["median_cpu_s"]
    return None


def write_json(path, payload):
    """Writes `payload` as indented JSON, atomically."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(payload, f, indent=1, default=str)
    os.replace(tmp, path)


def _fmt(value, spec, scale=1.0):
    return "-" if value is None else format(value * scale, spec)


def _table(header, lines):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in line) + " |" for line in lines]
    return out


def _machine_section(machine, meta):
    load_b, load_a = meta.get("load_before"), meta.get("load_after")
    pk = machine.get("packages", {})
    lines = [
        f"# Benchmarks on `{machine.get('machine_id', meta.get('machine_id'))}`", "",
        f"- CPU: {machine.get('cpu_model')} x {machine.get('cores')} cores ({machine.get('cpu_mhz')} MHz, "
        f"cache {machine.get('cache')}, SIMD {', '.join(machine.get('simd', [])) or '-'}), "
        f"{machine.get('memory_gib')} GiB RAM; GPUs: {', '.join(machine.get('gpus', [])) or 'none'}",
        f"- OS: {machine.get('platform')}; Python {machine.get('python')}; "
        + ", ".join(f"{k} {v}" for k, v in pk.items()),
        f"- Measured dense matmul peaks ({machine.get('matmul_n')}^2, best of {machine.get('matmul_repeats')}):"
        f" TF float32 {_fmt(machine.get('tf_matmul_gflops'), '.1f')} GFLOP/s wall "
        f"({_fmt(machine.get('tf_matmul_gflops_per_cpu_s'), '.1f')} GFLOP per CPU-second), NumPy "
        f"{_fmt(machine.get('numpy_matmul_gflops'), '.1f')} GFLOP/s ("
        f"{_fmt(machine.get('numpy_matmul_gflops_per_cpu_s'), '.1f')} per CPU-second); TF bfloat16 "
        f"{_fmt(machine.get('tf_matmul_bf16_gflops'), '.1f')} GFLOP/s wall "
        f"({_fmt(machine.get('tf_matmul_bf16_gflops_per_cpu_s'), '.1f')} per CPU-second). The TF figures are the "
        "peaks below (bfloat16 for [mixed bf16] rows, float32 for the others): 'of peak' = GFLOP/s of the step over "
        "TF's GFLOP/s (both wall time, both disturbed by other processes); 'of CPU peak' = GFLOP per CPU-second of "
        "the step over TF matmul's GFLOP per CPU-second (how well the cores are used while they run our step, "
        "robust on a shared machine)",
        f"- Load average (1/5/15 min) before: {load_b}, after: {load_a} on {machine.get('cores')} cores"
        + (" - the machine was shared: timings are noisy" if load_b and load_b[0] > 0.5 * (machine.get('cores') or 1)
           else ""),
        f"- Run: {meta.get('started')} ({meta.get('wall_s', 0):.0f} s), "
        f"mode {'--quick (toy sizes)' if meta.get('quick') else 'full'}"
        f"; {'each task in its own subprocess' if meta.get('isolated') else 'all tasks in one process'}; "
        f"{meta.get('protocol')}"]
    if meta.get("reused"):
        old = meta["reused"]
        lines.append(f"- Rows not rerun now come from the run of {old['started']} ({old.get('wall_s') or 0:.0f} s, "
                     f"load before {old.get('load_before')}, after {old.get('load_after')})")
    return lines + [""]


def _step_section(rows):
    lines = []
    for r in rows:
        if r.get("status") != "ok" or "median_s" not in r:
            continue
        info = r.get("info", {})
        shape = ", ".join(f"{label} {info[key]}" for key, label in _SIZE_KEYS if info.get(key) is not None)
        lines.append([r["name"], shape, _fmt(r["median_s"], ".1f", 1e3), _fmt(r.get("median_cpu_s"), ".1f", 1e3),
                      _fmt(r.get("steps_per_s"), ".2f"),
                      _fmt(r.get("images_per_s"), ".0f"), _fmt(r.get("flops_per_step"), ".2f", 1e-9),
                      _fmt(r.get("gflops_per_s"), ".1f"), _fmt(r.get("fraction_of_peak"), ".0%"),
                      _fmt(r.get("gflops_per_cpu_s"), ".1f"), _fmt(r.get("fraction_of_cpu_peak"), ".0%"),
                      _fmt(r.get("tf_peak_bytes"), ".0f", 1 / MIB), _fmt(r.get("vm_hwm_kib"), ".0f", 1 / 1024),
                      _fmt(r.get("first_call_s"), ".1f")])
    header = ["row", "sizes", "ms/step (median)", "CPU ms/step", "steps/s", "images/s", "GFLOP/step", "GFLOP/s",
              "of peak", "GFLOP/CPU-s", "of CPU peak", "TF alloc peak MiB", "process peak RSS MiB",
              "first call s (trace+compile)"]
    return ["## Training steps", "", *_table(header, lines), "",
            f"FLOPs: {APPROXIMATION}. images/s counts real images seen by D (n_critic x batch per step). "
            "'CPU ms/step' = process CPU time (all threads) per step, less disturbed by other processes than wall "
            "time; CPU / wall ~ the cores kept busy. "
            "'TF alloc peak' = tf.config.experimental.get_memory_info('CPU:0') peak over the timed steps; "
            "'process peak RSS' = VmHWM of the row's own process (TF import, build and tracing included).", ""]


def _checks_section(checks, variants):
    lines = []
    for c in checks:
        verdict = c.get("missing") or ("-" if c["target"] is None else ("meets" if c["meets_target"] else "MISSES"))
        lines.append([c["check"], _fmt(c.get("ratio"), ".2f"), _fmt(c.get("cpu_ratio"), ".2f"),
                      "-" if c["target"] is None else f"<= {c['target']}", c["source"], verdict])
    out = ["## Ratios asked for by the issues", "",
           *_table(["ratio (step time)", "wall", "CPU", "target", "from", "verdict"], lines), "",
           "Rows are timed in separate processes at different moments, so on a shared machine their wall-time ratio "
           "mixes in load changes; the verdict uses the CPU-time ratio (wall when a row has no CPU time).", ""]
    if variants:
        out += ["## Variants of the same step (XLA = trainer.compile(jit_compile=True); threads; oneDNN)", "",
                *_table(["case", "variant", "plain ms", "variant ms", "speed-up (plain/variant)",
                         "CPU time variant/plain"],
                        [[v["case"], v["variant"], _fmt(v["plain_s"], ".1f", 1e3), _fmt(v["variant_s"], ".1f", 1e3),
                          _fmt(v["speedup"], ".2f"), _fmt(v["cpu_ratio"], ".2f")] for v in variants]), ""]
    return out


def _export_section(rows):
    lines = []
    for r in rows:
        if r.get("task") != "export" or r.get("status") != "ok":
            continue
        lines.append([r["name"], f"{r['g_params']:,}", _fmt(r.get("g_forward_flops"), ".1f", 1e-6),
                      _fmt(r.get("keras_ms_per_image"), ".2f"), _fmt(r.get("float32_bytes"), ".0f", 1 / 1024),
                      _fmt(r.get("float32_gzip_bytes"), ".0f", 1 / 1024), _fmt(r.get("float32_ms_per_image"), ".2f"),
                      _fmt(r.get("dynamic_int8_bytes"), ".0f", 1 / 1024),
                      _fmt(r.get("dynamic_int8_ms_per_image"), ".2f")])
    if not lines:
        return []
    header = ["generator", "params", "MFLOPs/image", "Keras ms/image", "TFLite f32 KiB", "f32 gzip KiB",
              "LiteRT f32 ms/image", "dyn-int8 KiB", "LiteRT dyn-int8 ms/image"]
    return ["## Exported generators (batch 1)", "", *_table(header, lines), "",
            "Untrained generators (speed and size do not depend on the weights). LiteRT: 1 thread, default XNNPACK "
            "delegate, median of the timed invokes; Keras: tf.function, all threads.", ""]


def _problems_section(rows):
    lines = [f"- {r.get('name', r['task'])}: **{r['status']}** - {r.get('reason', '')}" for r in rows
             if r.get("status") in ("skipped", "error")]
    return ["## Skipped or failed rows", "", *lines, ""] if lines else []


def _profile_section(rows):
    prof = [r for r in rows if r.get("task") in PROFILE_TASKS]
    if not prof:
        return []
    breakdowns = [r for r in prof if r.get("breakdown")]
    prof = [r for r in prof if not r.get("breakdown")]
    lines = [[r["experiment"], r.get("baseline_label", "before"), _fmt(r.get("before"), ".2f"),
              _fmt(r.get("cpu_before"), ".2f"), r.get("variant_label", "after"), _fmt(r.get("after"), ".2f"),
              _fmt(r.get("cpu_after"), ".2f"), r.get("unit", ""), _fmt(r.get("change"), "+.0%"),
              _fmt(r.get("cpu_change"), "+.0%"), r.get("verdict", "-")] for r in prof if r.get("status") == "ok"]
    lines += [[r["experiment"]] + ["-"] * 9 + [f"{r['status']}: {r.get('reason', '')}"] for r in prof
              if r.get("status") != "ok"]
    header = ["experiment", "before", "wall", "CPU", "after", "wall", "CPU", "unit", "wall change", "CPU change",
              "verdict"]
    out = ["## Where the time goes (profiling: baseline step, model build) and proposed changes", ""]
    for r in breakdowns:
        out += [f"{r['experiment']} (TF profiler, share of op time):", "",
                *_table(["kind of op", "share"], [[k, f"{v:.1%}"] for k, v in r["breakdown"].items()]), ""]
    out += ["Before/after pairs are built side by side and timed interleaved (A, B, A, B, ...); 'CPU' is process CPU "
           "time (all threads), which other processes on a shared machine disturb less than wall time.", "",
           *_table(header, lines), ""]
    out += [f"- **{r['experiment']}**: {r['finding']}" for r in prof if r.get("finding")]
    return out + [""]


def markdown(rows, meta):
    """The report as Markdown: machine first, then steps, ratios, XLA, exports, profiling, problems."""
    machine, checks, variants = derive(rows)
    parts = _machine_section(machine, meta)
    timed = [r for r in rows if r.get("status") == "ok" and r.get("median_cpu_s") and "1t" not in r.get("options", [])
             and not r.get("task", "").endswith("+1t")]
    if timed:
        cores = sum(r["median_cpu_s"] for r in timed) / sum(r["median_s"] for r in timed)
        parts[-1:-1] = [f"- Cores the multi-threaded rows actually got: {cores:.2f} of {machine.get('cores')} "
                        "(their CPU time / wall time; other processes took the rest)"]
    parts += _step_section(rows) + _checks_section(checks, variants)
    parts += _export_section(rows) + _profile_section(rows) + _problems_section(rows)
    return "\n".join(parts)
