"""Shared fixtures: one offline digits classifier, trained once per test session in a temporary cache."""

import pytest

from tfgan_eff.metrics.extractors import OfflineClassifierExtractor


@pytest.fixture(scope="session")
def offline_cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("tfgan_eff_cache"))


@pytest.fixture(scope="session")
def digits_extractor(offline_cache_dir):
    return OfflineClassifierExtractor("digits", resolution=32, channels=3, cache_dir=offline_cache_dir)
