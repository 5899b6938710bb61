"""Metric math against NumPy/SciPy references written here (FID, KID, IS, precision-recall, density-coverage)."""

import numpy as np
import pytest
import scipy.linalg
import scipy.special
import tensorflow as tf
from scipy.spatial.distance import cdist

from tfgan_eff.metrics import distances


def _random_spd(rng, dim):
    a = rng.normal(size=(dim, dim))
    return a @ a.T + 0.1 * np.eye(dim)


def _fid_reference(mu1, sigma1, mu2, sigma2):
    """The pytorch-fid / original TTUR formula with scipy's general matrix square root."""
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2).real
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1 + sigma2 - 2.0 * covmean))


def test_fid_of_identical_sets_is_zero():
    features = np.random.default_rng(0).normal(size=(300, 8))
    assert distances.fid_from_features(features, features) == pytest.approx(0.0, abs=1e-9)


def test_fid_of_rank_deficient_identical_sets_is_zero():
    # Fewer samples than dimensions: singular covariance, where naive sqrtm can go complex or NaN.
    features = np.random.default_rng(1).normal(size=(6, 32))
    assert distances.fid_from_features(features, features) == pytest.approx(0.0, abs=1e-8)


def test_fid_of_diagonal_gaussians_matches_closed_form():
    rng = np.random.default_rng(2)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    var1, var2 = rng.uniform(0.5, 3.0, size=5), rng.uniform(0.5, 3.0, size=5)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(var1 + var2 - 2.0 * np.sqrt(var1 * var2))
    got = distances.frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2))
    assert got == pytest.approx(expected, rel=1e-10)


def test_fid_of_full_covariances_matches_scipy_sqrtm():
    rng = np.random.default_rng(3)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    sigma1, sigma2 = _random_spd(rng, 6), _random_spd(rng, 6)
    got = distances.frechet_distance(mu1, sigma1, mu2, sigma2)
    assert got == pytest.approx(_fid_reference(mu1, sigma1, mu2, sigma2), rel=1e-8)
    # Symmetric in its arguments.
    swapped = distances.frechet_distance(mu2, sigma2, mu1, sigma1)  # pylint: disable=arguments-out-of-order
    assert swapped == pytest.approx(got, rel=1e-8)


def test_fid_from_features_matches_numpy_reference_and_accepts_tensors():
    rng = np.random.default_rng(4)
    f1 = rng.normal(size=(200, 4))
    f2 = rng.normal(loc=0.5, scale=1.5, size=(150, 4))
    expected = _fid_reference(f1.mean(0), np.cov(f1, rowvar=False), f2.mean(0), np.cov(f2, rowvar=False))
    assert distances.fid_from_features(f1, f2) == pytest.approx(expected, rel=1e-8)
    got_tf = distances.fid_from_features(tf.constant(f1, tf.float32), tf.constant(f2, tf.float32))
    assert got_tf == pytest.approx(expected, rel=1e-4)


def test_frechet_distance_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="shape mismatch"):
        distances.frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def _mmd2_double_loop(x, y):
    """Unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3, written as explicit loops."""
    d = x.shape[1]

    def k(a, b):
        return (float(np.dot(a, b)) / d + 1.0) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2.0 * xy


def test_mmd2_unbiased_matches_double_loop_with_unequal_sizes():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(6, 3)), rng.normal(loc=0.7, size=(9, 3))
    assert distances.mmd2_unbiased(x, y) == pytest.approx(_mmd2_double_loop(x, y), rel=1e-10)


def test_kid_with_one_full_subset_is_the_exact_estimate():
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(7, 3)), rng.normal(loc=0.5, size=(7, 3))
    mean, std = distances.kid(x, y, num_subsets=1, subset_size=100)  # capped to 7
    assert mean == pytest.approx(_mmd2_double_loop(x, y), rel=1e-10)
    assert std == 0.0


def test_kid_subsets_match_reference_draws():
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(12, 3)), rng.normal(loc=0.3, size=(10, 3))
    mean, std = distances.kid(x, y, num_subsets=5, subset_size=4, seed=3)
    draws = np.random.default_rng(3)
    values = []
    for _ in range(5):
        xs = x[draws.choice(12, 4, replace=False)]
        ys = y[draws.choice(10, 4, replace=False)]
        values.append(_mmd2_double_loop(xs, ys))
    assert mean == pytest.approx(np.mean(values), rel=1e-10)
    assert std == pytest.approx(np.std(values), rel=1e-8)
    assert distances.kid(x, y, num_subsets=5, subset_size=4, seed=3) == (mean, std)


