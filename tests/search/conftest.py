"""Shared tiny alphaGAN fixtures (configs and images of tiny_search.py)."""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))  # tiny_search.py, also imported by mirrored_search_check.py

from tiny_search import make_tiny_config  # noqa: E402  pylint: disable=import-error,wrong-import-position


@pytest.fixture
def tiny_cfg():
    return make_tiny_config()


@pytest.fixture
def tiny_images():
    return np.random.default_rng(0).integers(0, 256, (24, 8, 8, 3), dtype=np.uint8)
