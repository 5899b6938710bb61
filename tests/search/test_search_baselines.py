"""The search plan's baselines (retrain.baselines): random genotypes of the search space and the size-matched
SNGAN-ResNet G, each retrained as the derived genotype is (no training here: plans and configs)."""

import pytest

from tfgan_eff.config import presets
from tfgan_eff.config.validate import ConfigError, validate
from tfgan_eff.models.registry import build_generator
from tfgan_eff.search import genotype as genotype_lib
from tfgan_eff.search.plan import plan
from tfgan_eff.training.loop import count_params


def _cfg(**retrain):
    cfg = presets.smoke(presets.get("search"))
    cfg.retrain.update(retrain)
    return validate(cfg)


def _without_plan_keys(cfg):
    """cfg as a dict without its name and the retrain keys that only the plan reads."""
    cfg = cfg.copy_and_resolve_references()
    cfg.name, cfg.retrain.baselines, cfg.retrain.random_genotypes = "", "", 0
    return cfg.to_dict()


def test_random_genotypes_are_drawn_per_seed_and_retrained_like_a_given_genotype(tmp_path):
    search_plan = plan(_cfg(baselines="random", random_genotypes=2), str(tmp_path))
    runs = {run.name: run for run in search_plan.runs}
    assert list(runs) == ["search", "retrain", "random_0", "random_1"]
    assert runs["random_0"].after == () and search_plan.table is not None
    search_plan.prepare(None)  # writes the genotypes before anything trains
    paths = [runs[f"random_{i}"].cfg.model.g.genotype for i in (0, 1)]
    assert paths == [str(tmp_path / f"random_{i}" / "genotype.json") for i in (0, 1)]
    drawn = [genotype_lib.load(path) for path in paths]
    assert drawn[0].to_dict() != drawn[1].to_dict()
    # A random sub-run is the retraining that a run given that genotype (retrain.genotype) would do.
    given = {run.name: run for run in plan(_cfg(genotype=paths[1]), str(tmp_path / "given")).runs}
    assert list(given) == ["retrain"]
    assert _without_plan_keys(runs["random_1"].cfg) == _without_plan_keys(given["retrain"].cfg)
    # The same seed draws the same genotypes again; another seed others.
    other = _cfg(baselines="random", random_genotypes=1)
    other.seed += 1
    plan(other, str(tmp_path / "other")).prepare(None)
    assert genotype_lib.load(str(tmp_path / "other" / "random_0" / "genotype.json")).to_dict() != drawn[0].to_dict()
    plan(_cfg(baselines="random", random_genotypes=1), str(tmp_path / "again")).prepare(None)
    assert genotype_lib.load(str(tmp_path / "again" / "random_0" / "genotype.json")).to_dict() == drawn[0].to_dict()


def test_sngan_baseline_is_sized_to_the_derived_g_when_it_starts(tmp_path):
    runs = {run.name: run for run in plan(_cfg(genotype="alphagan_s", baselines="sngan"), str(tmp_path)).runs}
    assert list(runs) == ["retrain", "sngan"] and runs["sngan"].after == ()  # a given genotype: nothing to wait for
    sngan = runs["sngan"].configure(runs["sngan"].cfg)
    assert (sngan.model.g.arch, sngan.model.g.genotype, sngan.method) == ("sngan", "", "baseline")
    assert sngan.train.steps == runs["retrain"].cfg.train.steps
    target = count_params(build_generator(runs["retrain"].cfg))

    def gap(ch):
        probe = sngan.copy_and_resolve_references()
        probe.model.g.ch = ch
        return abs(count_params(build_generator(probe)) - target)

    assert gap(sngan.model.g.ch) <= min(gap(sngan.model.g.ch - 1), gap(sngan.model.g.ch + 1))
    searched = {run.name: run for run in plan(_cfg(baselines="sngan"), str(tmp_path / "s")).runs}
    assert searched["sngan"].after == ("search",)  # sized once the search has derived its genotype


def test_retrain_baselines_are_checked():
    with pytest.raises(ConfigError, match="retrain.baselines item.*'randm'"):
        _cfg(baselines="randm")
    with pytest.raises(ConfigError, match="retrain.random_genotypes must be >= 1"):
        _cfg(baselines="random", random_genotypes=0)
