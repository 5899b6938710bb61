"""Small-scale reproduction of each paper's claim on the built-in offline data, via `tfgan_eff.train_lib.run` on the
methods' presets, over several seeds.

Parts (each resumable: a finished run is read back, a killed one resumes from its checkpoints):
  dgl     DGL-GAN preset (teacher, student stage 1, DGL stage 2, plain student). Claim: at the same size and
          steps, the DGL student's FID beats the plain student's and approaches the teacher's. FID vs steps from
          every kept checkpoint of every sub-run (EMA generator). With dgl_finetune_steps > 0 the same claim is
          also measured under the fine-tune schedule (dgl.finetune_steps), against the same seed's teacher.
  sparse  STU-GAN preset at several G densities (dynamic G vs static masks; one dense run). Claim: dynamic
          sparse-to-sparse training beats static masks at the same density and gets close to dense. With
          sparse_reset_arm, dynamic G is also run with the regrown weights' Adam moments reset (RigL; the official
          code keeps them, our default) to settle that choice per density.
  search  alphaGAN preset (search + retraining). Claims: the duality gap shrinks and the architecture settles
          (softmax entropy falls) over the rounds (mean of the last TREND_WINDOW rounds vs the first); the derived
          genotype retrains to a better FID than random genotypes of the same space and than a hand-designed
          SNGAN-ResNet G of about its size (same recipe).
"""

import copy
import dataclasses
import datetime
import functools
import json
import os
import re
import statistics

import numpy as np
import tensorflow as tf

from tfgan_eff import train_lib
from tfgan_eff.config import presets
from tfgan_eff.files import read_json, write_json
from tfgan_eff.inference import restore_generator
from tfgan_eff.models.registry import build_generator
from tfgan_eff.search import genotype as genotype_lib
from tfgan_eff.training.evaluator import evaluate_run
from tfgan_eff.training.loop import count_params, load_data

PARTS = ("dgl", "sparse", "search")
CURVE_FILE = "fid_curve.json"


@dataclasses.dataclass
class Options:
    """What to run: seeds, sizes (quick = presets.smoke), sparse densities, FID points per DGL run."""
    seeds: tuple = (0, 1, 2)
    quick: bool = False
    densities: tuple = (0.1, 0.2, 0.5)
    curve_points: int = 8
    search_rounds: int = 0  # 0 = the preset's
    random_genotypes: int = 3  # random genotypes retrained per search seed (the search part's baseline)
    dgl_finetune_steps: int = 0  # > 0: the dgl part also runs the fine-tune schedule with this many stage-2 steps
    sparse_reset_arm: bool = False  # the sparse part also runs dynamic G with sparse.reset_optimizer_state=True


