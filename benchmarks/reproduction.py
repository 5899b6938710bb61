"""Reproduction of the three papers' claims on the built-in offline data, over several seeds: every run a job of its
own (`python -m tfgan_eff.train` in its own work dir, <root>/<part>/seed_<s>/<run>/, tfgan_eff.training.scheduler;
the DGL and search parts' arms are the sub-runs of one method run per seed), then the per-seed results read back
from the work dirs and turned into claim rows (benchmarks.claims). The runs of each part: `dgl_runs`, `sparse_runs`,
`search_runs` (and docs/reproduction.md). Every run keeps a checkpoint every steps / curve_points steps and measures
its FID curve on them after training (eval.curve).
"""

import dataclasses
import functools
import json
import os
import sys
from typing import Any

from benchmarks import claims as claims_lib
from benchmarks import machine, scales
from benchmarks.report import table
from tfgan_eff.config import presets
from tfgan_eff.errors import UserError
from tfgan_eff.sparse import plan as sparse_plan
from tfgan_eff.files import read_json, write_json
from tfgan_eff.nested import flatten
from tfgan_eff.training import scheduler
from tfgan_eff.training.fid_curve import read_curve

PARTS = ("dgl", "sparse", "search")
# Prefixes of the protocol entries (and step counts) that belong to one part; the other entries are shared.
PART_KEYS = {"dgl": ("dgl_",), "sparse": ("sparse_",), "search": ("search_", "retrain_")}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JOB_FILE = "reproduce_job.json"  # in each job's work dir: the command it was started with (speed flags aside)
# Left out of a job record: threads and sub-runs at once change the speed only (numbers up to float rounding).
SPEED_FLAGS = ("--config.train.intra_op_threads=", "--config.train.inter_op_threads=", "--config.train.jobs=")
# The work dir, in a seed's (<root>/<part>/seed_<s>/), of a part's method run whose sub-runs are the part's arms.
METHOD_RUN = "method"
# The pruned pipeline of the sparse part: the dense run's checkpoint at this share of its steps, pruned once, then
# retrained with static masks for the rest, so that it gets the same total G steps as the sparse run.
PRUNE_DENSE_SHARE = 0.5
# The sparse part's --runs names that are comparison sub-runs of its method run (the sparse run is dynamic G), and
# the sparse.comparisons item of each.
SPARSE_COMPARISONS = {"static": "static", "prune": "prune"}
# The sparse part's protocol entry that lists its G densities (a run of other densities adds to a report).
DENSITIES = "sparse_densities"


@dataclasses.dataclass(frozen=True)
class Options:
    """What to run: seeds, scale (benchmarks.scales), sparse densities, FID points per run, extra arms; threads:
    TensorFlow threads per run (0 = TF's default), not part of the protocol (it changes speed only)."""
    seeds: tuple = (0, 1, 2)
    scale: str = "preset"
    densities: tuple = (0.1, 0.2, 0.5)
    curve_points: int = scales.CURVE_POINTS
    search_rounds: int = 0  # 0 = the scale's
    retrain_steps: int = 0  # the search part's retraining G steps (0 = the scale's)
    random_genotypes: int = 3  # random genotypes retrained per search seed (the search part's baseline)
    dgl_finetune_steps: int = 0  # > 0: the dgl part also runs the fine-tune schedule with this many stage-2 steps
    sparse_reset_arm: bool = False  # the sparse part also runs dynamic G with sparse.reset_optimizer_state=True
    runs: tuple = ()  # only these runs of each part (`select_runs`); () = all
    threads: int = 0


def scale_of(opts):
    """The Scale the options ask for (with opts.search_rounds and opts.retrain_steps, when set, as its own)."""
    overrides = {key: getattr(opts, key) for key in ("search_rounds", "retrain_steps") if getattr(opts, key)}
    return dataclasses.replace(scales.get(opts.scale), **overrides)


def method_config(method, seed, opts):
    """The preset of `method` for `seed` at the options' scale (benchmarks.scales.method_config)."""
    return scales.method_config(method, seed, scale_of(opts), opts.curve_points)


def picked(items, runs):
    """The config items ({--runs name: item}) of the names `runs` selects (all when it is empty), in order, once."""
    return list(dict.fromkeys(item for name, item in items.items() if not runs or name in runs))


