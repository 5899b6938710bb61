"""Reference statistics round-trip through .npz and refuse a different protocol."""

import os

import numpy as np
import pytest

from tfgan_eff.metrics.ref_stats import compute_ref_stats, load_ref_stats, save_ref_stats
from tfgan_eff.metrics.streaming import FeatureStats


class _ToyExtractor:
    protocol = {"name": "toy", "feature_dim": 3, "recipe_hash": "abc"}

    def __call__(self, images):
        flat = np.asarray(images).reshape(len(images), -1)
        return flat[:, :3], flat[:, :2]


def _protocol(**overrides):
    protocol = {"dataset": "digits", "split": "train", "resolution": 32, "num_samples": 6,
                "extractor": dict(_ToyExtractor.protocol)}
    protocol.update(overrides)
    return protocol


def _stats():
    rng = np.random.default_rng(0)
    return FeatureStats(mean=rng.normal(size=3), cov=np.eye(3) * 2.0, n=6,
                        features=rng.normal(size=(6, 3)).astype(np.float32),
                        logits=rng.normal(size=(6, 2)).astype(np.float32))


def test_round_trip_keeps_arrays_and_protocol(tmp_path):
    path = str(tmp_path / "ref.npz")
    stats = _stats()
    save_ref_stats(path, stats, _protocol())
    loaded = load_ref_stats(path, _protocol())
    np.testing.assert_array_equal(loaded.mean, stats.mean)
    np.testing.assert_array_equal(loaded.cov, stats.cov)
    np.testing.assert_array_equal(loaded.features, stats.features)
    np.testing.assert_array_equal(loaded.logits, stats.logits)
    assert loaded.n == 6 and loaded.protocol == _protocol()
    assert os.listdir(tmp_path) == ["ref.npz"]  # no temp file left behind


def test_protocol_mismatch_names_the_differing_keys(tmp_path):
    path = str(tmp_path / "ref.npz")
    save_ref_stats(path, _stats(), _protocol())
    expected = _protocol(resolution=64, extractor=dict(_ToyExtractor.protocol, recipe_hash="xyz"))
    with pytest.raises(ValueError) as error:
        load_ref_stats(path, expected)
    message = str(error.value)
    assert "resolution: stored=32 expected=64" in message
    assert "extractor.recipe_hash: stored='abc' expected='xyz'" in message
    assert "dataset" not in message and "compute_ref_stats" in message


def test_protocol_missing_key_is_a_mismatch(tmp_path):
    path = str(tmp_path / "ref.npz")
    stored = _protocol()
    del stored["split"]
    save_ref_stats(path, _stats(), stored)
    with pytest.raises(ValueError, match="split: stored=<missing> expected='train'"):
        load_ref_stats(path, _protocol())


def test_compute_ref_stats_records_full_protocol(tmp_path):
    images = np.random.default_rng(1).integers(0, 256, size=(10, 2, 2, 1), dtype=np.uint8)
    batches = [images[:4], images[4:8], images[8:]]
    stats = compute_ref_stats(batches, _ToyExtractor(), {"dataset": "toy", "split": "train"})
    flat = (images.astype(np.float32) / 127.5 - 1.0).reshape(10, -1)[:, :3]
    np.testing.assert_allclose(stats.mean, flat.mean(0), rtol=1e-6)
    assert stats.protocol == {"dataset": "toy", "split": "train", "num_samples": 10,
                              "extractor": _ToyExtractor.protocol}
    path = str(tmp_path / "ref.npz")
    save_ref_stats(path, stats)
    assert load_ref_stats(path, stats.protocol).n == 10