def method_config(method, seed, opts):
    """The method's preset for `seed`: export off (the benchmark measures it), every checkpoint kept for curves."""
    cfg = presets.get(method)
    cfg.seed = seed
    if opts.quick:
        presets.smoke(cfg)
        cfg.search.update(batch_size=8, rounds=2)  # two rounds, so there is a trend to draw
    cfg.export.enabled = False
    cfg.train.keep_checkpoints = 1000
    cfg.train.ckpt_every = max(1, cfg.train.steps // opts.curve_points)
    if opts.search_rounds:
        cfg.search.rounds = opts.search_rounds
    return cfg


# ---------------------------------------------------------------------------------------------------------- DGL
def checkpoint_steps(run_dir):
    """[(step, checkpoint prefix)] of every checkpoint kept in <run_dir>/checkpoints, by step."""
    state = tf.train.get_checkpoint_state(os.path.join(run_dir, "checkpoints"))
    paths = list(state.all_model_checkpoint_paths) if state else []
    found = []
    for path in paths:
        match = re.search(r"ckpt-(\d+)$", path)
        if match:
            found.append((int(match.group(1)), path if os.path.isabs(path) else os.path.join(run_dir, "checkpoints",
                                                                                            path)))
    return sorted(found)


def fid_curve(run_dir):
    """[(step, FID)] of the EMA generator at each kept checkpoint of a train_gan run (cached in fid_curve.json)."""

    cache_path = os.path.join(run_dir, CURVE_FILE)
    cached = {int(k): v for k, v in read_json(cache_path).items()} if os.path.exists(cache_path) else {}
    todo = [(s, p) for s, p in checkpoint_steps(run_dir) if s not in cached]
    if todo:
        images = None
        for step, prefix in todo:
            generator, cfg = restore_generator(prefix)
            if images is None:
                images, _ = load_data(cfg)
            metrics = evaluate_run(cfg, generator, images, os.path.join(run_dir, "curve_eval"),
                                   name=f"eval_{step:07d}.json")
            cached[step] = metrics["fid"]
        write_json(cache_path, {str(k): v for k, v in sorted(cached.items())})
    return sorted(cached.items())


def dgl_seed(seed, root, opts):
    """One seed of the DGL part: final FIDs and FID-vs-steps curves of teacher, plain student and DGL student (and,
    with opts.dgl_finetune_steps, the final FIDs of the fine-tune schedule trained against the same teacher)."""
    workdir = os.path.join(root, "dgl", f"seed_{seed}")
    summary = train_lib.run(method_config("dgl", seed, opts), workdir)
    final = {row["run"]: row["fid"] for row in summary["table"]}
    curves = {"teacher": fid_curve(os.path.join(workdir, "teacher"))}
    stage1 = fid_curve(os.path.join(workdir, "stage1")) if os.path.isdir(os.path.join(workdir, "stage1")) else []
    for name in ("plain", "dgl"):
        if os.path.isdir(os.path.join(workdir, name)):
            curves[name] = stage1 + fid_curve(os.path.join(workdir, name))
    result = dict(seed=seed, workdir=workdir, final_fid=final, curves=curves, switch_step=summary.get("switch_step"),
                  teacher_g_params=summary["teacher"]["g_params"], student_g_params=summary["student"]["g_params"])
    if opts.dgl_finetune_steps:
        cfg = method_config("dgl", seed, opts)
        cfg.dgl.update(finetune_steps=opts.dgl_finetune_steps, teacher_workdir=os.path.join(workdir, "teacher"))
        tuned = train_lib.run(cfg, os.path.join(root, "dgl_finetune", f"seed_{seed}"))
        result.update(finetune_steps=opts.dgl_finetune_steps,
                      finetune_fid={row["run"]: row["fid"] for row in tuned["table"]})
    return result


# ------------------------------------------------------------------------------------------------------- sparse
RESET_PREFIX = "reset/"  # mode prefix of the sparse_reset_arm's runs


def sparse_seed(seed, root, opts):
    """One seed of the sparse part: final FID of dynamic and static masks per G density, and of the dense run (and
    of dynamic G with reset Adam moments, mode 'reset/dynamic_g', with opts.sparse_reset_arm)."""
    points = []

    def run(cfg, workdir, density, prefix=""):
        summary = train_lib.run(cfg, workdir)
        for row in summary["table"]:
            points.append(dict(mode=prefix + row["mode"], run=row["run"], g_density=row["d_G"],
                               target_density=float(density), d_density=row["d_D"], fid=row["FID"]))

    for i, density in enumerate(opts.densities):
        cfg = method_config("sparse", seed, opts)
        cfg.sparse.g_density = float(density)
        cfg.sparse.comparisons = "dense,static" if i == 0 else "static"
        workdir = os.path.join(root, "sparse", f"seed_{seed}", f"density_{density}")
        run(cfg, workdir, density)
        if opts.sparse_reset_arm:
            reset = cfg.copy_and_resolve_references()
            reset.sparse.update(comparisons="", reset_optimizer_state=True)
            run(reset, workdir + "_reset", density, RESET_PREFIX)
    return dict(seed=seed, points=points)


# ------------------------------------------------------------------------------------------------------- search
def search_seed(seed, root, opts):
    """One seed of the search part: DG and architecture entropy per round, genotype, retrained FID, and the FIDs
    of the baselines retrained with the same recipe (random genotypes, an SNGAN-ResNet G of similar size)."""
    workdir = os.path.join(root, "search", f"seed_{seed}")
    cfg = method_config("search", seed, opts)
    summary = train_lib.run(cfg, workdir)
    history_path = os.path.join(workdir, "search", "history.json")
    history = read_json(history_path) if os.path.exists(history_path) else []
    retrain = summary.get("retrain", {})
    derived_params = retrain.get("params", {}).get("generator")
    result = dict(seed=seed, workdir=workdir, dg=[h["dg"] for h in history],
                  entropy=[h["arch_entropy"] for h in history], round_seconds=[h["seconds"] for h in history],
                  genotype=summary.get("genotype"), retrain_fid=retrain.get("metrics", {}).get("fid"),
                  derived_g_params=derived_params)
    result.update(random_genotype_runs(cfg, workdir, seed, opts.random_genotypes))
    if derived_params:
        result.update(sngan_run(cfg, os.path.join(workdir, "sngan"), derived_params))
    return result


def random_genotype_runs(cfg, workdir, seed, count):
    """Retrains `count` uniformly random genotypes of the search space (its op set) with the search preset's
    recipe."""

    fids, params, genotypes = [], [], []
    for i in range(count):
        run_dir = os.path.join(workdir, f"random_{i}")
        path = os.path.join(run_dir, "genotype.json")
        genotype = genotype_lib.sample(np.random.default_rng([seed, i]), cfg.search.op_set, cfg.search.padding)
        genotype_lib.save(genotype, path)
        random_cfg = copy.deepcopy(cfg)
        random_cfg.retrain.genotype = path  # skips the search
        retrain = train_lib.run(random_cfg, run_dir).get("retrain", {})
        fids.append(retrain.get("metrics", {}).get("fid"))
        params.append(retrain.get("params", {}).get("generator"))
        genotypes.append(genotype.to_dict())
    return dict(random_fids=fids, random_g_params=params, random_genotypes=genotypes)


def sngan_run(cfg, workdir, target_params):
    """Trains an SNGAN-ResNet G (BN, no SN) whose size is closest to `target_params`, with the same recipe."""
    sngan_cfg = copy.deepcopy(cfg)
    sngan_cfg.method, sngan_cfg.name = "baseline", "search_sngan_baseline"
    sngan_cfg.model.g.update(arch="sngan", genotype="", width=1.0, ch=sngan_width(sngan_cfg, target_params))
    summary = train_lib.run(sngan_cfg, workdir)
    return dict(sngan_fid=summary.get("metrics", {}).get("fid"), sngan_ch=sngan_cfg.model.g.ch,
                sngan_g_params=summary.get("params", {}).get("generator"))


def sngan_width(cfg, target_params):
    """The channel width of cfg's SNGAN-ResNet G whose parameter count is closest to `target_params`."""

    @functools.lru_cache(maxsize=None)
    def params(ch):
        probe = copy.deepcopy(cfg)
        probe.model.g.update(arch="sngan", genotype="", width=1.0, ch=ch)
        return count_params(build_generator(probe))

    # Parameters grow with ch: double up to the first ch over the target (building a far too wide probe costs
    # seconds), then bisect for the last ch at or under it.
    lo, hi = 1, 2
    while params(hi) <= target_params:
        lo, hi = hi, 2 * hi
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if params(mid) <= target_params else (lo, mid - 1)
    return min((lo, lo + 1), key=lambda ch: abs(params(ch) - target_params))


SEED_RUNNERS = {"dgl": dgl_seed, "sparse": sparse_seed, "search": search_seed}


# ------------------------------------------------------------------------------------------------------- claims
def mean_std(values):
    """(mean, sample std) of the non-None values; std 0 for one value; (None, None) for none."""
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def _claim(part, claim, per_seed, holds, detail):
    """A claim row: per-seed booleans -> 'holds in k/n seeds'."""
    verdicts = [h for h in holds if h is not None]
    return dict(part=part, claim=claim, per_seed=per_seed, holds_in=sum(verdicts), seeds=len(verdicts),
                detail=detail)


def dgl_claims(seeds):
    """DGL student beats the plain student (FID), and its gap to the teacher; the same for the fine-tune schedule
    when the seeds ran it."""
    def compare(key, claim):
        per_seed = {s["seed"]: dict(teacher=s[key].get("teacher"), plain=s[key].get("plain student"),
                                    dgl=s[key].get("DGL student")) for s in seeds if key in s}
        beats = [None if None in (v["dgl"], v["plain"]) else v["dgl"] < v["plain"] for v in per_seed.values()]
        m = {k: mean_std([v[k] for v in per_seed.values()]) for k in ("teacher", "plain", "dgl")}
        return _claim("dgl", claim, per_seed, beats, {f"{k}_fid_mean_std": v for k, v in m.items()})

    claims = [compare("final_fid", "DGL student FID < plain student FID (same size, same steps)")]
    if any("finetune_fid" in s for s in seeds):
        claims.append(compare("finetune_fid", "fine-tune schedule: DGL student FID < plain student FID (stage 2 and "
                                              "plain continue the fully trained student)"))
    return claims


def sparse_claims(seeds, densities):
    """Dynamic beats static at each density; sparse vs dense."""
    claims = []
    for density in densities:
        per_seed, holds = {}, []
        for s in seeds:
            by_mode = {p["mode"]: p["fid"] for p in s["points"] if p["target_density"] == density}
            dyn = next((v for k, v in by_mode.items() if k.startswith("dynamic")), None)
            static = by_mode.get("static")
            per_seed[s["seed"]] = dict(dynamic=dyn, static=static)
            holds.append(None if None in (dyn, static) else dyn < static)
        claims.append(_claim("sparse", f"dynamic G FID < static FID at d_G={density}", per_seed, holds,
                             {k: mean_std([v[k] for v in per_seed.values()]) for k in ("dynamic", "static")}))
        reset = {s["seed"]: next((p["fid"] for p in s["points"] if p["target_density"] == density
                                  and p["mode"].startswith(RESET_PREFIX)), None) for s in seeds}
        if any(v is not None for v in reset.values()):
            pairs = {k: dict(kept=per_seed[k]["dynamic"], reset=v) for k, v in reset.items()}
            claims.append(_claim("sparse", f"dynamic G, Adam moments kept (official) FID < reset (RigL) at "
                                           f"d_G={density}", pairs,
                                 [None if None in v.values() else v["kept"] < v["reset"] for v in pairs.values()],
                                 {k: mean_std([v[k] for v in pairs.values()]) for k in ("kept", "reset")}))
    dense = {s["seed"]: next((p["fid"] for p in s["points"] if p["mode"] == "dense"), None) for s in seeds}
    claims.append(_claim("sparse", "dense FID (reference)", dense, [], {"dense": mean_std(list(dense.values()))}))
    return claims


# The search trend claims compare the mean of the first k rounds with the mean of the last k, declared before
# measuring: single rounds are noisy (K = 10 worst-case steps at a small lr leave D_worst ~ D), and k = 5 is a sixth
# of the preset's 30 rounds. Runs with fewer than 2k rounds use k = rounds // 2 (none below 2 rounds).
TREND_WINDOW = 5
SNGAN_TOLERANCE = 1.25  # a searched G "within 1.25x" of the hand-made one's FID counts as competitive


def window_means(series, k=TREND_WINDOW):
    """dict(k, first, last): the means of the first and of the last k values (k capped at len // 2), or None
    for fewer than 2 values."""
    k = min(k, len(series) // 2)
    if k < 1:
        return None
    return dict(k=k, first=statistics.fmean(series[:k]), last=statistics.fmean(series[-k:]))


def search_claims(seeds):
    """The duality gap and the architecture entropy fall (mean of the last TREND_WINDOW rounds < mean of the first);
    the derived genotype retrains to a lower FID than the mean of the random genotypes and than (or within
    SNGAN_TOLERANCE of) the SNGAN G of similar size."""
    def trend(key):
        return {s["seed"]: window_means(s[key]) for s in seeds}

    def falls(means):
        return None if means is None else means["last"] < means["first"]

    def beats(s, other, factor=1.0):
        return None if None in (s.get("retrain_fid"), other) else s["retrain_fid"] < factor * other

    dg, ent = trend("dg"), trend("entropy")
    fid = {s["seed"]: s["retrain_fid"] for s in seeds}
    random = {s["seed"]: mean_std(s.get("random_fids", []))[0] for s in seeds}
    sngan = {s["seed"]: s.get("sngan_fid") for s in seeds}
    window = f"mean of the last {TREND_WINDOW} rounds < mean of the first {TREND_WINDOW}"
    return [_claim("search", f"duality gap: {window}", dg, [falls(m) for m in dg.values()], {}),
            _claim("search", f"architecture entropy: {window}", ent, [falls(m) for m in ent.values()], {}),
            _claim("search", "retrained derived genotype FID (reference)", fid, [],
                   {"fid": mean_std(list(fid.values()))}),
            _claim("search", "derived genotype FID < mean FID of random genotypes (same recipe)",
                   {k: dict(derived=fid[k], random_mean=v) for k, v in random.items()},
                   [beats(s, random[s["seed"]]) for s in seeds],
                   {"random": mean_std([f for s in seeds for f in s.get("random_fids", [])])}),
            _claim("search", "derived genotype FID < SNGAN-ResNet G of similar size (same recipe)",
                   {k: dict(derived=fid[k], sngan=v) for k, v in sngan.items()},
                   [beats(s, sngan[s["seed"]]) for s in seeds], {"sngan": mean_std(list(sngan.values()))}),
            _claim("search", f"derived genotype FID < {SNGAN_TOLERANCE}x the SNGAN-ResNet G's (issue #19's goal)",
                   {k: None if None in (fid[k], v) else round(fid[k] / v, 3) for k, v in sngan.items()},
                   [beats(s, sngan[s["seed"]], SNGAN_TOLERANCE) for s in seeds], {})]


def claims_of(part, seeds, opts):
    """The claim rows of one part from its per-seed results."""
    if part == "dgl":
        return dgl_claims(seeds)
    if part == "sparse":
        return sparse_claims(seeds, [float(d) for d in opts.densities])
    return search_claims(seeds)


def run_part(part, root, opts, log=print):
    """All seeds of `part`; returns {status, seeds, claims} (status error with a reason when it fails)."""
    seeds = []
    for seed in opts.seeds:
        try:
            # When each seed finished: a report accumulates seeds run on other days (merge_seeds).
            seeds.append(dict(SEED_RUNNERS[part](seed, root, opts),
                              finished=datetime.datetime.now().isoformat(timespec="seconds")))
        except Exception as err:  # pylint: disable=broad-except
            # A failing part must not hide the others; its reason goes into the table.
            log(f"[reproduce] {part} seed {seed}: error: {type(err).__name__}: {err}")
            return dict(status="error", reason=f"seed {seed}: {type(err).__name__}: {str(err).splitlines()[0]}",
                        seeds=seeds, claims=claims_of(part, seeds, opts) if seeds else [])
        log(f"[reproduce] {part} seed {seed}: done")
    return dict(status="ok", seeds=seeds, claims=claims_of(part, seeds, opts))


# ------------------------------------------------------------------------------------------------------- report
def merge_seeds(previous, current, part, opts):
    """`current` (one run of `part`) plus the seeds of `previous` (an earlier run of it) that `current` did not
    run, claims recomputed over all: seeds run one at a time, on other days or in parallel processes, end up in one
    table. A seed run again replaces its earlier result."""
    if not previous:
        return current
    ran = {s["seed"] for s in current["seeds"]}
    seeds = sorted([s for s in previous.get("seeds", []) if s["seed"] not in ran] + current["seeds"],
                   key=lambda s: s["seed"])
    return dict(current, seeds=seeds, claims=claims_of(part, seeds, opts) if seeds else [])


def previous_results(json_path, opts):
    """The per-part results of an earlier report in the same place made with the same protocol ({} if none), so
    parts and seeds run one at a time end up in one table."""
    if not os.path.exists(json_path):
        return {}
    previous = read_json(json_path)
    same = previous.get("meta", {}).get("protocol", {}) == json_roundtrip(protocol(opts))
    return previous.get("results", {}) if same else {}


def json_roundtrip(value):
    """`value` as it reads back from JSON (tuples become lists)."""
    return json.loads(json.dumps(value))


def _num(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_num(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (float, type(None))) for v in value):
        return "-" if value[0] is None else f"{value[0]:.4g} +- {value[1]:.2g}"
    return str(value)


def protocol(opts):
    """How the numbers were made, for the report header."""
    return dict(
        data="built-in offline digits (sklearn, 1,797 images) at each preset's resolution",
        fid="FID on the offline digits classifier's features vs the training images (tfgan_eff.metrics; not "
            "Inception, so not comparable to published numbers)",
        sizes="--quick: presets.smoke (16 px, widths <= 8, 4 steps, 32 eval samples)" if opts.quick else
              "the methods' presets as `--method=X` runs them (export off)",
        sparse_densities=list(opts.densities), dgl_curve_points=opts.curve_points,
        search_random_genotypes=opts.random_genotypes)


def markdown(results, meta, pngs):
    """The reproduction report: machine and protocol, one row per claim, per-part status, the plots."""
    lines = [f"# Small-scale reproduction on `{meta['machine_id']}`", "",
             f"- Machine: {meta.get('machine', '')}",
             f"- Last run: {meta['started']} ({meta['wall_s']:.0f} s), load average before {meta['load_before']}, "
             f"after {meta['load_after']}"]
    lines += [f"- {k}: {v}" for k, v in meta["protocol"].items()]
    lines += ["", "| part | claim | per seed | holds in | mean +- std |", "|---|---|---|---|---|"]
    for part, result in results.items():
        for c in result.get("claims", []):
            per_seed = "; ".join(f"s{seed}: {_num(v)}" for seed, v in c["per_seed"].items())
            holds = f"{c['holds_in']}/{c['seeds']}" if c["seeds"] else "-"
            lines.append(f"| {part} | {c['claim']} | {per_seed} | {holds} | {_num(c['detail']) or '-'} |")
    lines += ["", "## Parts", ""]
    for part, result in results.items():
        reason = f": {result['reason']}" if result.get("reason") else ""
        done = [s["seed"] for s in result.get("seeds", [])]
        lines.append(f"- {part}: **{result['status']}**{reason} ({len(done)} seed(s) done: {done})")
    if pngs:
        lines += ["", "## Plots", ""] + [f"![{os.path.basename(p)}]({os.path.basename(p)})" for p in pngs]
    return "\n".join(lines) + "\n"
