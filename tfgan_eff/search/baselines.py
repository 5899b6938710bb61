"""The baselines a searched genotype is compared with (`retrain.baselines`): uniformly random genotypes of the same
search space, and a hand-designed SNGAN-ResNet G (BN, no SN) with the derived G's parameter count. Both are retrained
with the derived genotype's recipe and steps, as sub-runs of the search plan (search/plan.py).
"""

import copy
import functools
import os

import numpy as np

from tfgan_eff.models.registry import build_generator
from tfgan_eff.search import genotype as genotype_lib
from tfgan_eff.training.loop import count_params


def random_genotype_path(workdir, index):
    """Where the index-th random genotype of a search run in `workdir` is kept (its sub-run's folder)."""
    return os.path.join(workdir, f"random_{index}", "genotype.json")


def write_random_genotype(cfg, index, path):
    """Writes the index-th uniformly random genotype of cfg's seed and search space (op set, padding) to `path`,
    unless it is there: the same seed and index always draw the same genotype."""
    if not os.path.isfile(path):
        rng = np.random.default_rng([cfg.seed, index])
        genotype_lib.save(genotype_lib.sample(rng, cfg.search.op_set, cfg.search.padding), path)


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


def size_matched_sngan(genotype_cfg):
    """fn(cfg) -> cfg with model.g.ch set so that its SNGAN-ResNet G has about as many parameters as the G that
    `genotype_cfg` builds (read when called: the genotype may be the search's, known only once it has run)."""

    def configure(cfg):
        sized = cfg.copy_and_resolve_references()
        sized.model.g.ch = sngan_width(sized, count_params(build_generator(genotype_cfg)))
        return sized

    return configure
