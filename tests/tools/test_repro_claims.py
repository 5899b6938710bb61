"""The reproduction's claim logic on hand-made per-seed results (no training)."""

import pytest

from benchmarks import reproduction


def test_dgl_claim_counts_seeds_where_dgl_beats_plain():
    seeds = [dict(seed=0, final_fid={"teacher": 10.0, "plain student": 30.0, "DGL student": 20.0}),
             dict(seed=1, final_fid={"teacher": 12.0, "plain student": 25.0, "DGL student": 26.0})]
    claim, = reproduction.dgl_claims(seeds)
    assert (claim["holds_in"], claim["seeds"]) == (1, 2)
    mean, std = claim["detail"]["dgl_fid_mean_std"]
    assert mean == pytest.approx(23.0) and std == pytest.approx(4.2426, rel=1e-3)


def test_sparse_claims_per_density_and_dense_reference():
    points = [dict(mode="dynamic_g", target_density=0.2, fid=5.0), dict(mode="static", target_density=0.2, fid=6.0),
              dict(mode="dynamic_g", target_density=0.5, fid=7.0), dict(mode="static", target_density=0.5, fid=4.0),
              dict(mode="dense", target_density=0.2, fid=3.0)]
    claims = reproduction.sparse_claims([dict(seed=0, points=points)], [0.2, 0.5])
    assert [c["holds_in"] for c in claims[:2]] == [1, 0]
    assert claims[2]["per_seed"] == {0: 3.0} and claims[2]["seeds"] == 0  # a reference row, not a claim


def test_search_claims_need_two_rounds():
    seeds = [dict(seed=0, dg=[3.0, 2.0], entropy=[1.79, 1.80], retrain_fid=9.0),
             dict(seed=1, dg=[1.0], entropy=[1.79], retrain_fid=None)]
    dg, entropy, fid, random, sngan, near_sngan = reproduction.search_claims(seeds)
    assert (dg["holds_in"], dg["seeds"]) == (1, 1)  # seed 1 has a single round: no verdict
    assert dg["per_seed"] == {0: dict(k=1, first=3.0, last=2.0), 1: None}
    assert entropy["holds_in"] == 0
    assert fid["detail"]["fid"] == (9.0, 0.0)
    assert random["seeds"] == sngan["seeds"] == near_sngan["seeds"] == 0  # no baselines were run: no verdict


def test_trend_claims_compare_window_means_not_single_rounds():
    """A gap whose last round is below its first but whose last 5 rounds average above the first 5 does not fall."""
    assert reproduction.TREND_WINDOW == 5
    rising = [1.0, 0.2, 0.2, 0.2, 0.2] + [0.5] * 4 + [0.9, 0.9, 0.9, 0.9, 0.8]
    falling = list(reversed(rising))
    seeds = [dict(seed=0, dg=rising, entropy=falling, retrain_fid=None),
             dict(seed=1, dg=falling, entropy=falling, retrain_fid=None)]
    dg, entropy = reproduction.search_claims(seeds)[:2]
    assert rising[-1] < rising[0] and (dg["holds_in"], dg["seeds"]) == (1, 2)
    assert dg["per_seed"][0] == dict(k=5, first=pytest.approx(0.36), last=pytest.approx(0.88))
    assert (entropy["holds_in"], entropy["seeds"]) == (2, 2)
    assert "mean of the last 5 rounds < mean of the first 5" in dg["claim"]


def test_search_claims_compare_derived_with_random_mean_and_sngan():
    seeds = [dict(seed=0, dg=[], entropy=[], retrain_fid=9.0, random_fids=[8.0, 12.0, 13.0], sngan_fid=10.0),
             dict(seed=1, dg=[], entropy=[], retrain_fid=20.0, random_fids=[30.0, None], sngan_fid=15.0)]
    random, sngan, near_sngan = reproduction.search_claims(seeds)[3:]
    assert random["per_seed"][0] == dict(derived=9.0, random_mean=11.0)
    assert (random["holds_in"], random["seeds"]) == (2, 2)  # 9 < 11 and 20 < 30
    assert (sngan["holds_in"], sngan["seeds"]) == (1, 2)  # 9 < 10 but 20 > 15
    assert near_sngan["per_seed"] == {0: 0.9, 1: 1.333} and (near_sngan["holds_in"], near_sngan["seeds"]) == (1, 2)
    assert random["detail"]["random"][0] == pytest.approx(63.0 / 4)


def test_sngan_width_matches_a_parameter_budget():
    from tfgan_eff.models.registry import build_generator  # pylint: disable=import-outside-toplevel
    from tfgan_eff.training.loop import count_params  # pylint: disable=import-outside-toplevel

    cfg = reproduction.method_config("search", 0, reproduction.Options(quick=True))

    def params(ch):
        cfg.model.g.update(arch="sngan", genotype="", width=1.0, ch=ch)
        return count_params(build_generator(cfg))

    target = params(20) + 10  # just above ch=20, far below ch=21
    assert reproduction.sngan_width(cfg, target) == 20
    assert reproduction.sngan_width(cfg, params(21) - 10) == 21


def test_mean_std_ignores_missing():
    assert reproduction.mean_std([None, 2.0, 4.0]) == (3.0, pytest.approx(1.41421, rel=1e-4))
    assert reproduction.mean_std([None]) == (None, None)


def test_quick_config_keeps_every_checkpoint():
    opts = reproduction.Options(seeds=(3,), quick=True, curve_points=2)
    cfg = reproduction.method_config("dgl", 3, opts)
    assert cfg.seed == 3 and not cfg.export.enabled
    assert cfg.train.ckpt_every == cfg.train.steps // 2 and cfg.train.keep_checkpoints >= 100


