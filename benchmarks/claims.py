"""The reproduction's claim rows, computed from per-seed results (pure functions of dicts; no training).

Every row declares its statistic, gives each seed's values and verdict (True / False / None = not measured), and
names the seeds against the claim. A row comparing two runs along their FID curves also says how the gap evolves:
at each FID point, the mean over seeds of A - B and the seeds where A wins there.
"""

import statistics

# The search trend claims compare the mean of the first k rounds with the mean of the last k, declared before
# measuring: single rounds are noisy (K = 10 worst-case steps at a small lr leave D_worst ~ D), and k = 5 is a sixth
# of the preset's 30 rounds. Runs with fewer than 2k rounds use k = rounds // 2 (none below 2 rounds).
TREND_WINDOW = 5
SNGAN_TOLERANCE = 1.25  # a searched G "within 1.25x" of the hand-made one's FID counts as competitive
SEARCH_COST_LIMIT = 1.0  # "cheap": the search takes less wall time than one retraining of the derived G
DENSE_MATCH_DENSITY = 0.2  # STU-GAN's claim: at d_G 0.2 (d_D 0.3, the preset's) the sparse run reaches dense FID
DENSE_MATCH_TOLERANCE = 1.05  # "reaches": the sparse run's FID is at most 5 % above the dense run's


def mean_std(values):
    """(mean, sample std) of the non-None values; std 0 for one value; (None, None) for none."""
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def jitter(curve):
    """mean |FID_t - FID_(t-1)| over consecutive points of a [(step, FID)] curve (None below two points)."""
    fids = [fid for _, fid in curve if fid is not None]
    if len(fids) < 2:
        return None
    return statistics.fmean(abs(b - a) for a, b in zip(fids, fids[1:]))


def lower(a, b, factor=1.0):
    """a < factor * b, or None when either is missing."""
    return None if a is None or b is None else a < factor * b


def gap_by_step(curves_a, curves_b, wins=lower):
    """[{step, gap, holds, seeds}] at every step that both curves of a seed have: the mean over those seeds of
    FID_A - FID_B, and in how many of them wins(FID_A, FID_B)."""
    table = {}
    for seed, curve_a in curves_a.items():
        b = dict(curves_b.get(seed) or [])
        for step, fid_a in curve_a or []:
            if fid_a is not None and b.get(step) is not None:
                table.setdefault(step, []).append((fid_a, b[step]))
    return [dict(step=step, gap=statistics.fmean(a - b for a, b in pairs),
                 holds=sum(bool(wins(a, b)) for a, b in pairs), seeds=len(pairs))
            for step, pairs in sorted(table.items())]


def claim(part, text, statistic, per_seed, verdicts, *, detail=None, curves=None, wins=lower):
    """A claim row. verdicts: {seed: True / False / None}; curves: optional {label A: {seed: curve}, label B: ...}
    (the first beats the second where wins(A, B)), whose per-step gap the row reports."""
    decided = {seed: v for seed, v in verdicts.items() if v is not None}
    row = dict(part=part, claim=text, statistic=statistic, per_seed=per_seed, holds_in=sum(decided.values()),
               seeds=len(decided), against=[seed for seed, v in decided.items() if not v], detail=detail or {})
    if curves:
        (_, a), (_, b) = list(curves.items())[:2]
        row.update(curves=curves, gap=gap_by_step(a, b, wins))
    return row


def _pair_claim(part, text, statistic, pairs, labels, curves=None, *, factor=1.0, detail=None):
    """A row where, per seed, value A beats value B when A < factor * B. pairs: {seed: {label: value}}."""
    a, b = labels
    verdicts = {seed: lower(v.get(a), v.get(b), factor) for seed, v in pairs.items()}
    means = {f"{k}_mean_std": mean_std([v.get(k) for v in pairs.values()]) for k in labels}
    return claim(part, text, statistic, pairs, verdicts, detail=dict(means, **(detail or {})), curves=curves,
                 wins=lambda x, y: lower(x, y, factor))