# --------------------------------------------------------------------------------------------------------- jobs
@dataclasses.dataclass(frozen=True, eq=False)
class TrainRun:
    """One training job: `python -m tfgan_eff.train --method=<preset>` of `config` in `workdir`.

    Attributes:
      name: the job's name (<part>/s<seed>/<run>).
      preset: the method whose preset `config` was built from (the CLI's --method; the rest are overrides).
      workdir: its own work dir.
      config: its config.
      after: the jobs it needs.
      kinds: the --runs names it trains (`select_runs`; () = the last part of its name).
    """
    name: str
    preset: str
    workdir: str
    config: Any  # a ConfigDict
    after: tuple = ()
    kinds: tuple = ()


def train_command(run, scale, threads, sub_jobs=1):
    """(argv, fingerprint) of a TrainRun: the training CLI on the run's preset with the overrides that make its
    config, on `threads` TF threads where the config leaves TF's default and with `sub_jobs` of its independent
    sub-runs at once (train.jobs); the fingerprint is what identifies the run's config (the argv without those)."""
    cfg = run.config.copy_and_resolve_references()
    if threads:
        for key in ("intra_op_threads", "inter_op_threads"):
            cfg.train[key] = cfg.train[key] or threads
    cfg.train.jobs = sub_jobs
    base = presets.get(run.preset)
    if scale.smoke:
        presets.smoke(base)
    ours, theirs = flatten(cfg.to_dict()), flatten(base.to_dict())
    flags = [f"--method={run.preset}"] + (["--smoke"] if scale.smoke else []) + [f"--workdir={run.workdir}"]
    # every leaf where the config differs from the preset (a float by repr: str may round it)
    flags += [f"--config.{k}={repr(v) if isinstance(v, float) else v}" for k, v in sorted(ours.items())
              if theirs.get(k) != v or type(theirs.get(k)) is not type(v)]
    fingerprint = dict(flags=[f for f in flags if not f.startswith(SPEED_FLAGS)])
    return [sys.executable, "-m", "tfgan_eff.train"] + flags, fingerprint


def _trained(run, scale):
    """Whether `run` finished with the config it is asked for now (its summary.json, and the same command)."""
    if not os.path.isfile(os.path.join(run.workdir, "summary.json")):
        return False
    return _recorded(run, train_command(run, scale, 0)[1])


def _recorded(run, fingerprint):
    """Whether `run`'s work dir records `fingerprint` as the command it was started with."""
    return json_or(os.path.join(run.workdir, JOB_FILE), None) == json_roundtrip(fingerprint)


def _start(run, scale, threads, sub_jobs):
    """Prepares `run` (its work dir, the job record) and returns its command. A summary left by another command
    (e.g. the same run at fewer steps, which this one resumes) goes: with the new record it would read as finished
    if this job were killed."""
    os.makedirs(run.workdir, exist_ok=True)
    argv, fingerprint = train_command(run, scale, threads, sub_jobs)
    summary_path = os.path.join(run.workdir, "summary.json")
    if not _recorded(run, fingerprint) and os.path.isfile(summary_path):
        os.remove(summary_path)
    write_json(os.path.join(run.workdir, JOB_FILE), fingerprint)
    return argv


def jobs_of(runs, opts, sub_jobs=1):
    """The scheduler's jobs of TrainRuns (each run measures its FID curves itself: eval.curve), each training
    `sub_jobs` of its independent sub-runs at once."""
    scale = scale_of(opts)
    return [scheduler.Job(run.name, functools.partial(_start, run, scale, opts.threads, sub_jobs),
                          functools.partial(_trained, run, scale), tuple(run.after)) for run in runs]


# ---------------------------------------------------------------------------------------------------------- DGL
# The runs of the DGL part, by --runs name: the method's own sub-runs (teacher, stage 1 and the DGL stage 2) and the
# baselines that dgl.baselines adds to them.
DGL_BASELINES = {"two_stage": "plain", "from_step_0": "from_step_0", "full_width": "full_width"}