def test_kid_is_near_zero_for_one_distribution_and_large_for_a_shift():
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
    same, _ = distances.kid(a, b, num_subsets=10, subset_size=200)
    shifted, _ = distances.kid(a, b + 1.0, num_subsets=10, subset_size=200)
    assert abs(same) < 0.05 * shifted


def _inception_score_reference(logits, num_splits):
    scores = []
    for part in np.array_split(logits, num_splits):
        p = scipy.special.softmax(part, axis=1)
        q = p.mean(axis=0)
        scores.append(np.exp(np.mean(np.sum(scipy.special.rel_entr(p, q[None, :]), axis=1))))
    return np.mean(scores), np.std(scores)


def test_inception_score_of_uniform_logits_is_one():
    mean, std = distances.inception_score(np.zeros((40, 7)), num_splits=4)
    assert mean == pytest.approx(1.0, abs=1e-12)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_inception_score_of_confident_distinct_classes_is_num_classes():
    labels = np.arange(50) % 5  # every split of 10 holds each class twice
    logits = 100.0 * np.eye(5)[labels]
    mean, std = distances.inception_score(logits, num_splits=5)
    assert mean == pytest.approx(5.0, rel=1e-6)
    assert std == pytest.approx(0.0, abs=1e-6)


def test_inception_score_matches_scipy_reference():
    logits = np.random.default_rng(9).normal(scale=3.0, size=(103, 6))
    mean, std = distances.inception_score(logits, num_splits=10)
    ref_mean, ref_std = _inception_score_reference(logits, 10)
    assert mean == pytest.approx(ref_mean, rel=1e-10)
    assert std == pytest.approx(ref_std, rel=1e-8)


# 1-D hand-made sets (k=1): real radii are all 1.
_REAL = np.array([[0.0], [1.0], [2.0], [3.0]])


def test_precision_recall_hand_made():
    fake = np.array([[0.5], [2.9], [5.0], [3.5]])
    # Fake 5.0 is 2 from the nearest real point (radius 1): precision 3/4.
    # Fake radii (k=1): 2.4, 0.6, 1.5, 0.6; every real point lies in the ball of fake 0.5 or 2.9: recall 1.
    assert distances.precision_recall(_REAL, fake, k=1) == pytest.approx((0.75, 1.0))
    # Swapping roles swaps precision and recall.
    assert distances.precision_recall(fake, _REAL, k=1) == pytest.approx((1.0, 0.75))


def test_density_coverage_hand_made_mode_collapse():
    fake = np.array([[0.2], [0.4], [10.0]])
    # 0.2 and 0.4 each sit in the balls of real 0 and 1; 10 in none: density (2 + 2 + 0) / (1 * 3).
    # Only real 0 and 1 have a fake in their ball: coverage 1/2.
    density, coverage = distances.density_coverage(_REAL, fake, k=1)
    assert density == pytest.approx(4.0 / 3.0)
    assert coverage == pytest.approx(0.5)


def _prdc_reference(real, fake, k_pr, k_dc):
    """Brute force with scipy's cdist over full matrices."""
    d_rr, d_ff, d_rf = cdist(real, real), cdist(fake, fake), cdist(real, fake)
    r_pr = np.sort(d_rr, axis=1)[:, k_pr]
    f_pr = np.sort(d_ff, axis=1)[:, k_pr]
    precision = np.mean([(d_rf[:, j] <= r_pr).any() for j in range(len(fake))])
    recall = np.mean([(d_rf[i, :] <= f_pr).any() for i in range(len(real))])
    r_dc = np.sort(d_rr, axis=1)[:, k_dc]
    inside = d_rf <= r_dc[:, None]
    return precision, recall, inside.sum() / (k_dc * len(fake)), inside.any(axis=1).mean()


def test_prdc_match_brute_force_reference_across_chunks():
    rng = np.random.default_rng(10)
    real = rng.normal(size=(60, 5))
    fake = rng.normal(loc=0.4, scale=1.3, size=(45, 5))
    precision, recall = distances.precision_recall(real, fake, k=3, chunk_size=7)
    density, coverage = distances.density_coverage(real, fake, k=5, chunk_size=7)
    ref = _prdc_reference(real, fake, 3, 5)
    assert (precision, recall, density, coverage) == pytest.approx(ref)
    assert 0.0 < precision < 1.0 and 0.0 < recall < 1.0 and 0.0 < coverage < 1.0


def test_knn_radii_rejects_k_too_large():
    with pytest.raises(ValueError, match="k must be"):
        distances.knn_radii(np.zeros((3, 2)), k=3)
