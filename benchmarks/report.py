"""Turns benchmark rows into the results JSON (rows + derived checks) and the Markdown report."""

from benchmarks.flops import APPROXIMATION, fraction_of_peak
from benchmarks.machine import PEAK_SOURCES, best_peak, higher_peaks
from benchmarks.settings import MACHINE_TASKS, PEERS, PROFILE_TASKS
from benchmarks.timing import round_ratios

# (check name, numerator task, denominator task, target ratio or None, why that target)
CHECKS = (
    ("DGL stage 2 / stage 1 step time", "dgl_stage2", "dgl_stage1", 1.4, "one extra D_T pass per G step"),
    ("sparse static masked / dense step time", "sparse_static", "sparse_dense", 1.15, "masks: one multiply a step"),
    ("sparse dynamic masked / dense step time", "sparse_dynamic", "sparse_dense", 1.15, "masks: one multiply a step"),
    ("one drop/grow update / one sparse step", "sparse_update", "sparse_dynamic", 1.0, "one G-loss gradient + top-k"),
    ("search supernet / derived net D+G step time", "search_supernet", "search_derived", None, "-"),
    ("retraining step: derived genotype / width-matched SNGAN-ResNet G", "retrain_derived", "retrain_sngan", 1.5,
     "a searched G trains at a hand-made G's cost"),
    ("TF / PyTorch SNGAN step time", "baseline_sngan", "torch_sngan", None, "-"),
    ("TF (XLA) / PyTorch SNGAN step time", "baseline_sngan+xla", "torch_sngan", None, "-"),
    ("TF / PyTorch SNGAN step time, 1 thread each", "baseline_sngan+1t", "torch_sngan+1t", None, "-"),
    ("MirroredStrategy on 2 logical CPUs / 1 device, same global batch", "mirrored_2", "one_device", None, "-"),
)
# The goal of the TF / PyTorch claim: TF's SNGAN step no slower than the best PyTorch configuration, at equal threads,
# in wall and CPU time.
GOAL = 1.0
MIB = 2 ** 20
# (info key, label) shown in the "sizes" column, in order.
_SIZE_KEYS = (("g_arch", "G"), ("g_ch", "G ch"), ("d_arch", "D"), ("d_ch", "D ch"), ("resolution", "px"),
              ("batch", "B"), ("g_batch", "G batch"), ("n_critic", "n_critic"), ("g_density", "d_G"),
              ("inner_steps", "inner"), ("worst_steps", "worst"), ("arch_steps", "arch"))


def _ok(rows):
    return {r["task"]: r for r in rows if r.get("status") == "ok" and "median_s" in r}


def _borrow_twin_flops(rows):
    """PyTorch rows get the FLOPs of their TF twin (settings.PEERS) timed with them (same group; else the plain row
    of that case) when both networks have the same parameter counts (the same layers), so their fraction of peak is
    comparable; otherwise they stay without."""
    for ours, prefix, _ in PEERS:
        twins = {r.get("group"): r for r in rows if r.get("status") == "ok" and r.get("flops_per_step") and
                 (r.get("member") or r.get("task")) == ours}
        for row in rows:
            twin = twins.get(row.get("group"))
            if twin and (row.get("member") or row.get("task", "")).startswith(prefix) and \
                    row.get("status") == "ok" and _params(row) == _params(twin):
                row["flops_per_step"] = twin["flops_per_step"]
                row["flops_note"] = f"from the TF {ours} row (same parameter counts)"


def _params(row):
    info = row.get("info") or {}
    return info.get("g_params"), info.get("d_params")


def machine_peaks(rows):
    """The machine row with the highest matmul peaks of all machine rows of the run (start and end)."""
    found = [r for r in rows if r.get("task") in MACHINE_TASKS and r.get("status") == "ok"]
    return higher_peaks(found) if found else {}