def dgl_runs(seed, root, opts):
    """The DGL part's runs of one seed: one `--method=dgl` run whose sub-runs are the teacher, the two-stage schedule
    with its plain student, DGL from step 0 and the full-width pair (dgl.baselines; those --runs names, when given),
    and with opts.dgl_finetune_steps the fine-tune schedule against the same teacher."""
    base, name = os.path.join(root, "dgl", f"seed_{seed}"), f"dgl/s{seed}"
    cfg = method_config("dgl", seed, opts)
    cfg.dgl.baselines = ",".join(picked(DGL_BASELINES, opts.runs))
    students = TrainRun(f"{name}/{METHOD_RUN}", "dgl", os.path.join(base, METHOD_RUN), cfg,
                        kinds=("teacher", *DGL_BASELINES))
    runs = [students]
    if opts.dgl_finetune_steps:
        finetune = cfg.copy_and_resolve_references()
        finetune.dgl.update(teacher_workdir=os.path.join(students.workdir, "teacher"), baselines="plain",
                            finetune_steps=opts.dgl_finetune_steps)
        runs.append(TrainRun(f"{name}/finetune", "dgl", os.path.join(base, "finetune"), finetune,
                             after=(students.name,)))
    return runs


def json_or(path, default):
    """The JSON file at `path`, or `default` when there is none."""
    return read_json(path) if os.path.isfile(path) else default


def summary_of(workdir):
    """A finished job's summary.json ({} when there is none)."""
    return json_or(os.path.join(workdir, "summary.json"), {})


def _fid(summary):
    return summary.get("metrics", {}).get("fid")


def _g_params(summary):
    return summary.get("params", {}).get("generator")


def _final_fids(summary):
    return {row["run"]: row["fid"] for row in summary.get("table", [])}


def dgl_seed(seed, root, opts):
    """One seed of the DGL part from its work dirs: final FIDs and FID curves of the teacher, the two students, DGL
    from step 0 and the full-width pair (and the fine-tune schedule's final FIDs)."""
    base = os.path.join(root, "dgl", f"seed_{seed}")
    workdir = os.path.join(base, METHOD_RUN)
    summary = summary_of(workdir)
    runs = summary.get("runs", {})  # by role: an external teacher's evaluation is the teacher

    def fids(**names):
        """{key: final FID of the sub-run} for the sub-runs that finished."""
        return {key: _fid(runs[sub]) for key, sub in names.items() if sub in runs}

    def curve(*sub_runs):
        """The FID curve through `sub_runs` (a stage 1, then the stage 2 from its checkpoint)."""
        return sorted(dict(p for sub in sub_runs for p in read_curve(os.path.join(workdir, sub))).items())

    students = {"DGL student": "dgl", "plain student": "plain"}
    result = dict(seed=seed, workdir=workdir, final_fid=fids(teacher="teacher", **students),
                  curves=dict(dgl=curve("stage1", "dgl"), plain=curve("stage1", "plain"), teacher=curve("teacher")),
                  switch_step=summary.get("switch_step"), teacher_g_params=summary.get("teacher", {}).get("g_params"),
                  student_g_params=summary.get("student", {}).get("g_params"),
                  from_zero=dict(fid=_fid(runs.get("from_step_0", {})), curve=curve("from_step_0")),
                  full_width=dict(final_fid=fids(**{k: f"full_{v}" for k, v in students.items()}),
                                  curves=dict(dgl=curve("full_stage1", "full_dgl"),
                                              plain=curve("full_stage1", "full_plain")),
                                  g_params=_g_params(runs.get("full_dgl", {}))))
    if opts.dgl_finetune_steps:
        result.update(finetune_steps=opts.dgl_finetune_steps,
                      finetune_fid=_final_fids(summary_of(os.path.join(base, "finetune"))))
    return result


# ------------------------------------------------------------------------------------------------------- sparse
def prune_steps(steps):
    """(dense steps, retraining steps) of the pruned pipeline for a sparse run of `steps` G steps."""
    dense = int(round(steps * PRUNE_DENSE_SHARE))
    return dense, steps - dense