def test_parts_run_with_other_seeds_accumulate_but_other_sizes_do_not(tmp_path):
    path = str(tmp_path / "reproduce.json")
    three_seeds = reproduction.Options(seeds=(0, 1, 2))
    earlier = {"sparse": dict(status="ok", seeds=[dict(seed=s) for s in (0, 1, 2)], claims=[])}
    reproduction.write_json(path, dict(meta=dict(protocol=reproduction.protocol(three_seeds)), results=earlier))
    assert reproduction.previous_results(path, reproduction.Options(seeds=(0,))) == earlier
    assert reproduction.previous_results(path, reproduction.Options(seeds=(0,), densities=(0.3,))) == {}
    assert "3 seed(s) done: [0, 1, 2]" in reproduction.markdown(
        earlier, dict(machine_id="m", started="t", wall_s=1.0, load_before=[], load_after=[], protocol={}), [])


def test_seeds_run_separately_merge_into_one_part_with_claims_over_all():
    def seed(s, fid):
        return dict(seed=s, dg=[], entropy=[], retrain_fid=fid, random_fids=[50.0], sngan_fid=40.0)

    opts = reproduction.Options(seeds=(1,))
    earlier = dict(status="ok", seeds=[seed(0, 45.0), seed(1, 99.0)], claims=[])
    current = dict(status="ok", seeds=[seed(1, 30.0)], claims=reproduction.search_claims([seed(1, 30.0)]))
    merged = reproduction.merge_seeds(earlier, current, "search", opts)
    assert [(s["seed"], s["retrain_fid"]) for s in merged["seeds"]] == [(0, 45.0), (1, 30.0)]  # seed 1 replaced
    beats_random = merged["claims"][3]
    assert (beats_random["holds_in"], beats_random["seeds"]) == (2, 2)
    assert reproduction.merge_seeds(None, current, "search", opts) is current


def test_dgl_finetune_schedule_runs_against_the_seeds_teacher_and_gets_its_own_claim(tmp_path, monkeypatch):
    runs = []

    def fake_run(cfg, workdir):
        runs.append((cfg, workdir))
        fids = (30.0, 20.0) if cfg.dgl.finetune_steps else (25.0, 26.0)
        return dict(table=[dict(run="teacher", fid=10.0), dict(run="plain student", fid=fids[0]),
                           dict(run="DGL student", fid=fids[1])],
                    teacher=dict(g_params=2), student=dict(g_params=1), switch_step=5)

    monkeypatch.setattr(reproduction.train_lib, "run", fake_run)
    monkeypatch.setattr(reproduction, "fid_curve", lambda run_dir: [])
    seed = reproduction.dgl_seed(4, str(tmp_path), reproduction.Options(seeds=(4,), dgl_finetune_steps=300))
    (switch_cfg, switch_dir), (tune_cfg, tune_dir) = runs
    assert switch_cfg.dgl.finetune_steps == 0 and switch_dir == str(tmp_path / "dgl" / "seed_4")
    assert tune_cfg.dgl.finetune_steps == 300 and tune_cfg.seed == 4
    assert tune_cfg.dgl.teacher_workdir == str(tmp_path / "dgl" / "seed_4" / "teacher")
    assert tune_dir == str(tmp_path / "dgl_finetune" / "seed_4")
    switch, tuned = reproduction.dgl_claims([seed])
    assert switch["holds_in"] == 0 and tuned["holds_in"] == 1 and tuned["claim"].startswith("fine-tune schedule")
    # Without the option a seed runs the switch schedule alone and there is one claim.
    runs.clear()
    assert len(reproduction.dgl_claims([reproduction.dgl_seed(4, str(tmp_path), reproduction.Options())])) == 1
    assert len(runs) == 1


def test_sparse_reset_arm_runs_dynamic_g_with_reset_moments_and_gets_its_own_claim(tmp_path, monkeypatch):
    runs = []

    def fake_run(cfg, workdir):
        runs.append((cfg, workdir))
        reset = cfg.sparse.reset_optimizer_state
        table = [dict(mode="dynamic_g", run="sparse", d_G=0.2, d_D=0.3, FID=9.0 if reset else 5.0)]
        if not reset:
            table.append(dict(mode="static", run="static", d_G=0.2, d_D=0.3, FID=6.0))
        return dict(table=table)

    monkeypatch.setattr(reproduction.train_lib, "run", fake_run)
    seed = reproduction.sparse_seed(1, str(tmp_path), reproduction.Options(densities=(0.2,), sparse_reset_arm=True))
    (main_cfg, main_dir), (reset_cfg, reset_dir) = runs
    assert not main_cfg.sparse.reset_optimizer_state and reset_cfg.sparse.reset_optimizer_state
    assert reset_cfg.sparse.comparisons == "" and reset_cfg.sparse.g_density == 0.2 and reset_cfg.seed == 1
    assert reset_dir == main_dir + "_reset"
    dyn_vs_static, kept_vs_reset, dense = reproduction.sparse_claims([seed], [0.2])
    assert dyn_vs_static["per_seed"] == {1: dict(dynamic=5.0, static=6.0)}  # the reset run is not 'dynamic'
    assert kept_vs_reset["per_seed"] == {1: dict(kept=5.0, reset=9.0)} and kept_vs_reset["holds_in"] == 1
    assert dense["claim"] == "dense FID (reference)"
