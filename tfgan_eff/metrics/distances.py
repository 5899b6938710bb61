"""Sample-quality metrics as pure functions of classifier features and logits.

Follows TF-GAN's evaluation math (frechet_classifier_distance_from_activations,
kernel_classifier_distance, classifier_score_from_logits), re-implemented in NumPy float64 because
tensorflow-gan does not import on TF >= 2.16. Inputs may be NumPy arrays or tf tensors.
"""

import numpy as np


def _as_float64(x, name, ndim):
    """Converts a NumPy array or tf tensor to float64 and checks its rank."""
    array = np.asarray(x, dtype=np.float64)
    if array.ndim != ndim:
        raise ValueError(f"{name} must have rank {ndim}, got shape {array.shape}")
    return array


def _symmetric_sqrt(matrix):
    """Square root of a symmetric PSD matrix via eigh; tiny negative eigenvalues (round-off) are clipped to 0."""
    eigvals, eigvecs = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (eigvecs * np.sqrt(np.clip(eigvals, 0.0, None))) @ eigvecs.T


def trace_sqrt_product(sigma1, sigma2):
    """Tr(sqrt(sigma1 @ sigma2)) for symmetric PSD matrices, computed stably.

    Uses Tr(sqrt(A B)) = Tr(sqrt(sqrt(A) B sqrt(A))) (the two products are similar matrices, as in TF-GAN's
    trace_sqrt_product); the inner matrix is symmetric PSD, so its square root is real and no imaginary
    round-off parts can appear (unlike scipy.linalg.sqrtm on the non-symmetric product).
    """
    sqrt_sigma1 = _symmetric_sqrt(sigma1)
    inner = sqrt_sigma1 @ sigma2 @ sqrt_sigma1
    eigvals = np.linalg.eigvalsh((inner + inner.T) / 2.0)
    return float(np.sum(np.sqrt(np.clip(eigvals, 0.0, None))))


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """Fréchet distance between Gaussians N(mu1, sigma1) and N(mu2, sigma2).

    d^2 = ||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 sqrt(sigma1 sigma2)).

    Returns:
      A python float (clipped at 0: round-off can make identical inputs give -1e-12).
    """
    mu1, mu2 = _as_float64(mu1, "mu1", 1), _as_float64(mu2, "mu2", 1)
    sigma1, sigma2 = _as_float64(sigma1, "sigma1", 2), _as_float64(sigma2, "sigma2", 2)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise ValueError(
            f"shape mismatch: mu1 {mu1.shape}, sigma1 {sigma1.shape}, mu2 {mu2.shape}, sigma2 {sigma2.shape}")
    mean_term = float(np.sum((mu1 - mu2) ** 2))
    trace_term = float(np.trace(sigma1) + np.trace(sigma2)) - 2.0 * trace_sqrt_product(sigma1, sigma2)
    return max(mean_term + trace_term, 0.0)


def mean_and_covariance(features):
    """Mean [F] and unbiased (n - 1) covariance [F, F] of features [N, F], in float64."""
    features = _as_float64(features, "features", 2)
    if features.shape[0] < 2:
        raise ValueError(f"need at least 2 feature rows for a covariance, got {features.shape[0]}")
    mean = features.mean(axis=0)
    centered = features - mean
    return mean, centered.T @ centered / (features.shape[0] - 1)


def fid_from_features(features1, features2):
    """Fréchet Inception Distance between two feature sets [N1, F] and [N2, F] (as a python float)."""
    mu1, sigma1 = mean_and_covariance(features1)
    mu2, sigma2 = mean_and_covariance(features2)
    return frechet_distance(mu1, sigma1, mu2, sigma2)


def polynomial_kernel(x, y):
    """KID's cubic polynomial kernel k(x, y) = (x.y / d + 1)^3 for rows of x [M, d] and y [N, d]."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x, y):
    """Unbiased MMD^2 estimate between samples x [M, d] and y [N, d] under the cubic polynomial kernel."""
    m, n = x.shape[0], y.shape[0]
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    # Diagonal terms k(x_i, x_i) are excluded: that is what makes the estimator unbiased.
    sum_xx = k_xx.sum() - np.trace(k_xx)
    sum_yy = k_yy.sum() - np.trace(k_yy)
    return sum_xx / (m * (m - 1)) + sum_yy / (n * (n - 1)) - 2.0 * k_xy.sum() / (m * n)


def kid(features1, features2, num_subsets=100, subset_size=1000, seed=0):
    """Kernel Inception Distance: mean and std of unbiased MMD^2 over random subsets.

    As in the KID paper's reference code: each of `num_subsets` draws `subset_size` rows of each set without
    replacement (subset_size is capped at the smaller set size), and computes the unbiased MMD^2 with the
    cubic polynomial kernel.

    TF-GAN's kernel_classifier_distance_and_std instead averages over disjoint blocks and returns a standard
    error; here std is the spread over subsets, as reported by the KID paper, torch-fidelity and StudioGAN.

    Returns:
      (mean, std) as python floats; std is the (ddof=0) standard deviation over subsets.
    """
    features1 = _as_float64(features1, "features1", 2)
    features2 = _as_float64(features2, "features2", 2)
    if features1.shape[1] != features2.shape[1]:
        raise ValueError(f"feature dims differ: {features1.shape[1]} vs {features2.shape[1]}")
    size = min(subset_size, features1.shape[0], features2.shape[0])
    if size < 2:
        raise ValueError(f"KID needs at least 2 rows in each set, got {features1.shape[0]} and {features2.shape[0]}")
    if num_subsets < 1:
        raise ValueError(f"num_subsets must be >= 1, got {num_subsets}")
    rng = np.random.default_rng(seed)
    values = np.empty(num_subsets)
    for i in range(num_subsets):
        x = features1[rng.choice(features1.shape[0], size, replace=False)]
        y = features2[rng.choice(features2.shape[0], size, replace=False)]
        values[i] = mmd2_unbiased(x, y)
    return float(values.mean()), float(values.std())


def _log_softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _classifier_score(logits):
    """exp(E_x KL(p(y|x) || p(y))) for one split, as TF-GAN's classifier_score_from_logits."""
    log_p = _log_softmax(logits)
    p = np.exp(log_p)
    log_q = np.log(p.mean(axis=0))
    kl = np.sum(p * (log_p - log_q), axis=1)
    return float(np.exp(kl.mean()))


