"""evaluate_generator end to end on digits, and the reference-statistics tool."""

import importlib.util
import os

import numpy as np
import pytest

from tfgan_eff.data import offline
from tfgan_eff.metrics.suite import EvalProtocol, evaluate_generator
from tfgan_eff.metrics.ref_stats import compute_ref_stats, load_ref_stats
from tfgan_eff.metrics.streaming import FeatureStats

_TOOL = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "compute_ref_stats.py")
_PROTOCOL = EvalProtocol(num_samples=600, batch_size=200, kid_subsets=5, kid_subset_size=200)


@pytest.fixture(scope="module")
def digit_halves():
    """The digits split at random into 800 and 997 images."""
    images, _ = offline.load("digits", resolution=32, channels=3)
    order = np.random.default_rng(0).permutation(len(images))
    return images[order[:800]], images[order[800:]]


def _sampler(pool, seed):
    """A 'generator' that returns random images from a pool, in [-1, 1]."""
    rng = np.random.default_rng(seed)
    return lambda n: pool[rng.integers(0, len(pool), n)].astype(np.float32) / 127.5 - 1.0


def _noise(n):
    return np.random.default_rng(n).uniform(-1, 1, size=(n, 32, 32, 3)).astype(np.float32)


def test_real_samples_score_far_better_than_noise(digits_extractor, digit_halves):
    real_a, real_b = digit_halves
    stats = compute_ref_stats([real_a[i:i + 256] for i in range(0, 800, 256)], digits_extractor,
                              {"dataset": "digits", "split": "train"})
    good = evaluate_generator(_sampler(real_b, 0), digits_extractor, stats, _PROTOCOL)
    bad = evaluate_generator(_noise, digits_extractor, stats, _PROTOCOL)
    for result in (good, bad):
        assert set(result) >= {"fid", "kid_mean", "kid_std", "is_mean", "is_std", "precision", "recall",
                               "density", "coverage", "num_samples", "protocol"}
        assert result["num_samples"] == 600 and result["num_real"] == 800
        assert result["protocol"]["extractor"] == digits_extractor.protocol
    assert good["fid"] * 20 < bad["fid"]
    assert good["kid_mean"] * 20 < bad["kid_mean"]
    assert good["is_mean"] > 5.0  # ~10 balanced, confidently classified classes
    assert good["precision"] > 0.5 > bad["precision"]
    assert good["recall"] > 0.5 > bad["recall"]
    assert good["coverage"] > 0.5 > bad["coverage"]


def test_real_batches_are_accepted_directly(digits_extractor, digit_halves):
    real_a, real_b = digit_halves
    result = evaluate_generator(_sampler(real_b, 1), digits_extractor, [real_a[:400], real_a[400:]],
                                EvalProtocol(num_samples=300, batch_size=100, metrics=("fid", "pr")))
    assert set(result) == {"fid", "precision", "recall", "z_share", "collapsed", "num_samples", "num_real",
                           "protocol"}
    assert result["num_real"] == 800 and result["fid"] > 0.0


def test_every_evaluation_flags_a_generator_that_ignores_z(digits_extractor, digit_halves):
    """z_share and collapsed come with any metric subset; one digit drawn for every z is flagged, digits are not."""
    real_a, real_b = digit_halves
    template = real_b[0].astype(np.float32) / 127.5 - 1.0
    rng = np.random.default_rng(0)

    def one_image(n):  # what a collapsed G draws: the same image, up to small z-dependent noise
        return np.clip(template + 0.05 * rng.standard_normal((n,) + template.shape), -1, 1).astype(np.float32)

    protocol = EvalProtocol(num_samples=300, batch_size=100, metrics=("fid",))
    collapsed = evaluate_generator(one_image, digits_extractor, [real_a], protocol)
    healthy = evaluate_generator(_sampler(real_b, 2), digits_extractor, [real_a], protocol)
    assert collapsed["collapsed"] and collapsed["z_share"] < 0.05
    assert not healthy["collapsed"] and healthy["z_share"] > 0.4
    assert healthy["protocol"]["collapse_threshold"] == pytest.approx(0.25)
    assert tuple(healthy["protocol"]["metrics"]) == ("fid",) and healthy["protocol"]["batch_size"] == 100


def test_stats_from_another_extractor_are_refused(digits_extractor):
    other = dict(digits_extractor.protocol, recipe_hash="0" * 64)
    stats = FeatureStats(mean=np.zeros(128), cov=np.eye(128), n=10, protocol={"extractor": other})
    with pytest.raises(ValueError, match="(?s)extractor part.*recipe_hash"):
        evaluate_generator(_noise, digits_extractor, stats, EvalProtocol(num_samples=20, metrics=("fid",)))


def test_metric_requests_are_validated(digits_extractor):
    stats = FeatureStats(mean=np.zeros(128), cov=np.eye(128), n=10)
    with pytest.raises(ValueError, match="unknown metrics"):
        EvalProtocol(num_samples=20, metrics=("fid", "lpips"))
    with pytest.raises(ValueError, match="need raw real features"):
        evaluate_generator(_noise, digits_extractor, stats, EvalProtocol(num_samples=20, metrics=("kid",)))


def _load_tool():
    spec = importlib.util.spec_from_file_location("compute_ref_stats_tool", _TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compute_ref_stats_tool_writes_stats_with_protocol(digits_extractor, offline_cache_dir, tmp_path):
    tool = _load_tool()
    out = str(tmp_path / "digits32.npz")
    stats = tool.compute(tool.RefStatsRequest(cache_dir=offline_cache_dir, num_samples=500, batch_size=128), out)
    expected = {"dataset": "digits", "split": "train", "resolution": 32, "channels": 3, "data_seed": 0,
                "source": "tfgan_eff.data.offline", "num_samples": 500, "extractor": digits_extractor.protocol}
    loaded = load_ref_stats(out, expected)
    assert loaded.n == 500 and loaded.features.shape == (500, 128) and loaded.logits.shape == (500, 10)
    np.testing.assert_allclose(loaded.mean, stats.mean)
    with pytest.raises(ValueError, match="num_samples: stored=500 expected=1797"):
        load_ref_stats(out, dict(expected, num_samples=1797))
    with pytest.raises(ValueError, match="only split 'train'"):
        tool.compute(tool.RefStatsRequest(split="test", cache_dir=offline_cache_dir), out)
