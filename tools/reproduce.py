"""Reproduction of each paper's claims (DGL-GAN, STU-GAN, alphaGAN) on the built-in offline data, over several
seeds: every run is a job of its own (`python -m tfgan_eff.train` in its own work dir, measuring its FID curves after
training), run --jobs at a time, each pinned to its share of the CPU cores. Writes a claims table (Markdown + JSON) and
PNG plots to <out>/<machine-id>/reproduce[_<scale>]/.

Examples:
  python tools/reproduce.py --scale=quick --seeds=0             # toy sizes, a few minutes a part (tests)
  python tools/reproduce.py --seeds=0,1,2 --jobs=2               # the presets' scale: hours on 2 CPU cores
  python tools/reproduce.py --scale=long --parts=sparse --densities=0.2 --jobs=2   # 10x the steps
  python tools/reproduce.py --parts=search --seeds=1             # adds seed 1 to an earlier report's seeds
  python tools/reproduce.py --scale=long --parts=dgl --runs=two_stage,from_step_0   # DGL with those baselines

Runs are resumable: rerunning the same command (even after kill -9) skips every finished job and resumes the
others from their checkpoints (--workdir keeps them; the default is under /tmp).
"""

import os
import sys
import time

from absl import app, flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # the benchmarks/ package lives next to tools/

from benchmarks import machine, scales  # noqa: E402
from tfgan_eff import cli, files  # noqa: E402
from tfgan_eff.training import scheduler  # noqa: E402

FLAGS = flags.FLAGS
flags.adopt_module_key_flags(cli)  # --debug and --tf_logs in --help
flags.DEFINE_enum("scale", "preset", list(scales.SCALES), "quick: toy sizes (presets.smoke), a sanity run; preset: "
                  "the methods' presets; long: 10x their steps, every schedule scaled (benchmarks/scales.py).")
flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds; every part runs once per seed.")
flags.DEFINE_list("parts", ["dgl", "sparse", "search"], "Parts to run: dgl, sparse, search.")
flags.DEFINE_list("densities", ["0.1", "0.2", "0.5"], "G densities of the sparse part (dynamic, static and pruned at "
                  "each; d_G 0.2 also tests that the sparse run reaches the dense run's FID). Densities run later "
                  "add to an earlier report's.")
flags.DEFINE_integer("jobs", 1, "Runs at once, each pinned to its share of the cores (and its own GPU where there "
                     "are several).")
flags.DEFINE_integer("threads_per_run", 0, "TensorFlow threads of each run where its preset leaves TF's default "
                     "(0 = cores // jobs). The same value gives the same numbers at any --jobs.")
flags.DEFINE_integer("curve_points", scales.CURVE_POINTS, "FID points along every run (a checkpoint every "
                     "steps/curve_points).")
flags.DEFINE_integer("dgl_finetune_steps", 0, "> 0: the dgl part also runs DGL-GAN's fine-tune schedule "
                     "(dgl.finetune_steps) with this many stage-2 steps, against each seed's teacher.")
flags.DEFINE_bool("sparse_reset_arm", False, "The sparse part also runs dynamic G with the regrown weights' Adam "
                  "moments reset (sparse.reset_optimizer_state=True, RigL) at each density, against the default.")
flags.DEFINE_integer("search_rounds", 0, "Search rounds (0 = the scale's).")
flags.DEFINE_integer("retrain_steps", 0, "G steps of the search part's retrainings, the derived, random and SNGAN Gs "
                     "alike (0 = the scale's). A finished run asked for more steps resumes from its last checkpoint.")
flags.DEFINE_list("runs", [], "Only these runs of each part, and the runs they need (dgl: teacher, two_stage, "
                  "from_step_0, full_width: the DGL run's baselines, finetune; sparse: dense, dynamic, static, prune, "
                  "reset; search: search, random_<i>, sngan). Default: all. A claim whose runs did not run has "
                  "no verdict.")
flags.DEFINE_integer("random_genotypes", 3, "Random genotypes retrained per search seed as the search's baseline.")
flags.DEFINE_string("workdir", "", "Where the runs live (default /tmp/tfgan_eff_reproduce[_<scale>]).")
flags.DEFINE_string("out", os.path.join(ROOT, "benchmarks", "results"), "Results root (<out>/<machine-id>/...).")


def main(argv):
    del argv
    with cli.user_errors():  # a user error is one line (the traceback with --debug)
        _main()


def _main():
    from benchmarks import plots, reproduction

    unknown = [p for p in FLAGS.parts if p not in reproduction.PARTS]
    if unknown:
        raise app.UsageError(f"--parts: unknown {unknown}; choose from {reproduction.PARTS}")
    if FLAGS.jobs < 1 or FLAGS.threads_per_run < 0:
        raise app.UsageError("--jobs must be >= 1 and --threads_per_run >= 0")
    cores = scheduler.available_cores()
    threads = FLAGS.threads_per_run or max(1, len(cores) // FLAGS.jobs)
    same_name = ("scale", "curve_points", "dgl_finetune_steps", "sparse_reset_arm", "search_rounds", "retrain_steps",
                 "random_genotypes")
    opts = reproduction.Options(seeds=tuple(int(s) for s in FLAGS.seeds), threads=threads,
                                densities=tuple(float(d) for d in FLAGS.densities), runs=tuple(FLAGS.runs),
                                **{name: FLAGS[name].value for name in same_name})
    suffix = "" if FLAGS.scale == "preset" else f"_{FLAGS.scale}"
    root = FLAGS.workdir or f"/tmp/tfgan_eff_reproduce{suffix}"
    described = machine.describe()
    out_dir = os.path.join(FLAGS.out, described["machine_id"], "reproduce" + suffix)
    os.makedirs(out_dir, exist_ok=True)
    meta = dict(started=machine.now(), load_before=machine.load_average(),
                machine_id=described["machine_id"], protocol=reproduction.protocol(opts), workdir=root,
                jobs=FLAGS.jobs, threads=threads,
                machine=f"{described['cpu_model']} x {described['cores']} cores, {described['memory_gib']} GiB, "
                        + ", ".join(f"{k} {v}" for k, v in described["packages"].items()))
    json_path = os.path.join(out_dir, "reproduce.json")
    start = time.time()
    ran = reproduction.run_parts(FLAGS.parts, root, opts, FLAGS.jobs, cores, scheduler.gpu_ids())
    # Parts and seeds run separately (each takes hours at full size) accumulate in one report; read only now, so a
    # report written meanwhile by a run of other seeds is kept.
    results = reproduction.previous_results(json_path)
    for part, result in ran.items():
        results[part] = reproduction.merge_seeds(results.get(part), result, part, opts)
        results[part]["finished"] = machine.now()
        try:
            pngs = [plots.plot_part(part, results[part]["seeds"], out_dir),
                    plots.plot_claim_curves(part, results[part]["claims"], out_dir)]
        except ImportError as err:
            results[part]["plot"] = f"skipped: matplotlib is not installed ({err}); pip install -e '.[bench]'"
            continue
        results[part]["plots"] = [os.path.basename(png) for png in pngs if png]
    meta.update(load_after=machine.load_average(), wall_s=time.time() - start)
    files.write_json(json_path, dict(meta=meta, results=results))
    files.write_text(os.path.join(out_dir, "reproduce.md"), reproduction.markdown(results, meta))
    print(f"[reproduce] wrote {out_dir}/reproduce.{{json,md}} and "
          f"{sum(len(r.get('plots', [])) for r in results.values())} plot(s)")


if __name__ == "__main__":
    app.run(main)