def sparse_runs(seed, root, opts):
    """The sparse part's runs of one seed: the dense run, and per G density one `--method=sparse` run whose sub-runs
    are the sparse run (dynamic G), static masks and the pruned pipeline (the dense run's checkpoint at
    PRUNE_DENSE_SHARE of its steps pruned once, then retrained with static masks for the rest: sparse.prune_from,
    sparse.prune_step), the --runs names static and prune picking those; with opts.sparse_reset_arm also dynamic G
    with reset Adam moments."""
    base, name = os.path.join(root, "sparse", f"seed_{seed}"), f"sparse/s{seed}"
    cfg = method_config("sparse", seed, opts)
    dense_cfg = cfg.copy_and_resolve_references()
    dense_cfg.method = "baseline"
    dense = TrainRun(f"{name}/dense", "sparse", os.path.join(base, "dense"), dense_cfg)
    comparisons = picked(SPARSE_COMPARISONS, opts.runs)
    prunes = "prune" in comparisons
    prune_step, retrain_steps = prune_steps(cfg.train.steps)
    pruning = dict(prune_from=dense.workdir, prune_step=prune_step, finetune_steps=retrain_steps) if prunes else {}
    runs = [dense]
    for density in opts.densities:
        def sparse(job, density=density, **keys):
            """The kwargs of a TrainRun of the STU-GAN preset at `density` with the sparse `keys`."""
            sparse_cfg = cfg.copy_and_resolve_references()
            sparse_cfg.sparse.update(dict(g_density=float(density), **keys))
            return dict(name=f"{name}/d{density}/{job}", preset="sparse", config=sparse_cfg,
                        workdir=os.path.join(base, f"density_{density}", job))

        runs.append(TrainRun(**sparse(METHOD_RUN, comparisons=",".join(comparisons), **pruning),
                             after=(dense.name,) if prunes else (),
                             kinds=("dynamic", *SPARSE_COMPARISONS)))
        if opts.sparse_reset_arm:
            runs.append(TrainRun(**sparse("reset", comparisons="", reset_optimizer_state=True)))
    return runs


def sparse_seed(seed, root, opts):
    """One seed of the sparse part from its work dirs: a point (mode, densities, final FID, FID curve) per run;
    modes dense, dynamic, static, pruned (its curve: the dense run's up to the pruned checkpoint, then the
    retraining's after it) and reset."""
    base = os.path.join(root, "sparse", f"seed_{seed}")
    dense_dir = os.path.join(base, "dense")
    dense_curve = read_curve(dense_dir)
    points = [dict(mode="dense", run="dense", g_density=1.0, target_density=1.0, d_density=1.0,
                   fid=_fid(summary_of(dense_dir)), curve=dense_curve)]
    prune_step = prune_steps(method_config("sparse", seed, opts).train.steps)[0]
    for density in opts.densities:
        for job, mode, run in ((METHOD_RUN, "dynamic", "sparse"), (METHOD_RUN, "static", "static"),
                               ("reset", "reset", "sparse"), (METHOD_RUN, "pruned", "prune")):
            run_dir = os.path.join(base, f"density_{density}", job, run)
            summary = summary_of(run_dir)
            if not summary:
                continue
            row = sparse_plan.table_row(run, summary)
            curve = read_curve(run_dir)
            if mode == "pruned":
                curve = [p for p in dense_curve if p[0] <= prune_step] + [(prune_step + s, f) for s, f in curve]
            points.append(dict(mode=mode, run=run, run_mode=row["mode"], g_density=row["d_G"],
                               target_density=float(density), d_density=row["d_D"], fid=row["FID"], curve=curve))
    return dict(seed=seed, points=points)


# ------------------------------------------------------------------------------------------------------- search
def search_runs(seed, root, opts):
    """The search part's runs of one seed: one `--method=search` run whose sub-runs are the search, the retraining
    of its derived genotype, random genotypes of the same space and an SNGAN-ResNet G sized to the derived G
    (retrain.baselines; the --runs names random_<i> and sngan pick them), all retrained with the same recipe."""
    cfg = method_config("search", seed, opts)
    baselines = {**{f"random_{i}": "random" for i in range(opts.random_genotypes)}, "sngan": "sngan"}
    cfg.retrain.update(random_genotypes=max(1, opts.random_genotypes),
                       baselines=",".join(picked(baselines, opts.runs)))
    return [TrainRun(f"search/s{seed}/{METHOD_RUN}", "search", os.path.join(root, "search", f"seed_{seed}", METHOD_RUN),
                     cfg, kinds=("search", *baselines))]


def search_cost(search, retrain):
    """The search rounds' and the derived G retraining's wall and CPU seconds, each summed over the processes that
    ran them; a retraining resumed from a checkpoint whose earlier time is unknown (time_from_step > 0, or a
    summary without it) has None."""
    complete = retrain.get("time_from_step") == 0
    return dict(search_wall_s=search.get("search_seconds"), search_cpu_s=search.get("search_cpu_seconds"),
                retrain_wall_s=retrain.get("train_wall_time_s") if complete else None,
                retrain_cpu_s=retrain.get("train_cpu_time_s") if complete else None)


