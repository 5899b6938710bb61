"""The reproduction's claim rows on hand-made per-seed results (no training), each with a seed against the claim."""

import pytest

from benchmarks import claims, reproduction


def curve(*fids, every=10):
    """[(step, FID)] at every `every` steps."""
    return [(every * (i + 1), fid) for i, fid in enumerate(fids)]


def test_dgl_claim_counts_seeds_where_dgl_beats_plain_and_names_the_losing_one():
    seeds = [dict(seed=0, final_fid={"teacher": 10.0, "plain student": 30.0, "DGL student": 20.0},
                  curves=dict(dgl=curve(50.0, 20.0), plain=curve(40.0, 30.0))),
             dict(seed=1, final_fid={"teacher": 12.0, "plain student": 25.0, "DGL student": 26.0},
                  curves=dict(dgl=curve(45.0, 26.0), plain=curve(45.0, 25.0)))]
    rows = claims.dgl_claims(seeds)
    assert len(rows) == 1
    row = rows[0]
    assert (row["holds_in"], row["seeds"], row["against"]) == (1, 2, [1])
    mean, std = row["detail"]["dgl_mean_std"]
    assert mean == pytest.approx(23.0) and std == pytest.approx(4.2426, rel=1e-3)
    # The gap along the runs: at step 10 DGL is behind in seed 0 and level in seed 1; at step 20 ahead in seed 0.
    assert row["gap"] == [dict(step=10, gap=5.0, holds=0, seeds=2), dict(step=20, gap=-4.5, holds=1, seeds=2)]


def test_two_stage_stability_rows_final_fid_spread_and_jitter():
    def seed(s, two_stage, zero):
        return dict(seed=s, final_fid={"teacher": 9.0, "plain student": 99.0, "DGL student": two_stage[-1]},
                    curves=dict(dgl=curve(*two_stage), plain=[]), from_zero=dict(fid=zero[-1], curve=curve(*zero)))

    seeds = [seed(0, [30.0, 20.0, 21.0, 20.0], [30.0, 10.0, 30.0, 25.0]),  # steadier and better
             seed(1, [40.0, 20.0, 24.0, 22.0], [30.0, 24.0, 21.0, 20.0]),  # jumpier, and ends worse
             seed(2, [30.0, 21.0, 22.0, 21.5], [30.0, 12.0, 28.0, 26.0])]
    rows = claims.dgl_claims(seeds)
    final, shake = rows[1], rows[2]
    assert final["per_seed"][1] == {"two-stage": 22.0, "from step 0": 20.0}
    assert (final["holds_in"], final["seeds"], final["against"]) == (2, 3, [1])
    assert final["detail"]["std_two_stage_lower"] is True  # 1.04 vs 3.21
    assert shake["per_seed"][0] == {"two-stage": pytest.approx(4.0), "from step 0": pytest.approx(15.0)}
    assert shake["per_seed"][1] == {"two-stage": pytest.approx(26.0 / 3), "from step 0": pytest.approx(10.0 / 3)}
    assert (shake["holds_in"], shake["against"]) == (2, [1])
    assert "mean |FID_t - FID_(t-1)|" in shake["statistic"]


def test_jitter_needs_two_points():
    assert claims.jitter([(1, 5.0)]) is None
    assert claims.jitter([(1, 5.0), (2, 7.0), (3, 4.0)]) == pytest.approx(2.5)


def test_full_width_row_compares_dgl_with_the_same_g_alone():
    def seed(s, dgl, alone):
        return dict(seed=s, final_fid={"teacher": 11.0}, curves={},
                    full_width=dict(final_fid={"DGL student": dgl, "plain student": alone},
                                    curves=dict(dgl=curve(dgl), plain=curve(alone))))

    row = claims.dgl_claims([seed(0, 10.0, 12.0), seed(1, 13.0, 12.5), seed(2, 9.0, 9.5)])[-1]
    assert row["claim"].startswith("DGL improves an uncompressed G")
    assert row["per_seed"][1] == dict(dgl=13.0, alone=12.5, teacher=11.0)
    assert (row["holds_in"], row["seeds"], row["against"]) == (2, 3, [1])
    assert row["detail"]["teacher_mean_std"] == (11.0, 0.0)


