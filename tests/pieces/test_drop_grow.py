"""drop_grow and the cosine drop schedule against NumPy references."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.pieces.drop_grow import cosine_drop_fraction, drop_grow

SHAPE = (3, 3, 4, 5)


def numpy_drop_grow(weight, mask, score, p):
    """Reference: drop the k smallest |w| actives, grow the k largest-score positions inactive after the drop.

    Ties are broken by the lower flat index, as documented.
    """
    w, m, s = weight.ravel(), mask.ravel(), score.ravel()
    nnz = int(m.sum())
    k = min(math.ceil(round(p * nnz, 9)), nnz)
    active = np.flatnonzero(m)
    drop = active[np.lexsort((active, np.abs(w[active])))[:k]]
    kept = m.copy()
    kept[drop] = 0
    candidates = np.flatnonzero(kept == 0)
    grow = candidates[np.lexsort((candidates, -s[candidates]))[:k]]
    new = kept.copy()
    new[grow] = 1
    return new.reshape(mask.shape), kept.reshape(mask.shape), k


def random_case(seed, density=0.3):
    """(weight, mask, score): a random mask of about `density`, weights on it and positive scores."""
    rng = np.random.default_rng(seed)
    mask = (rng.random(SHAPE) < density).astype(np.float32)
    weight = (rng.standard_normal(SHAPE) * mask).astype(np.float32)
    score = np.abs(rng.standard_normal(SHAPE)).astype(np.float32)
    return weight, mask, score


@pytest.mark.parametrize("p", [0.0, 0.05, 0.3, 0.5, 1.0])
def test_gradient_growth_matches_numpy(p):
    weight, mask, score = random_case(seed=int(p * 100))
    new_mask, newly_active = drop_grow(weight, mask, score, p)
    expected, _, k = numpy_drop_grow(weight, mask, score, p)
    np.testing.assert_array_equal(new_mask.numpy(), expected)
    assert new_mask.numpy().sum() == mask.sum()  # nnz constant
    np.testing.assert_array_equal(newly_active.numpy(), expected * (1 - mask))
    assert set(np.unique(new_mask.numpy())) <= {0.0, 1.0}
    if 0 < p < 1:
        assert k > 0 and newly_active.numpy().sum() > 0


def test_ties_break_towards_lower_index():
    mask = np.zeros(SHAPE, np.float32)
    mask.ravel()[:20] = 1
    weight = mask.copy()  # 20 active weights, all |w| == 1
    score = np.zeros(SHAPE, np.float32)  # every candidate ties too
    new_mask, _ = drop_grow(weight, mask, score, 0.25)
    expected, _, k = numpy_drop_grow(weight, mask, score, 0.25)
    assert k == 5
    np.testing.assert_array_equal(new_mask.numpy(), expected)
    # Drops positions 0-4 (lowest indices among equal magnitudes) and grows them back (lowest-index candidates).
    np.testing.assert_array_equal(new_mask.numpy(), mask)


def test_k_is_ceil_of_fraction_times_nnz():
    mask = np.zeros(SHAPE, np.float32)
    mask.ravel()[:10] = 1
    weight = np.where(mask > 0, np.arange(mask.size, dtype=np.float32).reshape(SHAPE) + 1, 0).astype(np.float32)
    score = np.arange(mask.size, dtype=np.float32).reshape(SHAPE)  # grows at the highest indices
    for p, k in [(0.3, 3), (0.31, 4), (0.01, 1)]:
        new_mask, newly_active = drop_grow(weight, mask, score, p)
        assert newly_active.numpy().sum() == k
        assert new_mask.numpy().ravel()[:k].sum() == 0  # the k smallest magnitudes were dropped


def test_random_growth_is_reproducible_per_seed():
    weight, mask, _ = random_case(seed=3)
    first, grown = drop_grow(weight, mask, None, 0.5, random_seed=tf.constant([7, 100]))
    again, _ = drop_grow(weight, mask, None, 0.5, random_seed=tf.constant([7, 100]))
    other, _ = drop_grow(weight, mask, None, 0.5, random_seed=tf.constant([7, 101]))
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    assert not np.array_equal(first.numpy(), other.numpy())
    assert first.numpy().sum() == other.numpy().sum() == mask.sum()
    # Random growth drops like any other: the same kept set as the reference, plus exactly k new candidates.
    _, kept, k = numpy_drop_grow(weight, mask, np.zeros_like(weight), 0.5)
    assert np.all(first.numpy() >= kept)
    assert (first.numpy() - kept).sum() == k
    np.testing.assert_array_equal(grown.numpy(), first.numpy() * (1 - mask))


def test_random_growth_needs_a_seed():
    weight, mask, _ = random_case(seed=4)
    with pytest.raises(ValueError, match="random_seed"):
        drop_grow(weight, mask, None, 0.5)


def test_runs_inside_tf_function_with_tensor_fraction():
    weight, mask, score = random_case(seed=5)

    @tf.function
    def update(w, m, s, p):
        return drop_grow(w, m, s, p)

    new_mask, _ = update(tf.constant(weight), tf.constant(mask), tf.constant(score), tf.constant(0.4))
    expected, _, _ = numpy_drop_grow(weight, mask, score, 0.4)
    np.testing.assert_array_equal(new_mask.numpy(), expected)


def test_cosine_drop_fraction():
    total = 1000
    for step in (0, 1, 250, 500, 999, 1000, 5000):
        t = min(step, total)
        expected = 0.005 + (0.5 - 0.005) * (1 + math.cos(math.pi * t / total)) / 2
        assert float(cosine_drop_fraction(step, total)) == pytest.approx(expected, abs=1e-6)
    assert float(cosine_drop_fraction(0, total)) == pytest.approx(0.5)
    assert float(cosine_drop_fraction(total, total)) == pytest.approx(0.005)