# ---------------------------------------------------------------------------------------------------------- DGL
def dgl_claims(seeds):
    """DGL-GAN: the DGL student beats the plain one (and under the fine-tune schedule, when run); the two-stage
    schedule is more stable than DGL from step 0 (final FID and its spread over seeds; curve jitter); DGL also
    improves an uncompressed G (a student as wide as the teacher)."""
    def final(key):
        return {s["seed"]: dict(teacher=s[key].get("teacher"), plain=s[key].get("plain student"),
                                dgl=s[key].get("DGL student")) for s in seeds if s.get(key)}

    def curves(get):
        return {s["seed"]: get(s) for s in seeds}

    same = final("final_fid")
    rows = [_pair_claim("dgl", "DGL student FID < plain student FID (same size, same steps)",
                        "final FID of each seed's two students", same, ("dgl", "plain"),
                        {"DGL student": curves(lambda s: s.get("curves", {}).get("dgl")),
                         "plain student": curves(lambda s: s.get("curves", {}).get("plain"))},
                        detail={"teacher_mean_std": mean_std([v["teacher"] for v in same.values()])})]
    if any("finetune_fid" in s for s in seeds):
        rows.append(_pair_claim("dgl", "fine-tune schedule: DGL student FID < plain student FID (stage 2 and plain "
                                       "continue the fully trained student)", "final FID of each seed's two students",
                                final("finetune_fid"), ("dgl", "plain")))
    zero = [s for s in seeds if s.get("from_zero")]
    if zero:
        pairs = {s["seed"]: {"two-stage": s["final_fid"].get("DGL student"), "from step 0": s["from_zero"]["fid"]}
                 for s in zero}
        spread = {k: mean_std([v[k] for v in pairs.values()])[1] for k in ("two-stage", "from step 0")}
        rows.append(_pair_claim(
            "dgl", "two-stage schedule more stable than DGL from step 0: final FID lower", "final FID per seed; the "
            "spread over seeds (std) in the details", pairs, ("two-stage", "from step 0"),
            {"two-stage": curves(lambda s: s.get("curves", {}).get("dgl")),
             "from step 0": curves(lambda s: s.get("from_zero", {}).get("curve"))},
            detail={"std_two_stage_lower": None if None in spread.values() else
                    spread["two-stage"] < spread["from step 0"]}))
        shakes = {s["seed"]: {"two-stage": jitter(s.get("curves", {}).get("dgl") or []),
                              "from step 0": jitter(s["from_zero"].get("curve") or [])} for s in zero}
        rows.append(_pair_claim("dgl", "two-stage schedule more stable than DGL from step 0: FID curve jitter lower",
                                "jitter = mean |FID_t - FID_(t-1)| over the run's FID points", shakes,
                                ("two-stage", "from step 0")))
    wide = [s for s in seeds if s.get("full_width")]
    if wide:
        pairs = {s["seed"]: dict(dgl=s["full_width"]["final_fid"].get("DGL student"),
                                 alone=s["full_width"]["final_fid"].get("plain student"),
                                 teacher=s["final_fid"].get("teacher")) for s in wide}
        rows.append(_pair_claim(
            "dgl", "DGL improves an uncompressed G: a student as wide as the teacher, DGL FID < the same G alone",
            "final FID; 'alone' = the same G, same stage 1 and steps, without the teacher term", pairs,
            ("dgl", "alone"), {"DGL (full width)": curves(lambda s: s["full_width"].get("curves", {}).get("dgl")),
                               "alone (full width)": curves(lambda s: s["full_width"].get("curves", {}).get("plain"))},
            detail={"teacher_mean_std": mean_std([v["teacher"] for v in pairs.values()])}))
    return rows