def search_seed(seed, root, opts):
    """One seed of the search part from its work dirs: DG and architecture entropy per round, genotype, retrained
    FID and curve, wall and CPU times of the search and of the retraining, and the baselines' FIDs and curves."""
    workdir = os.path.join(root, "search", f"seed_{seed}", METHOD_RUN)
    summary = summary_of(workdir)
    history = json_or(os.path.join(workdir, "search", "history.json"), [])
    retrain, sngan = summary.get("retrain", {}), summary.get("sngan", {})
    randoms = [f"random_{i}" for i in range(opts.random_genotypes)]
    sngan_cfg = json_or(os.path.join(workdir, "sngan", "config.json"), None)
    return dict(seed=seed, workdir=workdir, dg=[h["dg"] for h in history],
                entropy=[h["arch_entropy"] for h in history], round_seconds=[h["seconds"] for h in history],
                genotype=summary.get("genotype"), retrain_fid=_fid(retrain),
                retrain_curve=read_curve(os.path.join(workdir, "retrain")),
                derived_g_params=_g_params(retrain), **search_cost(summary.get("search", {}), retrain),
                random_fids=[_fid(summary.get(r, {})) for r in randoms],
                random_g_params=[_g_params(summary.get(r, {})) for r in randoms],
                random_genotypes=[json_or(os.path.join(workdir, r, "genotype.json"), None) for r in randoms],
                random_curves=[read_curve(os.path.join(workdir, r)) for r in randoms],
                sngan_fid=_fid(sngan), sngan_g_params=_g_params(sngan),
                sngan_ch=sngan_cfg["model"]["g"]["ch"] if sngan_cfg else None,
                sngan_curve=read_curve(os.path.join(workdir, "sngan")))


RUNS = {"dgl": dgl_runs, "sparse": sparse_runs, "search": search_runs}
SEEDS = {"dgl": dgl_seed, "sparse": sparse_seed, "search": search_seed}


class UnknownRunError(UserError, ValueError):
    """--runs names a run that none of the parts has."""


def run_kinds(run):
    """The --runs names of what a TrainRun trains: its `kinds`, else the last part of its name (dense, dynamic,
    random_0, ...)."""
    return run.kinds or (run.name.rsplit("/", 1)[-1],)


def select_runs(runs, kinds):
    """The runs that train any of `kinds` (`run_kinds`) and every run they need (`after`, transitively); all when
    `kinds` is empty. A kind no run has is an UnknownRunError that lists the kinds there are."""
    if not kinds:
        return list(runs)
    known = {kind for run in runs for kind in run_kinds(run)}
    unknown = sorted(set(kinds) - known)
    if unknown:
        raise UnknownRunError(f"--runs: no run is called {unknown}; the parts' runs are {sorted(known)}")
    needed = scheduler.with_dependencies({run.name: run.after for run in runs},
                                         [run.name for run in runs if set(run_kinds(run)) & set(kinds)])
    return [run for run in runs if run.name in needed]


def claims_of(part, seeds, opts):
    """The claim rows of one part from its per-seed results."""
    if part == "dgl":
        return claims_lib.dgl_claims(seeds)
    if part == "sparse":
        dense, retrain = prune_steps(method_config("sparse", 0, opts).train.steps)
        return claims_lib.sparse_claims(seeds, [float(d) for d in opts.densities],
                                        f"pruned: {dense} dense steps + {retrain} static-mask steps")
    return claims_lib.search_claims(seeds)


