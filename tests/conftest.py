"""Shared test set-up: quiet TF, deterministic ops, and small configs."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # pylint: disable=wrong-import-position

from tfgan_eff.config import presets  # pylint: disable=wrong-import-position


@pytest.fixture
def smoke_cfg():
    """A seconds-long baseline config with evaluation and export off."""
    cfg = presets.smoke(presets.baseline())
    cfg.eval.at_end = False
    cfg.export.enabled = False
    return cfg