# ------------------------------------------------------------------------------------------------------- sparse
def _point(seed, mode, density=None):
    """The point of `mode` (dynamic, static, reset, pruned or dense) at `density` (None: any) of one seed, or {}."""
    return next((p for p in seed["points"] if p["mode"] == mode and
                 (density is None or p["target_density"] == density)), {})


def sparse_claims(seeds, densities, prune_budget=""):
    """STU-GAN: dynamic beats static masks at each density (and the kept vs reset Adam moments arm, when run); the
    sparse run beats a dense run pruned once to the same densities with the same total steps; at d_G 0.2 the sparse
    run reaches the dense run's FID; the dense FID as a reference."""
    def fids(mode, density):
        return {s["seed"]: _point(s, mode, density).get("fid") for s in seeds}

    def curves(mode, density):
        return {s["seed"]: _point(s, mode, density).get("curve") for s in seeds}

    rows = []
    for density in densities:
        dyn, static = fids("dynamic", density), fids("static", density)
        rows.append(_pair_claim("sparse", f"dynamic G FID < static FID at d_G={density}", "final FID per seed",
                                {k: dict(dynamic=dyn[k], static=static[k]) for k in dyn}, ("dynamic", "static"),
                                {"dynamic G": curves("dynamic", density), "static": curves("static", density)}))
        reset = fids("reset", density)
        if any(v is not None for v in reset.values()):
            rows.append(_pair_claim("sparse", f"dynamic G, Adam moments kept (official) FID < reset (RigL) at "
                                              f"d_G={density}", "final FID per seed",
                                    {k: dict(kept=dyn[k], reset=v) for k, v in reset.items()}, ("kept", "reset")))
        pruned = fids("pruned", density)
        if any(v is not None for v in pruned.values()):
            rows.append(_pair_claim(
                "sparse", f"sparse G and D trained from scratch FID < dense pruned once and retrained at d_G={density}",
                f"final FID per seed; same total G steps ({prune_budget})",
                {k: dict(sparse=dyn[k], pruned=v) for k, v in pruned.items()}, ("sparse", "pruned"),
                {"sparse (dynamic G)": curves("dynamic", density),
                 "dense, pruned, retrained": curves("pruned", density)}))
    dense = fids("dense", None)
    if DENSE_MATCH_DENSITY in densities:
        dyn = fids("dynamic", DENSE_MATCH_DENSITY)
        d_density = mean_std([_point(s, "dynamic", DENSE_MATCH_DENSITY).get("d_density") for s in seeds])[0]
        rows.append(_pair_claim(
            "sparse", f"sparse run reaches the dense run's FID at d_G={DENSE_MATCH_DENSITY}, d_D={d_density or 0:.2g}",
            f"FID_sparse < {DENSE_MATCH_TOLERANCE} x FID_dense per seed",
            {k: dict(sparse=dyn[k], dense=v) for k, v in dense.items()}, ("sparse", "dense"),
            {"sparse (dynamic G)": curves("dynamic", DENSE_MATCH_DENSITY), "dense": curves("dense", None)},
            factor=DENSE_MATCH_TOLERANCE))
    rows.append(claim("sparse", "dense FID (reference)", "final FID", dense, {},
                      detail={"dense": mean_std(list(dense.values()))}))
    return rows


