"""Benchmarks every model and method on this machine (steps/s, memory, XLA, fraction of the measured matmul peak,
exported generators, PyTorch peers, interleaved groups whose ratios carry the claims, profiling). Writes JSON and
Markdown of this run's rows to <out>/<machine-id>/.

Examples:
  python tools/benchmark.py                       # full run (~50 min on 2 cores), one subprocess per row
  python tools/benchmark.py --quick               # toy sizes, seconds per row (a sanity run, used by tests)
  python tools/benchmark.py --tasks=interleaved   # the claims: TF vs PyTorch, README's ratios (~30 min)
  python tools/benchmark.py --tasks=alphagan+op1,alphagan+1t,retrain+op1,retrain+1t   # alphaGAN vs PyTorch
  python tools/benchmark.py --tasks=machine,baseline_sngan,baseline_sngan+xla,torch_sngan

Tasks (what each measures: benchmarks/README.md): machine (measured again at the end of every run: machine_end),
every case of benchmarks.cases.CASES, torch_sngan, the interleaved groups of benchmarks.interleave (versus, pairs,
mirrored, alphagan, retrain; interleaved = versus, versus+1t, pairs, mirrored, alphagan+op1, alphagan+1t, retrain+op1,
retrain+1t), export, profile, profile_build. Options as suffixes: +xla = trainer.compile(jit_compile=True); +bf16 =
train.precision=mixed_bfloat16; with --isolate only: +1t = one thread (TF and torch), +i1 = one TF inter-op thread,
+op1 = one TF thread per op (as the search preset runs), +eigen = TF_ENABLE_ONEDNN_OPTS=0. A task whose method is
not importable yields a 'skipped' row with the reason.
"""

import os
import subprocess
import sys
import tempfile
import time

from absl import app, flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # the benchmarks/ package lives next to tools/

from benchmarks import machine, report, settings  # noqa: E402
from tfgan_eff import cli, files  # noqa: E402

FLAGS = flags.FLAGS
flags.adopt_module_key_flags(cli)  # --debug and --tf_logs in --help
flags.DEFINE_bool("quick", False, "Toy sizes and few repeats: a seconds-long sanity run.")
flags.DEFINE_string("out", os.path.join(ROOT, "benchmarks", "results"),
                    "Results root; files go to <out>/<machine-id>/.")
flags.DEFINE_list("tasks", [], "Tasks to run (default: all). See the module docstring.")
flags.DEFINE_bool("xla", True, "Also time the +xla variant of every case that supports it (default task list).")
flags.DEFINE_bool("bf16", True, "Also time the +bf16 (mixed_bfloat16) variant of every case that supports it "
                  "(default task list).")
flags.DEFINE_bool("isolate", None, "One subprocess per task (clean per-row peak RSS). Default: on, off with --quick.")
flags.DEFINE_integer("task_timeout", 3600, "Seconds before a task's subprocess is stopped (its row says so).")
flags.DEFINE_string("worker", None, "Internal: run this one task and write its rows to --worker_out.")
flags.DEFINE_string("worker_out", None, "Internal: where the worker writes its rows (JSON).")

PROTOCOL = ("per row: build, first call (trace/compile), warm-up, then the median of the timed calls; per "
            "interleaved group: every member built, called once (trace/compile) and once more (screening), then "
            "timed rounds of one call each")


def default_tasks(xla, bf16=False):
    """Every task, in report order."""
    from benchmarks.cases import CASES, XLA_CASES

    tasks = ["machine"]
    for name in CASES:
        tasks.append(name)
        tasks += [f"{name}+{option}" for option, on in (("xla", xla), ("bf16", bf16)) if on and name in XLA_CASES]
    variants = [f"{case}+{option}" for case in ("baseline_dcgan", "baseline_sngan")
                for option in ("i1", "eigen", "1t")]
    return (tasks + variants + ["torch_sngan", "torch_sngan+1t", *settings.INTERLEAVED, "export",
                                *settings.PROFILE_TASKS])