def inception_score(logits, num_splits=10):
    """Inception Score from pre-softmax logits [N, K]: mean and std over `num_splits` contiguous splits.

    Returns:
      (mean, std) as python floats. Uniform predictions give 1; confident, evenly spread predictions over
      K classes give K.
    """
    logits = _as_float64(logits, "logits", 2)
    if not 1 <= num_splits <= logits.shape[0]:
        raise ValueError(f"num_splits must be in [1, N={logits.shape[0]}], got {num_splits}")
    scores = np.array([_classifier_score(split) for split in np.array_split(logits, num_splits)])
    return float(scores.mean()), float(scores.std())


def _pairwise_distances(a, b):
    """Euclidean distances [len(a), len(b)] in float64."""
    sq = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2.0 * (a @ b.T)
    return np.sqrt(np.clip(sq, 0.0, None))


def _chunks(n, chunk_size):
    return [slice(start, min(start + chunk_size, n)) for start in range(0, n, chunk_size)]


def knn_radii(features, k, chunk_size=1024):
    """Distance from each row to its k-th nearest other row (the row itself, at distance 0, is not counted)."""
    if not 1 <= k < features.shape[0]:
        raise ValueError(f"k must be in [1, N-1={features.shape[0] - 1}], got {k}")
    radii = np.empty(features.shape[0])
    for rows in _chunks(features.shape[0], chunk_size):
        distances = _pairwise_distances(features[rows], features)
        # Index k of the partitioned row: index 0 is the row's zero distance to itself.
        radii[rows] = np.partition(distances, k, axis=1)[:, k]
    return radii


def precision_recall(real_features, fake_features, k=3, chunk_size=1024):
    """Improved precision and recall (Kynkäänniemi et al., 2019) with k-NN hyperspheres.

    precision: fraction of fake samples inside some real sample's ball of radius = distance to its k-th
    nearest real neighbour; recall: fraction of real samples inside some fake sample's ball (balls closed).

    Returns:
      (precision, recall) as python floats.
    """
    real = _as_float64(real_features, "real_features", 2)
    fake = _as_float64(fake_features, "fake_features", 2)
    real_radii, fake_radii = knn_radii(real, k, chunk_size), knn_radii(fake, k, chunk_size)
    fake_in_real = np.zeros(fake.shape[0], bool)
    real_in_fake = np.zeros(real.shape[0], bool)
    for cols in _chunks(fake.shape[0], chunk_size):
        distances = _pairwise_distances(real, fake[cols])  # [N_real, chunk]
        fake_in_real[cols] = np.any(distances <= real_radii[:, None], axis=0)
        real_in_fake |= np.any(distances <= fake_radii[None, cols], axis=1)
    return float(fake_in_real.mean()), float(real_in_fake.mean())


def density_coverage(real_features, fake_features, k=5, chunk_size=1024):
    """Density and coverage (Naeem et al., 2020) with k-NN balls around the real samples only.

    density: average number of real balls containing each fake sample, divided by k (can exceed 1);
    coverage: fraction of real balls that contain at least one fake sample (balls closed).

    Returns:
      (density, coverage) as python floats.
    """
    real = _as_float64(real_features, "real_features", 2)
    fake = _as_float64(fake_features, "fake_features", 2)
    real_radii = knn_radii(real, k, chunk_size)
    balls_per_fake = np.zeros(fake.shape[0])
    real_covered = np.zeros(real.shape[0], bool)
    for cols in _chunks(fake.shape[0], chunk_size):
        inside = _pairwise_distances(real, fake[cols]) <= real_radii[:, None]  # [N_real, chunk]
        balls_per_fake[cols] = inside.sum(axis=0)
        real_covered |= inside.any(axis=1)
    return float(balls_per_fake.mean() / k), float(real_covered.mean())