def sparse_seed(s, dynamic, static, pruned, dense):
    """A seed's points at d_G 0.2 (two-point curves ending at the final FIDs) and the dense run."""
    points = [dict(mode="dense", target_density=1.0, d_density=1.0, fid=dense, curve=curve(dense + 5, dense))]
    for mode, fid in (("dynamic", dynamic), ("static", static), ("pruned", pruned)):
        points.append(dict(mode=mode, target_density=0.2, d_density=0.3, fid=fid, curve=curve(fid + 5, fid)))
    return dict(seed=s, points=points)


def test_sparse_rows_dynamic_vs_static_pruned_and_dense_match():
    seeds = [sparse_seed(0, 20.0, 22.0, 25.0, 19.5), sparse_seed(1, 21.0, 20.0, 20.5, 19.0),
             sparse_seed(2, 18.0, 19.0, 19.0, 18.0)]
    rows = claims.sparse_claims(seeds, [0.2], "pruned: 5 + 5 steps")
    assert len(rows) == 4
    dyn_static, vs_pruned, reaches, dense = rows[0], rows[1], rows[2], rows[3]
    assert (dyn_static["holds_in"], dyn_static["against"]) == (2, [1])
    assert vs_pruned["per_seed"][1] == dict(sparse=21.0, pruned=20.5) and vs_pruned["against"] == [1]
    assert "same total G steps (pruned: 5 + 5 steps)" in vs_pruned["statistic"]
    # 20 < 1.05 * 19.5 and 18 < 1.05 * 18, but 21 > 1.05 * 19 = 19.95.
    assert (reaches["holds_in"], reaches["seeds"], reaches["against"]) == (2, 3, [1])
    assert "d_G=0.2, d_D=0.3" in reaches["claim"] and reaches["gap"][-1]["holds"] == 2
    assert dense["per_seed"] == {0: 19.5, 1: 19.0, 2: 18.0} and dense["seeds"] == 0  # a reference, no verdict


def test_sparse_rows_without_pruned_runs_or_density_02_leave_them_out():
    points = [dict(mode="dynamic", target_density=0.5, fid=5.0), dict(mode="static", target_density=0.5, fid=6.0),
              dict(mode="reset", target_density=0.5, fid=4.0), dict(mode="dense", target_density=1.0, fid=3.0)]
    rows = claims.sparse_claims([dict(seed=0, points=points)], [0.5])
    assert [r["claim"] for r in rows] == ["dynamic G FID < static FID at d_G=0.5",
                                         "dynamic G, Adam moments kept (official) FID < reset (RigL) at d_G=0.5",
                                         "dense FID (reference)"]
    assert rows[1]["per_seed"] == {0: dict(kept=5.0, reset=4.0)} and rows[1]["against"] == [0]


def test_search_claims_need_two_rounds():
    seeds = [dict(seed=0, dg=[3.0, 2.0], entropy=[1.79, 1.80], retrain_fid=9.0),
             dict(seed=1, dg=[1.0], entropy=[1.79], retrain_fid=None)]
    rows = claims.search_claims(seeds)
    assert len(rows) == 7
    dg, entropy, fid, random, sngan, near_sngan, cost = (rows[i] for i in range(7))
    assert (dg["holds_in"], dg["seeds"]) == (1, 1)  # seed 1 has a single round: no verdict
    assert dg["per_seed"] == {0: dict(k=1, first=3.0, last=2.0), 1: None}
    assert entropy["holds_in"] == 0 and entropy["against"] == [0]
    assert fid["detail"]["fid"] == (9.0, 0.0)
    assert random["seeds"] == sngan["seeds"] == near_sngan["seeds"] == cost["seeds"] == 0  # nothing to compare


