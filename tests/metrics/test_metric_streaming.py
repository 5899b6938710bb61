"""Streaming feature statistics equal the statistics of the full set computed at once."""

import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.metrics.streaming import FeatureAccumulator, accumulate_features, to_unit_range


def _flat_extractor(images):
    """Toy extractor: first 4 pixel values as features, first 3 as logits; records the calls it gets."""
    flat = np.asarray(images).reshape(len(images), -1)
    _flat_extractor.calls.append(np.asarray(images))
    return flat[:, :4] * 2.0, flat[:, :3]


def _reset_calls():
    _flat_extractor.calls = []


def test_accumulator_mean_cov_match_numpy_over_uneven_batches():
    rng = np.random.default_rng(0)
    # A large offset checks the merge is numerically stable (a naive sum of squares loses digits here).
    features = 1e4 + rng.normal(size=(137, 5)) * np.array([1.0, 2.0, 0.5, 3.0, 1.0])
    accumulator = FeatureAccumulator(max_features=0, keep_logits=False)
    for rows in (slice(0, 1), slice(1, 8), slice(8, 38), slice(38, 137)):
        accumulator.update(features[rows])
    stats = accumulator.result()
    assert stats.n == 137
    np.testing.assert_allclose(stats.mean, features.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(stats.cov, np.cov(features, rowvar=False), rtol=1e-8, atol=1e-10)
    assert stats.features is None and stats.logits is None


def test_reservoir_keeps_everything_in_order_when_under_the_cap():
    features = np.arange(40, dtype=np.float32).reshape(20, 2)
    accumulator = FeatureAccumulator(max_features=50, keep_logits=False)
    for start in range(0, 20, 6):
        accumulator.update(features[start:start + 6])
    np.testing.assert_array_equal(accumulator.result().features, features)


def test_reservoir_is_a_capped_uniform_subset_of_distinct_rows():
    n, cap = 2000, 100
    features = np.stack([np.arange(n), -np.arange(n)], axis=1).astype(np.float32)

    def run(seed):
        accumulator = FeatureAccumulator(max_features=cap, keep_logits=False, seed=seed)
        for start in range(0, n, 64):
            accumulator.update(features[start:start + 64])
        return accumulator.result().features

    kept = run(seed=0)
    assert kept.shape == (cap, 2)
    np.testing.assert_array_equal(kept[:, 1], -kept[:, 0])  # whole rows, never mixed
    assert len(np.unique(kept[:, 0])) == cap
    # Uniform over the stream, not the first N: about half the kept rows come from the second half.
    assert 0.3 < np.mean(kept[:, 0] >= n / 2) < 0.7
    np.testing.assert_array_equal(run(seed=0), kept)
    assert not np.array_equal(run(seed=1), kept)


def test_accumulate_from_callable_source_streams_exact_counts():
    _reset_calls()
    rng = np.random.default_rng(1)
    produced = []

    def sample_fn(n):
        images = rng.uniform(-1, 1, size=(n, 2, 2, 1)).astype(np.float32)
        produced.append(images)
        return images

    stats = accumulate_features(sample_fn, _flat_extractor, num_samples=23, batch_size=5, max_features=100)
    assert [len(c) for c in _flat_extractor.calls] == [5, 5, 5, 5, 3]
    flat = np.concatenate(produced).reshape(23, -1)
    np.testing.assert_allclose(stats.mean, flat[:, :4].mean(0) * 2.0, rtol=1e-6)
    np.testing.assert_allclose(stats.cov, np.cov(flat[:, :4] * 2.0, rowvar=False), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(stats.logits, flat[:, :3], rtol=1e-6)
    np.testing.assert_allclose(stats.features, flat[:, :4] * 2.0, rtol=1e-6)


def test_accumulate_from_dataset_of_uint8_pairs_scales_and_truncates():
    _reset_calls()
    images = np.arange(10 * 2 * 2, dtype=np.uint8).reshape(10, 2, 2, 1) * 6
    labels = np.arange(10)
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(4)
    stats = accumulate_features(dataset, _flat_extractor, num_samples=9)
    assert stats.n == 9
    seen = np.concatenate(_flat_extractor.calls)
    np.testing.assert_allclose(seen, images[:9].astype(np.float32) / 127.5 - 1.0, rtol=1e-6)
    assert seen.min() >= -1.0 and seen.max() <= 1.0


def test_accumulate_from_tfds_style_dicts():
    _reset_calls()
    images = np.full((6, 2, 2, 1), 255, np.uint8)
    dataset = tf.data.Dataset.from_tensor_slices({"image": images, "label": np.arange(6)}).batch(4)
    stats = accumulate_features(dataset, _flat_extractor)
    assert stats.n == 6
    np.testing.assert_allclose(stats.mean, [2.0] * 4)


def test_accumulate_errors_are_explicit():
    with pytest.raises(ValueError, match="ran out after 10 images"):
        accumulate_features([np.zeros((10, 2, 2, 1), np.float32)], _flat_extractor, num_samples=20)
    with pytest.raises(ValueError, match="needs num_samples"):
        accumulate_features(lambda n: np.zeros((n, 2, 2, 1)), _flat_extractor)
    with pytest.raises(ValueError, match="no logits"):
        FeatureAccumulator().update(np.zeros((2, 3)))


def test_to_unit_range_passes_floats_through():
    floats = np.array([[-1.0, 0.25, 1.0]], np.float32)
    np.testing.assert_array_equal(to_unit_range(floats), floats)
    np.testing.assert_allclose(to_unit_range(np.array([0, 255], np.uint8)), [-1.0, 1.0])
