"""Shared tiny alphaGAN configs: 8 px, width 8, batch 4, so each test builds and runs in seconds."""

import numpy as np
import pytest

from tfgan_eff.config.schema import base_config


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


@pytest.fixture
def tiny_cfg():
    return make_tiny_config()


@pytest.fixture
def tiny_images():
    return np.random.default_rng(0).integers(0, 256, (24, 8, 8, 3), dtype=np.uint8)