# ------------------------------------------------------------------------------------------------------- search
def window_means(series, k=TREND_WINDOW):
    """dict(k, first, last): the means of the first and of the last k values (k capped at len // 2), or None
    for fewer than 2 values."""
    k = min(k, len(series) // 2)
    if k < 1:
        return None
    return dict(k=k, first=statistics.fmean(series[:k]), last=statistics.fmean(series[-k:]))


def mean_curve(curves):
    """The pointwise mean of several [(step, FID)] curves, at the steps all of them have ([] for none)."""
    curves = [dict(c) for c in curves if c]
    if not curves:
        return []
    steps = sorted(set.intersection(*(set(c) for c in curves)))
    return [(step, statistics.fmean(c[step] for c in curves)) for step in steps
            if all(c[step] is not None for c in curves)]


def search_claims(seeds):
    """alphaGAN: the duality gap and the architecture entropy fall (mean of the last TREND_WINDOW rounds < mean of
    the first); the derived genotype retrains to a lower FID than the mean of the random genotypes and than (or within
    SNGAN_TOLERANCE of) the SNGAN G of similar size; the search costs less wall time than one retraining (and the
    same ratio in process CPU time, robust to other load on the machine, in the row's detail)."""
    def trend(key):
        return {s["seed"]: window_means(s[key]) for s in seeds}

    def falls(means):
        return {seed: None if m is None else m["last"] < m["first"] for seed, m in means.items()}

    fid = {s["seed"]: s["retrain_fid"] for s in seeds}
    derived = {s["seed"]: s.get("retrain_curve") for s in seeds}
    random = {s["seed"]: dict(derived=fid[s["seed"]], random_mean=mean_std(s.get("random_fids", []))[0])
              for s in seeds}
    sngan = {s["seed"]: dict(derived=fid[s["seed"]], sngan=s.get("sngan_fid")) for s in seeds}
    window = f"mean of the last {TREND_WINDOW} rounds < mean of the first {TREND_WINDOW}"
    dg, ent = trend("dg"), trend("entropy")
    rows = [claim("search", f"duality gap: {window}", "per-round duality gap", dg, falls(dg)),
            claim("search", f"architecture entropy: {window}", "per-round mean entropy of softmax(alpha)", ent,
                  falls(ent)),
            claim("search", "retrained derived genotype FID (reference)", "final FID", fid, {},
                  detail={"fid": mean_std(list(fid.values()))}),
            _pair_claim("search", "derived genotype FID < mean FID of random genotypes (same recipe)",
                        "final FID vs the mean over the seed's random genotypes", random, ("derived", "random_mean"),
                        {"derived": derived, "random (mean)": {s["seed"]: mean_curve(s.get("random_curves", []))
                                                               for s in seeds}},
                        detail={"random": mean_std([f for s in seeds for f in s.get("random_fids", [])])}),
            _pair_claim("search", "derived genotype FID < SNGAN-ResNet G of similar size (same recipe)", "final FID",
                        sngan, ("derived", "sngan"),
                        {"derived": derived, "SNGAN G": {s["seed"]: s.get("sngan_curve") for s in seeds}}),
            claim("search", f"derived genotype FID < {SNGAN_TOLERANCE}x the SNGAN-ResNet G's",
                  "FID_derived / FID_SNGAN per seed",
                  {k: None if None in v.values() else round(v["derived"] / v["sngan"], 3) for k, v in sngan.items()},
                  {k: lower(v["derived"], v["sngan"], SNGAN_TOLERANCE) for k, v in sngan.items()})]
    def ratio(search_key, retrain_key):
        return {s["seed"]: (None if not (s.get(search_key) and s.get(retrain_key)) else
                            round(s[search_key] / s[retrain_key], 3)) for s in seeds}

    wall, cpu = ratio("search_wall_s", "retrain_wall_s"), ratio("search_cpu_s", "retrain_cpu_s")
    rows.append(claim("search", f"search cheap next to training: search wall time < {SEARCH_COST_LIMIT}x one "
                                "retraining of the derived G",
                      "wall time of the search rounds / of the derived G retraining's training loop (each summed "
                      "over resumes), per seed",
                      wall, {k: None if v is None else v < SEARCH_COST_LIMIT for k, v in wall.items()},
                      detail={"ratio": mean_std(list(wall.values())), "cpu_ratio": mean_std(list(cpu.values())),
                              "search_s": mean_std([s.get("search_wall_s") for s in seeds]),
                              "retrain_s": mean_std([s.get("retrain_wall_s") for s in seeds])}))
    return rows