def run_parts(parts, root, opts, slots=1, cores=None, gpus=(), log=print):
    """Runs every run of `parts` (all seeds) as jobs, `slots` at a time; returns {part: {status, seeds, claims}}
    (status error with the failed jobs when any failed; the claims are counted over the seeds measured). With
    fewer runs left to train than slots, each gets the cores of several slots and trains as many of its
    independent sub-runs at once (train.jobs), e.g. one search seed's random genotypes beside its search on 2
    cores."""
    runs = select_runs([run for part in parts for seed in opts.seeds for run in RUNS[part](seed, root, opts)],
                       opts.runs)
    scale = scale_of(opts)
    left = [run for run in runs if not _trained(run, scale)]
    sub_jobs = max(1, slots // max(1, len(left)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    status = scheduler.run_jobs(jobs_of(runs, opts, sub_jobs), max(1, slots // sub_jobs),
                                log_dir=os.path.join(root, "logs"), cores=cores, gpus=gpus, env=env, report=log)
    results, full_protocol = {}, json_roundtrip(protocol(opts))
    for part in parts:
        failed = {name: s for name, s in status.items()
                  if name.startswith(part + "/") and s not in scheduler.FINISHED}
        seeds = []
        for seed in opts.seeds:
            # Every seed is read back; a failed job leaves its values None (no verdict) and is named in the seed.
            result = dict(SEEDS[part](seed, root, opts), finished=machine.now())
            unfinished = sorted(name for name in failed if name.startswith(f"{part}/s{seed}/"))
            if unfinished:
                result["unfinished_jobs"] = unfinished
            seeds.append(result)
        result = dict(status="error" if failed else "ok", seeds=seeds, claims=claims_of(part, seeds, opts),
                      protocol=part_protocol(full_protocol, part))
        if failed:
            result["reason"] = f"{len(failed)} job(s) did not finish: " + "; ".join(
                f"{name}: {s}" for name, s in list(failed.items())[:3])
            log(f"[reproduce] {part}: {result['reason']}")
        results[part] = result
    return results


# ------------------------------------------------------------------------------------------------------- report
def merge_seeds(previous, current, part, opts):
    """`current` (one run of `part`) plus the seeds of `previous` (an earlier run of it under the same protocol)
    that `current` did not run, claims recomputed over all: seeds run one at a time, on other days or in parallel
    processes, end up in one table. A seed run again replaces its earlier result; a part run under another protocol
    replaces the earlier one. Sparse densities add up: a run of other densities (the rest of the protocol equal)
    keeps the earlier densities' points of every seed and lists all densities."""
    if not previous:
        return current
    old, new = previous.get("protocol") or {}, current.get("protocol") or {}
    if _without(old, DENSITIES) != _without(new, DENSITIES):
        return current
    ran = _densities(new)
    earlier = {s["seed"]: s for s in previous.get("seeds", [])}
    seeds = dict(earlier)
    for seed in current["seeds"]:
        kept = [p for p in earlier.get(seed["seed"], {}).get("points", [])
                if p["mode"] != "dense" and p["target_density"] not in ran]
        seeds[seed["seed"]] = dict(seed, points=seed["points"] + kept) if kept else seed
    if not seeds:
        return current
    merged = sorted(seeds.values(), key=lambda s: s["seed"])
    if DENSITIES in new:
        densities = tuple(dict.fromkeys(_densities(old) + ran))
        new = dict(new, **{DENSITIES: _density_text(densities)})
        opts = dataclasses.replace(opts, densities=densities)
    return dict(current, seeds=merged, protocol=new, claims=claims_of(part, merged, opts))


def _without(protocol, key):
    return {k: v for k, v in protocol.items() if k != key}


def _densities(protocol):
    """The G densities a sparse part's protocol lists (`protocol` writes them), as floats; [] for other parts."""
    return [float(d) for d in protocol.get(DENSITIES, "").split(",") if d.strip()]


def _density_text(densities):
    return ", ".join(str(d) for d in densities)


def previous_results(json_path):
    """The per-part results of an earlier report in the same place ({} if none), each with the protocol it was made
    with, so that parts and seeds run one at a time end up in one table (merge_seeds keeps protocols apart)."""
    previous = json_or(json_path, {})
    stored = previous.get("meta", {}).get("protocol", {})  # reports that keep one protocol for all their parts
    return {part: dict(result, protocol=result.get("protocol") or part_protocol(stored, part))
            for part, result in previous.get("results", {}).items()}


def part_protocol(full, part):
    """The entries of a protocol (`protocol`'s dict) that `part`'s numbers depend on: those every part shares and
    the part's own (its step counts among them)."""
    own = {k: v for k, v in full.items() if k.startswith(PART_KEYS[part])}
    steps = {k: v for k, v in full.get("steps", {}).items() if k.startswith(PART_KEYS[part])}
    return dict(shared_protocol(full), **own, steps=steps)