def test_trend_claims_compare_window_means_not_single_rounds():
    """A gap whose last round is below its first but whose last 5 rounds average above the first 5 does not fall."""
    assert claims.TREND_WINDOW == 5
    rising = [1.0, 0.2, 0.2, 0.2, 0.2] + [0.5] * 4 + [0.9, 0.9, 0.9, 0.9, 0.8]
    falling = list(reversed(rising))
    seeds = [dict(seed=0, dg=rising, entropy=falling, retrain_fid=None),
             dict(seed=1, dg=falling, entropy=falling, retrain_fid=None)]
    dg, entropy = claims.search_claims(seeds)[:2]
    assert rising[-1] < rising[0] and (dg["holds_in"], dg["seeds"]) == (1, 2)
    assert dg["per_seed"][0] == dict(k=5, first=pytest.approx(0.36), last=pytest.approx(0.88))
    assert (entropy["holds_in"], entropy["seeds"]) == (2, 2)
    assert "mean of the last 5 rounds < mean of the first 5" in dg["claim"]


def test_search_claims_compare_derived_with_random_mean_and_sngan_along_the_curves():
    seeds = [dict(seed=0, dg=[], entropy=[], retrain_fid=9.0, random_fids=[8.0, 12.0, 13.0], sngan_fid=10.0,
                  retrain_curve=curve(20.0, 9.0), random_curves=[curve(18.0, 8.0), curve(30.0, 12.0)],
                  sngan_curve=curve(15.0, 10.0)),
             dict(seed=1, dg=[], entropy=[], retrain_fid=20.0, random_fids=[30.0, None], sngan_fid=15.0)]
    random, sngan, near_sngan = claims.search_claims(seeds)[3:6]
    assert random["per_seed"][0] == dict(derived=9.0, random_mean=11.0)
    assert (random["holds_in"], random["seeds"]) == (2, 2)  # 9 < 11 and 20 < 30
    assert random["gap"] == [dict(step=10, gap=-4.0, holds=1, seeds=1), dict(step=20, gap=-1.0, holds=1, seeds=1)]
    assert (sngan["holds_in"], sngan["seeds"], sngan["against"]) == (1, 2, [1])  # 9 < 10 but 20 > 15
    assert near_sngan["per_seed"] == {0: 0.9, 1: 1.333} and (near_sngan["holds_in"], near_sngan["seeds"]) == (1, 2)
    assert random["detail"]["random"][0] == pytest.approx(63.0 / 4)


def test_search_cost_row_is_search_wall_time_over_one_retraining():
    seeds = [dict(seed=s, dg=[], entropy=[], retrain_fid=None, search_wall_s=search, retrain_wall_s=retrain,
                  search_cpu_s=search / 2, retrain_cpu_s=retrain and retrain / 4)
             for s, search, retrain in ((0, 300.0, 600.0), (1, 900.0, 600.0), (2, 100.0, None))]
    cost = claims.search_claims(seeds)[-1]
    assert cost["per_seed"] == {0: 0.5, 1: 1.5, 2: None}
    assert (cost["holds_in"], cost["seeds"], cost["against"]) == (1, 2, [1])
    assert cost["detail"]["ratio"] == (1.0, pytest.approx(0.7071, rel=1e-3))
    assert cost["detail"]["cpu_ratio"] == (2.0, pytest.approx(1.4142, rel=1e-3))


def test_a_retraining_resumed_without_its_earlier_time_has_no_cost():
    search = dict(search_seconds=300.0, search_cpu_seconds=290.0)
    timed = dict(train_wall_time_s=600.0, train_cpu_time_s=580.0)
    assert reproduction.search_cost(search, dict(timed, time_from_step=0)) == dict(
        search_wall_s=300.0, search_cpu_s=290.0, retrain_wall_s=600.0, retrain_cpu_s=580.0)
    for unknown in (dict(timed, time_from_step=2500), timed):  # resumed from an unrecorded checkpoint; older summary
        assert reproduction.search_cost(search, unknown)["retrain_wall_s"] is None


def test_mean_curve_keeps_the_steps_every_curve_has():
    assert claims.mean_curve([curve(1.0, 3.0), curve(3.0, 5.0, 7.0)]) == [(10, 2.0), (20, 4.0)]
    assert claims.mean_curve([]) == []


def test_mean_std_ignores_missing():
    assert claims.mean_std([None, 2.0, 4.0]) == (3.0, pytest.approx(1.41421, rel=1e-4))
    assert claims.mean_std([None]) == (None, None)