def derive(rows):
    """Adds GFLOP/s and fraction of peak to each timed row; returns (machine row, checks, variants), where a
    variant is a row with options (+xla, +1t, ...) next to the plain row of the same case."""
    machine = machine_peaks(rows)
    _borrow_twin_flops(rows)
    for row in rows:
        if row.get("status") == "ok" and row.get("flops_per_step") and row.get("median_s"):
            # mixed_bfloat16 rows are measured against the bfloat16 matmul peak
            dtype = "bfloat16" if (row.get("info") or {}).get("precision") == "mixed_bfloat16" else "float32"
            row["gflops_per_s"], row["fraction_of_peak"] = fraction_of_peak(
                row["flops_per_step"], row["median_s"], best_peak(machine, dtype)[0])
            row["gflops_per_cpu_s"], row["fraction_of_cpu_peak"] = fraction_of_peak(
                row["flops_per_step"], row.get("median_cpu_s"), best_peak(machine, dtype, per_cpu_s=True)[0])
    timed = _ok(rows)
    checks = []
    for name, num, den, target, source in CHECKS:
        if num in timed and den in timed:
            a, b = timed[num], timed[den]
            ratio = a["median_s"] / b["median_s"]
            cpu_ratio = _cpu_ratio(a, b)
            judged = cpu_ratio if cpu_ratio is not None else ratio  # CPU time: robust on a shared machine
            checks.append(dict(check=name, ratio=ratio, cpu_ratio=cpu_ratio, flop_ratio=flop_ratio(a, b),
                               target=target, source=source, meets_target=None if target is None else judged <= target,
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


def versus_best(tf_row, torch_rows):
    """TF's step against the best PyTorch configuration of the same group: the fastest in wall time and the
    cheapest in CPU time (medians; they may differ), each ratio taken round by round. Meets the goal when both
    median ratios are <= GOAL."""
    best_wall = min(torch_rows, key=lambda m: torch_rows[m]["median_s"])
    best_cpu = min(torch_rows, key=lambda m: torch_rows[m]["median_cpu_s"])
    wall, cpu = round_ratios(tf_row, torch_rows[best_wall]), round_ratios(tf_row, torch_rows[best_cpu])
    return dict(best_wall=best_wall, ratio=wall["ratio"], min_ratio=wall["min_ratio"], max_ratio=wall["max_ratio"],
                best_cpu=best_cpu, cpu_ratio=cpu["cpu_ratio"], min_cpu_ratio=cpu["min_cpu_ratio"],
                max_cpu_ratio=cpu["max_cpu_ratio"], goal=GOAL,
                meets_goal=wall["ratio"] <= GOAL and cpu["cpu_ratio"] <= GOAL)


def _comparison(name, a, b, target, source):
    ratios = round_ratios(a, b)
    meets = None if target is None else ratios["ratio"] <= target and ratios["cpu_ratio"] <= target
    return dict(check=name, target=target, source=source, meets_target=meets, flop_ratio=flop_ratio(a, b), **ratios)


def interleaved(rows):
    """One entry per interleaved group (benchmarks.interleave): its summary row plus the ratios between its members,
    taken round by round: the CHECKS whose two tasks are members and, for every step of settings.PEERS timed with
    its PyTorch peer, TF over every PyTorch configuration and the claim against the best (`versus_best`)."""
    out = []
    for summary in (r for r in rows if r.get("kind") == "group"):
        members = [r for r in rows if r.get("group") == summary["task"] and "member" in r]
        timed = {r["member"]: r for r in members if r.get("status") == "ok"}
        comparisons = [_comparison(name, timed[num], timed[den], target, source)
                       for name, num, den, target, source in CHECKS if num in timed and den in timed]
        claims = []
        for ours, prefix, label in PEERS:
            torch_rows = {m: r for m, r in timed.items() if m.startswith(prefix)}
            if ours in timed and torch_rows:
                comparisons += [_comparison(f"TF / PyTorch {m[len(prefix):]} {label}", timed[ours], r, None, "-")
                                for m, r in torch_rows.items()]
                claims.append(dict(versus_best(timed[ours], torch_rows), label=label))
        out.append(dict(summary, member_tasks=[r["task"] for r in members], comparisons=comparisons, claims=claims))
    return out


def _field_ratio(a, b, key):
    """a[key] / b[key] of two rows (None when either lacks the field)."""
    if a.get(key) and b.get(key):
        return a[key] / b[key]
    return None


def flop_ratio(a, b):
    """Counted FLOPs per step of row a over row b (None when either lacks them): the step-time ratio the two would
    have if both ran at the same fraction of peak, so a time target below it needs a to use the cores better than b."""
    return _field_ratio(a, b, "flops_per_step")


def _cpu_ratio(a, b):
    """Process CPU time per step of row a over row b (None when either lacks it)."""
    return _field_ratio(a, b, "median_cpu_s")


def _fmt(value, spec, scale=1.0):
    return "-" if value is None else format(value * scale, spec)


def table(header, lines):
    """A Markdown table as a list of lines (a '|' inside a cell is escaped: it would split the cell)."""
    def row(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"
    return [row(header), "|" + "|".join("---" for _ in header) + "|"] + [row(line) for line in lines]


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
        *_peak_lines(machine),
        f"- Load average (1/5/15 min) before: {load_b}, after: {load_a} on {machine.get('cores')} cores"
        + (" - the machine was shared: timings are noisy" if load_b and load_b[0] > 0.5 * (machine.get('cores') or 1)
           else ""),
        f"- Run: {meta.get('started')} ({meta.get('wall_s', 0):.0f} s), "
        f"mode {'--quick (toy sizes)' if meta.get('quick') else 'full'}"
        f"; {'each task in its own subprocess' if meta.get('isolated') else 'all tasks in one process'}; "
        f"{meta.get('protocol')}"]
    return lines + [""]


def _peak_lines(machine):
    """The matmul peaks of every library and dtype at the start and the end of the run, and the peak used."""
    lines = [f"- Dense matmul peaks (best of sizes {machine.get('matmul_sizes')}^2 x {machine.get('matmul_repeats')} "
             "repeats, measured at the start and at the end of the run; the higher of the two is kept), GFLOP/s wall "
             "(GFLOP per CPU-second):"]
    for prefix, _, dtype in PEAK_SOURCES:
        if machine.get(prefix + "_gflops") is None:
            reason = machine.get(prefix + "_error")
            lines.append(f"  - {prefix} ({dtype}): not measured" + (f" ({reason})" if reason else ""))
            continue
        when = (machine.get("peak_from") or {}).get(prefix + "_gflops", "machine")
        lines.append(f"  - {prefix} ({dtype}): {_fmt(machine.get(prefix + '_gflops'), '.1f')} "
                     f"({_fmt(machine.get(prefix + '_gflops_per_cpu_s'), '.1f')}), at {machine.get(prefix + '_n')}^2"
                     f", from `{when}`")
    f32, f32_key = best_peak(machine)
    bf16, bf16_key = best_peak(machine, "bfloat16")
    lines.append(f"  - 'of peak' = GFLOP/s of the step over the highest float32 peak above ({_fmt(f32, '.1f')}, "
                 f"{f32_key}; bfloat16 for [mixed bf16] rows: {_fmt(bf16, '.1f')}, {bf16_key}), both in wall time and "
                 "both disturbed by other processes; 'of CPU peak' = GFLOP per CPU-second of the step over the "
                 "highest GFLOP per CPU-second of the same dtype (how well the cores are used while they run the "
                 "step, robust on a shared machine)")
    return lines


# (header, row field, format, scale) of the columns of the training steps' and the exported generators' tables.
_STEP_COLUMNS = (("ms/step (median)", "median_s", ".1f", 1e3), ("CPU ms/step", "median_cpu_s", ".1f", 1e3),
                 ("steps/s", "steps_per_s", ".2f", 1), ("images/s", "images_per_s", ".0f", 1),
                 ("GFLOP/step", "flops_per_step", ".2f", 1e-9), ("GFLOP/s", "gflops_per_s", ".1f", 1),
                 ("of peak", "fraction_of_peak", ".0%", 1), ("GFLOP/CPU-s", "gflops_per_cpu_s", ".1f", 1),
                 ("of CPU peak", "fraction_of_cpu_peak", ".0%", 1),
                 ("TF alloc peak MiB", "tf_peak_bytes", ".0f", 1 / MIB),
                 ("process peak RSS MiB", "vm_hwm_kib", ".0f", 1 / 1024),
                 ("first call s (trace+compile)", "first_call_s", ".1f", 1))
_EXPORT_COLUMNS = (("MFLOPs/image", "g_forward_flops", ".1f", 1e-6), ("Keras ms/image", "keras_ms_per_image", ".2f", 1),
                   ("TFLite f32 KiB", "float32_bytes", ".0f", 1 / 1024),
                   ("f32 gzip KiB", "float32_gzip_bytes", ".0f", 1 / 1024),
                   ("LiteRT f32 ms/image", "float32_ms_per_image", ".2f", 1),
                   ("dyn-int8 KiB", "dynamic_int8_bytes", ".0f", 1 / 1024),
                   ("LiteRT dyn-int8 ms/image", "dynamic_int8_ms_per_image", ".2f", 1),
                   ("full-int8 gzip KiB", "full_int8_gzip_bytes", ".0f", 1 / 1024),
                   ("LiteRT full-int8 ms/image", "full_int8_ms_per_image", ".2f", 1))


def _cells(row, columns):
    return [_fmt(row.get(key), spec, scale) for _, key, spec, scale in columns]


def _step_section(rows):
    lines = [[r["name"], ", ".join(f"{label} {r['info'][key]}" for key, label in _SIZE_KEYS
                                   if r.get("info", {}).get(key) is not None),
              *_cells(r, _STEP_COLUMNS), f"with `{r['group']}`" if r.get("group") else "alone"]
             for r in rows if r.get("status") == "ok" and "median_s" in r]
    header = ["row", "sizes", *(c[0] for c in _STEP_COLUMNS), "timed"]
    return ["## Training steps", "", *table(header, lines), "",
            f"FLOPs: {APPROXIMATION}. images/s counts real images seen by D (n_critic x batch per step). "
            "'CPU ms/step' = process CPU time (all threads) per step, less disturbed by other processes than wall "
            "time; CPU / wall ~ the cores kept busy. "
            "'TF alloc peak' = tf.config.experimental.get_memory_info('CPU:0') peak over the timed steps; "
            "'process peak RSS' = VmHWM of the row's own process (TF import, build and tracing included).", ""]


def _spread(stats, key, scale=1.0, spec=".2f", median="{}"):
    """'median (min-max)' of statistics `median` (a format of `key`), min_<key> and max_<key> of a row."""
    median, low, high = (stats.get(name.format(key)) for name in (median, "min_{}", "max_{}"))
    return f"{_fmt(median, spec, scale)} ({_fmt(low, spec, scale)}-{_fmt(high, spec, scale)})"


def _ratio_table(comparisons, spread):
    """The table of step-time ratios (`spread(comparison, 'ratio' or 'cpu_ratio')`) with their targets."""
    return table(["ratio (step time)", "wall", "CPU", "FLOPs", "target", "why this target", "verdict"],
                 [[c["check"], spread(c, "ratio"), spread(c, "cpu_ratio"), _fmt(c.get("flop_ratio"), ".2f"),
                   "-" if c["target"] is None else f"<= {c['target']}", c["source"],
                   "-" if c["target"] is None else ("meets" if c["meets_target"] else "MISSES")]
                  for c in comparisons])


def _interleaved_section(groups, rows):
    """Per group: when and under what load its members were timed together, each member's spread, the
    round-by-round ratios and (TF vs PyTorch) the claim against the best PyTorch configuration."""
    if not groups:
        return []
    by_task = {r["task"]: r for r in rows}
    out = ["## Measured together (interleaved: A, B, C, A, B, C, ... in one process)", "",
           "Each group's members were built side by side in one process, called once (trace/compile) and once more "
           "(a screening call, also a warm-up: alternative PyTorch configurations more than 2x slower than the "
           "best in both wall and CPU time are not timed further), then called in turn, one call each per round, "
           "so that load changes on the shared machine hit all of them alike. Times: median (min-max) over "
           "the rounds. Ratios: median (min-max) of the ratios taken round by round; 'FLOPs': the ratio of counted "
           "FLOPs per step, the time ratio at equal use of the cores (a time target below it needs the numerator "
           "to run nearer peak than the denominator). Rows of different groups come from different processes and "
           "moments; no row of an older run is included.", ""]
    for g in groups:
        members = [by_task[t] for t in g["member_tasks"]]
        out += [f"### `{g['task']}`: {g['started']}, {g['rounds']} timed rounds in {g.get('wall_s', 0):.0f} s "
                f"(after {g['warmup']} warm-up rounds), load (1/5/15 min) {g.get('load_before')} -> "
                f"{g.get('load_after')}", ""]
        lines = []
        for r in members:
            if r.get("status") != "ok":
                lines.append([r["name"], f"{r['status']}: {r.get('reason', '')}"] + ["-"] * 4)
                continue
            lines.append([r["name"], *(_spread(r, key, 1e3, ".1f", "median_{}") for key in ("s", "cpu_s")),
                          _fmt(r.get("fraction_of_peak"), ".0%"), _fmt(r.get("fraction_of_cpu_peak"), ".0%"),
                          _fmt(r.get("first_call_s"), ".1f")])
        out += [*table(["member", "ms/step", "CPU ms/step", "of peak", "of CPU peak", "first call s"], lines), ""]
        if g["comparisons"]:
            out += [*_ratio_table(g["comparisons"], _spread), ""]
        for claim in g.get("claims", []):
            out += [f"**{claim['label']}, TF / best PyTorch configuration: wall {_spread(claim, 'ratio')} "
                    f"against `{claim['best_wall']}`, CPU {_spread(claim, 'cpu_ratio')} "
                    f"against `{claim['best_cpu']}`"
                    f": {'meets' if claim['meets_goal'] else 'MISSES'} the goal (<= {claim['goal']} in both).**",
                    ""]
    return out


def _checks_section(checks, variants):
    checks = [c for c in checks if c.get("ratio") is not None]
    out = ["## Ratios of rows timed alone (not a claim)", "",
           *_ratio_table(checks, lambda c, key: _fmt(c.get(key), ".2f")), "",
           "Rows are timed in separate processes at different moments, so on a shared machine their wall-time ratio "
           "mixes in load changes; the verdict uses the CPU-time ratio (wall when a row has no CPU time). The "
           "interleaved groups above measure these ratios together.", ""] if checks else []
    if variants:
        out += ["## Variants of the same step (XLA = trainer.compile(jit_compile=True); threads; oneDNN)", "",
                *table(["case", "variant", "plain ms", "variant ms", "speed-up (plain/variant)",
                         "CPU time variant/plain"],
                        [[v["case"], v["variant"], _fmt(v["plain_s"], ".1f", 1e3), _fmt(v["variant_s"], ".1f", 1e3),
                          _fmt(v["speedup"], ".2f"), _fmt(v["cpu_ratio"], ".2f")] for v in variants]), ""]
    return out


def _export_section(rows):
    lines = [[r["name"], f"{r['g_params']:,}", *_cells(r, _EXPORT_COLUMNS)]
             for r in rows if r.get("task") == "export" and r.get("status") == "ok"]
    if not lines:
        return []
    return ["## Exported generators (batch 1)", "",
            *table(["generator", "params", *(c[0] for c in _EXPORT_COLUMNS)], lines), "",
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
    out = ["## Where the time goes (profiling) and model build", ""]
    for r in breakdowns:
        out += [f"{r['experiment']} (TF profiler, share of op time):", "",
                *table(["kind of op", "share"], [[k, f"{v:.1%}"] for k, v in r["breakdown"].items()]), ""]
    out += ["Before/after pairs are built side by side and timed interleaved (A, B, A, B, ...); 'CPU' is process CPU "
           "time (all threads), which other processes on a shared machine disturb less than wall time.", "",
           *table(header, lines), ""]
    out += [f"- **{r['experiment']}**: {r['finding']}" for r in prof if r.get("finding")]
    return out + [""]


def markdown(rows, meta):
    """The report as Markdown: machine first, then the interleaved groups, steps, ratios, XLA, exports, profiling,
    problems."""
    machine, checks, variants = derive(rows)
    parts = _machine_section(machine, meta)
    timed = [r for r in rows if r.get("status") == "ok" and r.get("median_cpu_s") and "1t" not in r.get("options", [])
             and not r.get("task", "").endswith("+1t")]
    if timed:
        cores = sum(r["median_cpu_s"] for r in timed) / sum(r["median_s"] for r in timed)
        parts[-1:-1] = [f"- Cores the multi-threaded rows actually got: {cores:.2f} of {machine.get('cores')} "
                        "(their CPU time / wall time; other processes took the rest)"]
    parts += _interleaved_section(interleaved(rows), rows) + _step_section(rows) + _checks_section(checks, variants)
    parts += _export_section(rows) + _profile_section(rows) + _problems_section(rows)
    return "\n".join(parts)