def _isolated(task, quick, timeout, log_dir):
    """Runs `task` in a fresh Python process; returns its rows (an error row when it dies or times out)."""
    stem = os.path.join(log_dir, task.replace("+", "_"))
    cmd = [sys.executable, os.path.abspath(__file__), f"--worker={task}", f"--worker_out={stem}.json"]
    with open(stem + ".log", "w", encoding="utf-8") as log:
        try:
            code = subprocess.run(cmd + (["--quick"] if quick else []), stdout=log, stderr=subprocess.STDOUT,
                                  env={"TF_CPP_MIN_LOG_LEVEL": "2", **os.environ}, timeout=timeout,
                                  check=False).returncode
        except subprocess.TimeoutExpired:
            code = f"timeout (stopped after {timeout} s)"
    if code == 0 and os.path.exists(stem + ".json"):
        return files.read_json(stem + ".json")
    with open(stem + ".log", encoding="utf-8") as f:
        return [dict(task=task, name=task, status="error", reason=f"worker exited with {code}",
                     log_tail=f.read()[-1500:])]


def run_tasks(tasks, quick, isolate, timeout):
    """Rows of all `tasks`, each in its own process when `isolate`."""
    from benchmarks.worker import needs_fresh_process, run_task

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_logs_") as log_dir:
        for task in tasks:
            start = time.time()
            if isolate:
                new = _isolated(task, quick, timeout, log_dir)
            elif needs_fresh_process(task):  # set up before TF runs anything in a process
                new = [dict(task=task, name=task, status="skipped", reason=f"{task} needs --isolate")]
            else:
                new = run_task(task, quick)
            for row in new:
                row.setdefault("task_wall_s", time.time() - start)
                row.setdefault("load_after_task", machine.load_average())
            rows += new
            print(f"[benchmark] {task}: {', '.join(r.get('status', '?') for r in new)} "
                  f"({time.time() - start:.0f} s, load {machine.load_average()})", flush=True)
    return rows


def main(argv):
    del argv
    with cli.user_errors():  # TF quiet unless --tf_logs; a user error is one line (the traceback with --debug)
        _main()


def _main():
    from benchmarks.worker import run_task

    if FLAGS.worker:
        rows = run_task(FLAGS.worker, FLAGS.quick)
        files.write_json(FLAGS.worker_out, rows)
        return
    tasks = settings.run_order(FLAGS.tasks or default_tasks(FLAGS.xla, FLAGS.bf16))
    isolate = (not FLAGS.quick) if FLAGS.isolate is None else FLAGS.isolate
    meta = dict(started=machine.now(), quick=FLAGS.quick, tasks=tasks,
                isolated=isolate, protocol=PROTOCOL, load_before=machine.load_average(), argv=sys.argv[1:])
    start = time.time()
    rows = run_tasks(tasks, FLAGS.quick, isolate, FLAGS.task_timeout)
    meta.update(load_after=machine.load_average(), wall_s=time.time() - start)
    machine_row = next((r for r in rows if r.get("task") == "machine" and r.get("status") == "ok"), {})
    meta["machine_id"] = machine_row.get("machine_id") or machine.machine_id()
    out_dir = os.path.join(FLAGS.out, meta["machine_id"])
    os.makedirs(out_dir, exist_ok=True)
    stem = "benchmark_quick" if FLAGS.quick else "benchmark"
    text = report.markdown(rows, meta)  # also adds GFLOP/s and fraction of peak to the rows
    _, checks, variants = report.derive(rows)
    files.write_json(os.path.join(out_dir, stem + ".json"),
                     dict(meta=meta, rows=rows, interleaved=report.interleaved(rows), checks=checks,
                          variants=variants))
    files.write_text(os.path.join(out_dir, stem + ".md"), text + "\n")
    print(f"[benchmark] wrote {os.path.join(out_dir, stem)}.{{json,md}}")


if __name__ == "__main__":
    app.run(main)