def search_seed(s, fid):
    """A search part's seed with the derived G at `fid` against random genotypes (50) and SNGAN (40)."""
    return dict(seed=s, dg=[], entropy=[], retrain_fid=fid, random_fids=[50.0], sngan_fid=40.0)


def part_result(part, seeds, opts):
    """`part`'s result as run_parts returns it, under `opts`' protocol."""
    return dict(status="ok", seeds=seeds, claims=reproduction.claims_of(part, seeds, opts),
                protocol=reproduction.part_protocol(reproduction.json_roundtrip(reproduction.protocol(opts)), part))


def test_a_part_run_apart_keeps_the_others_and_merges_only_seeds_of_its_own_protocol(tmp_path):
    path = str(tmp_path / "reproduce.json")
    three = reproduction.Options(seeds=(0, 1, 2))
    full = reproduction.json_roundtrip(reproduction.protocol(three))
    # A report that keeps one protocol for all its parts (the sparse seeds' fields do not matter here).
    earlier = {"sparse": dict(status="ok", seeds=[dict(seed=s) for s in (0, 1, 2)], claims=[]),
               "search": dict(status="ok", seeds=[search_seed(0, 45.0)], claims=[])}
    reproduction.write_json(path, dict(meta=dict(protocol=full), results=earlier))
    previous = reproduction.previous_results(path)
    assert set(previous) == {"sparse", "search"}
    assert previous["sparse"]["protocol"]["sparse_densities"] == "0.1, 0.2, 0.5"
    assert "sparse_densities" not in previous["search"]["protocol"]
    assert set(previous["search"]["protocol"]["steps"]) == {"search_rounds", "retrain_steps"}

    # The search part run alone, with other sparse densities on the command line: its seeds merge.
    other_densities = reproduction.Options(seeds=(1,), densities=(0.3,))
    search = part_result("search", [search_seed(1, 30.0)], other_densities)
    merged = reproduction.merge_seeds(previous["search"], search, "search", other_densities)
    assert [s["seed"] for s in merged["seeds"]] == [0, 1] and merged["claims"][3]["seeds"] == 2
    # The sparse part at another scale replaces the earlier sparse part, seeds and all.
    long = reproduction.Options(seeds=(1,), scale="long")
    sparse = part_result("sparse", [], long)
    assert reproduction.merge_seeds(previous["sparse"], sparse, "sparse", long) is sparse
    assert reproduction.merge_seeds(None, search, "search", other_densities) is search

    # The report's header shows what every part shares; each part lists its own settings.
    meta = dict(machine_id="m", started="t", wall_s=1.0, load_before=[], load_after=[],
                protocol=reproduction.protocol(other_densities))
    text = reproduction.markdown(dict(previous, search=merged), meta)
    header, parts = text.split("## Parts")
    assert "sparse_densities" not in header and "- scale: preset" in header
    assert "- sparse: **ok** (3 seed(s) done: [0, 1, 2])\n  - sparse_densities: 0.1, 0.2, 0.5" in parts
    assert "search_random_genotypes: 3" in parts.split("- search:")[1]


def test_seeds_run_separately_merge_into_one_part_with_claims_over_all():
    opts = reproduction.Options(seeds=(1,))
    earlier = part_result("search", [search_seed(0, 45.0), search_seed(1, 99.0)], opts)
    current = part_result("search", [search_seed(1, 30.0)], opts)
    merged = reproduction.merge_seeds(earlier, current, "search", opts)
    assert [(s["seed"], s["retrain_fid"]) for s in merged["seeds"]] == [(0, 45.0), (1, 30.0)]  # seed 1 replaced
    beats_random = merged["claims"][3]
    assert (beats_random["holds_in"], beats_random["seeds"]) == (2, 2)


def seed_at_densities(s, fids):
    """A sparse part's seed: dense at 10 + s and {density: (dynamic FID, static FID)}."""
    points = [dict(mode="dense", target_density=1.0, fid=10.0 + s)]
    for density, (dynamic, static) in fids.items():
        points += [dict(mode="dynamic", target_density=density, fid=dynamic),
                   dict(mode="static", target_density=density, fid=static)]
    return dict(seed=s, points=points)


