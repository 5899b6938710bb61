"""Tiny DGL set-ups: 16 px digits, ch 8 DCGANs, batch 4."""

import keras
import numpy as np
import pytest

from tfgan_eff.config import presets
from tfgan_eff.data import pipeline
from tfgan_eff.distill.teacher import freeze
from tfgan_eff.models import registry
from tfgan_eff.training.loop import batch_spec


@pytest.fixture
def dgl_cfg():
    """The smoke-sized DGL config (teacher 4 steps, switch at 2 of 4) with evaluation and export off."""
    cfg = presets.smoke(presets.get("dgl"))
    cfg.eval.at_end = False
    cfg.export.enabled = False
    return cfg


@pytest.fixture
def student_and_teacher(dgl_cfg):
    """(G_S at half width, D_S, frozen D_T with spectral norm), randomly initialised from a fixed seed (the same
    weights whichever tests ran before in the process)."""
    keras.utils.set_random_seed(0)
    g = registry.build_generator(dgl_cfg, 0.5)
    d = registry.build_discriminator(dgl_cfg)
    d_t = freeze(registry.build_discriminator(dgl_cfg))
    return g, d, d_t


@pytest.fixture
def batch(dgl_cfg):
    """One training step's batch (step 0) from random images."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (16, 16, 16, 3), dtype=np.uint8)
    labels = np.zeros(16, np.int64)
    return pipeline.step_batch(images, labels, batch_spec(dgl_cfg), 0, 0, 1)
