"""Tiny alphaGAN configs (8 px, width 8, batch 4: each test builds and runs in seconds) and what two runs of a
search round are compared on; imported by this folder's tests and by mirrored_search_check.py."""

import re

import keras
import numpy as np

from tfgan_eff.config.schema import base_config
from tfgan_eff.search.searcher import Searcher
from tfgan_eff.search.space import ARCH_TENSORS


def make_tiny_config():
    """A search config at toy sizes (8 px, 8 channels, one round of a few steps)."""
    cfg = base_config()
    cfg.method = "search"
    cfg.name = "search_test"
    cfg.data.resolution = 8
    cfg.model.latent_dim = 8
    cfg.model.d.arch = "autogan"
    cfg.model.d.ch = 8
    cfg.model.g.ch = 8
    s = cfg.search
    s.ch = 8
    s.batch_size = 4
    s.rounds = 1
    s.inner_steps = 2
    s.worst_steps = 1
    s.arch_steps = 2
    s.n_critic = 2
    s.arch_lr = 1e-2  # big enough that two updates visibly move the 1e-3-scale alphas
    return cfg


# Biases added to the last cell's output just before the head's BN: a per-channel constant there has zero gradient
# in exact arithmetic, so their float-noise gradients (~1e-6 vs ~10 elsewhere, measured) get full +-lr Adam steps
# that differ between any two summation orders. Left out of comparisons of two runs.
GRADIENT_FREE = re.compile(r"/(normal_3_1|normal_3_2|skip_3_1)/.*/bias$")


def compared_variables(searcher):
    """Alphas first (in ARCH_TENSORS order), then the supernet's and D's weights except GRADIENT_FREE."""
    weights = [v for v in searcher.g.weight_variables + searcher.d.trainable_variables
               if not GRADIENT_FREE.search(v.path)]
    return searcher.g.arch_variables + weights


def arrays(variables):
    """The variables' current values as numpy arrays."""
    return [np.array(v) for v in variables]


def round_from_seed(cfg, images, strategy=None, run_eagerly=True):
    """(compared variables before, after, the round's record) of one search round from seed-0 weights under
    `strategy` (None: the default), its steps eager or traced."""
    keras.utils.set_random_seed(0)
    searcher = Searcher(cfg, images, strategy, run_eagerly=run_eagerly)
    before = arrays(compared_variables(searcher))
    record = searcher.run_round(0)
    return before, arrays(compared_variables(searcher)), record


def relative_diffs(start, reference, other):
    """(alphas, weights): ||other - reference|| / ||reference - start|| over the alphas and over the weights of three
    `compared_variables` value lists: how far two rounds end apart, relative to how far the reference moved."""
    def relative(part):
        update = np.concatenate([(b - a).ravel() for a, b in zip(start[part], reference[part])])
        apart = np.concatenate([(b - a).ravel() for a, b in zip(reference[part], other[part])])
        return float(np.linalg.norm(apart) / np.linalg.norm(update))
    alphas = len(ARCH_TENSORS)
    return relative(slice(0, alphas)), relative(slice(alphas, None))