def test_sparse_densities_run_later_add_to_the_earlier_report():
    earlier_opts = reproduction.Options(seeds=(0, 1), densities=(0.2, 0.1))
    earlier = part_result("sparse", [seed_at_densities(0, {0.2: (5.0, 6.0), 0.1: (7.0, 8.0)}),
                                     seed_at_densities(1, {0.2: (5.5, 5.0), 0.1: (7.5, 8.5)})], earlier_opts)
    # Density 0.5 for seed 0 only, and 0.2 again for seed 0 (its new result replaces the earlier one).
    opts = reproduction.Options(seeds=(0,), densities=(0.5, 0.2))
    current = part_result("sparse", [seed_at_densities(0, {0.5: (3.0, 4.0), 0.2: (9.0, 6.0)})], opts)
    merged = reproduction.merge_seeds(earlier, current, "sparse", opts)
    assert merged["protocol"]["sparse_densities"] == "0.2, 0.1, 0.5"
    seed0, seed1 = merged["seeds"]
    assert sorted((p["mode"], p["target_density"], p["fid"]) for p in seed0["points"]) == [
        ("dense", 1.0, 10.0), ("dynamic", 0.1, 7.0), ("dynamic", 0.2, 9.0), ("dynamic", 0.5, 3.0),
        ("static", 0.1, 8.0), ("static", 0.2, 6.0), ("static", 0.5, 4.0)]
    assert seed1 == earlier["seeds"][1]
    rows = {row["claim"]: row for row in merged["claims"]}
    at = {d: rows[f"dynamic G FID < static FID at d_G={d}"] for d in (0.2, 0.1, 0.5)}
    assert (at[0.2]["holds_in"], at[0.2]["seeds"], at[0.2]["against"]) == (0, 2, [0, 1])
    assert (at[0.1]["holds_in"], at[0.1]["seeds"]) == (2, 2)
    assert (at[0.5]["holds_in"], at[0.5]["seeds"]) == (1, 1)  # seed 1 has no 0.5 run: no verdict, not a loss
    # Another protocol (here: another scale) still replaces the earlier part.
    long = reproduction.Options(seeds=(0,), densities=(0.5,), scale="long")
    assert reproduction.merge_seeds(earlier, part_result("sparse", [], long), "sparse", long)["seeds"] == []


def test_markdown_shows_statistic_losing_seeds_and_the_gap_along_the_runs():
    seeds = [dict(seed=0, final_fid={"plain student": 30.0, "DGL student": 20.0},
                  curves=dict(dgl=curve(50.0, 20.0), plain=curve(40.0, 30.0))),
             dict(seed=1, final_fid={"plain student": 25.0, "DGL student": 26.0}, curves={})]
    results = {"dgl": dict(status="ok", seeds=seeds, claims=claims.dgl_claims(seeds))}
    meta = dict(machine_id="m", started="t", wall_s=1.0, load_before=[], load_after=[], protocol={}, jobs=2,
                threads=1)
    text = reproduction.markdown(results, meta)
    assert "| dgl | DGL student FID < plain student FID (same size, same steps) | final FID of each seed's two " \
           "students | s0: teacher -, plain 30, dgl 20; s1: teacher -, plain 25, dgl 26 | 1/2 | s1 |" in text
    assert "| DGL student vs plain student | 10: +10 (0/1); 20: -10 (1/1) |" in text
    assert "2 job(s) at once, 1 TF thread(s) per run" in text


def test_claim_curves_plot_draws_one_panel_per_claim_with_curves(tmp_path):
    pytest.importorskip("matplotlib")
    from benchmarks import plots

    seeds = [sparse_seed(0, 20.0, 22.0, 25.0, 19.5), sparse_seed(1, 21.0, 20.0, 20.5, 19.0)]
    rows = claims.sparse_claims(seeds, [0.2, 0.5])  # nothing at 0.5: a panel without curves
    assert plots.plot_claim_curves("sparse", rows[-1:], str(tmp_path)) is None  # the dense reference has none
    path = plots.plot_claim_curves("sparse", rows, str(tmp_path))
    assert path == str(tmp_path / "sparse_claim_curves.png")
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