def shared_protocol(full):
    """The entries of a protocol that no part owns (the report's header)."""
    owned = tuple(prefix for prefixes in PART_KEYS.values() for prefix in prefixes)
    return {k: v for k, v in full.items() if k != "steps" and not k.startswith(owned)}


def json_roundtrip(value):
    """`value` as it reads back from JSON (tuples become lists)."""
    return json.loads(json.dumps(value))


def _num(value):
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_num(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (float, type(None))) for v in value):
        return "-" if value[0] is None else f"{value[0]:.4g} +- {value[1]:.2g}"
    return str(value)


def protocol(opts):
    """How the numbers were made: the entries every part shares (the report's header) and each part's own
    (PART_KEYS; what the seeds merged into one part must share)."""
    scale = scale_of(opts)
    dense, retrain = prune_steps(method_config("sparse", 0, opts).train.steps)
    return dict(
        data="built-in offline digits (sklearn, 1,797 images) at each preset's resolution",
        fid="FID on the offline digits classifier's features vs the training images (tfgan_eff.metrics; not "
            "Inception, so not comparable to published numbers)",
        scale=scale.name, sizes=scale.summary, steps=scales.steps_table(scale),
        curves=f"FID at every {opts.curve_points}th of each run (its kept checkpoints, EMA generator)",
        sparse_densities=_density_text(opts.densities),
        sparse_pruned=f"dense {dense} steps, pruned once by magnitude to d_G / d_D, then {retrain} steps with static "
                      "masks: the sparse run's total",
        search_random_genotypes=opts.random_genotypes,
        **({"runs": f"only {', '.join(opts.runs)} and the runs they need"} if opts.runs else {}))


def _gap_cell(gap):
    return "; ".join(f"{g['step']}: {g['gap']:+.3g} ({g['holds']}/{g['seeds']})" for g in gap) or "-"


def markdown(results, meta):
    """The reproduction report: machine and protocol, one row per claim (declared statistic, every seed, the seeds
    against), how the gaps evolve along the runs, per-part status, the plots (PNGs next to the report)."""
    lines = [f"# Reproduction on `{meta['machine_id']}`", "",
             f"- Machine: {meta.get('machine', '')}",
             f"- Last run: {meta['started']} ({meta['wall_s']:.0f} s, {meta.get('jobs', 1)} job(s) at once, "
             f"{meta.get('threads', 0) or 'default'} TF thread(s) per run), load average before "
             f"{meta['load_before']}, after {meta['load_after']}"]
    header = shared_protocol(meta["protocol"])
    lines += [f"- {k}: {_num(v)}" for k, v in header.items()]
    rows, gaps = [], []
    for part, result in results.items():
        for c in result.get("claims", []):
            per_seed = "; ".join(f"s{seed}: {_num(v)}" for seed, v in c["per_seed"].items())
            holds = f"{c['holds_in']}/{c['seeds']}" if c["seeds"] else "-"
            against = ", ".join(f"s{s}" for s in c.get("against", [])) or "-"
            rows.append([part, c["claim"], c.get("statistic", ""), per_seed, holds, against, _num(c["detail"]) or "-"])
            if c.get("gap"):
                gaps.append([part, c["claim"], " vs ".join(list(c["curves"])[:2]), _gap_cell(c["gap"])])
    lines += ["", *table(["part", "claim", "statistic", "per seed", "holds in", "against", "mean +- std"], rows)]
    if gaps:
        lines += ["", "## How the gaps evolve", "",
                  "At each FID point (G step) of the two runs: the mean over seeds of FID_A - FID_B (negative: A is "
                  "ahead) and in how many seeds the claim holds there.", "",
                  *table(["part", "claim", "A vs B", "step: gap (holds)"], gaps)]
    lines += ["", "## Parts", ""]
    for part, result in results.items():
        reason = f": {result['reason']}" if result.get("reason") else ""
        done = [s["seed"] for s in result.get("seeds", []) if not s.get("unfinished_jobs")]
        lines.append(f"- {part}: **{result['status']}**{reason} ({len(done)} seed(s) done: {done})")
        lines += [f"  - {k}: {_num(v)}" for k, v in result.get("protocol", {}).items()
                  if v != {} and header.get(k) != v]
    pngs = [png for result in results.values() for png in result.get("plots", [])]
    if pngs:
        lines += ["", "## Plots", ""] + [f"![{png}]({png})" for png in pngs]
    return "\n".join(lines) + "\n"
