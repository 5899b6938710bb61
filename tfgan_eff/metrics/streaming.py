"""Streaming feature statistics: images go through an extractor batch by batch and only summaries are kept.

Mean and covariance are merged per batch in float64 (Chan et al.'s parallel update, stable for large N), a
seeded reservoir keeps a uniform capped subset of raw features for KID / precision-recall / density-coverage,
and logits are kept (small: [N, K]) for the Inception Score. 50,000 samples never exist as images at once.
"""

import dataclasses
from typing import Optional

import numpy as np


@dataclasses.dataclass
class FeatureStats:
    """Summary of a feature set.

    Attributes:
      mean: [F] float64.
      cov: [F, F] float64, unbiased (n - 1).
      n: number of samples summarised.
      features: [M, F] float32 uniform subset (M <= cap), or None when not kept.
      logits: [n, K] float32, or None when not kept.
      protocol: how the features were made (see ref_stats), or None.
    """

    mean: np.ndarray
    cov: np.ndarray
    n: int
    features: Optional[np.ndarray] = None
    logits: Optional[np.ndarray] = None
    protocol: Optional[dict] = None


class FeatureAccumulator:
    """Accumulates features (and logits) batch by batch into a FeatureStats."""

    def __init__(self, max_features=10000, keep_logits=True, seed=0):
        """max_features: reservoir size for raw features (0 keeps none); seed: reservoir sampling seed."""
        self._max_features = int(max_features)
        self._keep_logits = keep_logits
        self._rng = np.random.default_rng(seed)
        self._n = 0
        self._mean = None
        self._scatter = None  # sum of centred outer products, M2 in Chan et al.
        self._reservoir = None
        self._logits = []

    def update(self, features, logits=None):
        """Adds a batch of features [B, F] (and logits [B, K] if kept)."""
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2:
            raise ValueError(f"features must be [B, F], got shape {features.shape}")
        batch = features.shape[0]
        if batch == 0:
            return
        batch_mean = features.mean(axis=0)
        centered = features - batch_mean
        batch_scatter = centered.T @ centered
        if self._n == 0:
            self._mean, self._scatter = batch_mean, batch_scatter
        else:
            total = self._n + batch
            delta = batch_mean - self._mean
            self._scatter = self._scatter + batch_scatter + np.outer(delta, delta) * (self._n * batch / total)
            self._mean = self._mean + delta * (batch / total)
        self._update_reservoir(features.astype(np.float32))
        if self._keep_logits:
            if logits is None:
                raise ValueError("keep_logits=True but no logits were given; pass logits or keep_logits=False")
            self._logits.append(np.asarray(logits, dtype=np.float32))
        self._n += batch

    def _update_reservoir(self, features):
        """Algorithm R, vectorised over a batch: sample t (0-based) replaces slot j ~ U[0, t] when j < cap."""
        cap = self._max_features
        if cap <= 0:
            return
        if self._reservoir is None:
            self._reservoir = np.empty((cap, features.shape[1]), np.float32)
        positions = np.arange(self._n, self._n + features.shape[0])
        fill = positions < cap
        self._reservoir[positions[fill]] = features[fill]
        later = ~fill
        if np.any(later):
            slots = self._rng.integers(0, positions[later] + 1)
            replace = slots < cap
            slots, rows = slots[replace], features[later][replace]
            # Several samples may hit one slot: sequential Algorithm R keeps the last, so keep the last too.
            _, last = np.unique(slots[::-1], return_index=True)
            keep = len(slots) - 1 - last
            self._reservoir[slots[keep]] = rows[keep]

    def result(self):
        """Returns the FeatureStats of everything seen so far."""
        if self._n < 2:
            raise ValueError(f"need at least 2 samples for a covariance, got {self._n}")
        features = None
        if self._reservoir is not None:
            features = self._reservoir[: min(self._n, self._max_features)].copy()
        logits = np.concatenate(self._logits, axis=0) if self._keep_logits else None
        return FeatureStats(mean=self._mean.copy(), cov=self._scatter / (self._n - 1), n=self._n,
                            features=features, logits=logits)


def to_unit_range(images):
    """Images as float32 in [-1, 1]: uint8 input is scaled by x / 127.5 - 1, float input is passed through."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 127.5 - 1.0
    return images.astype(np.float32)


def _image_batches(source, num_samples, batch_size):
    """Yields image batches from an iterable of batches or a callable n -> batch, stopping at num_samples."""
    if callable(source):
        if num_samples is None:
            raise ValueError("a callable image source needs num_samples")
        produced = 0
        while produced < num_samples:
            n = min(batch_size, num_samples - produced)
            batch = np.asarray(source(n))
            if batch.shape[0] != n:
                raise ValueError(f"image source returned {batch.shape[0]} images when asked for {n}")
            produced += n
            yield batch
        return
    produced = 0
    for batch in source:
        if isinstance(batch, (tuple, list)):  # (images, labels) pairs from a dataset
            batch = batch[0]
        elif isinstance(batch, dict):  # TFDS feature dicts
            batch = batch["image"]
        batch = np.asarray(batch)
        if num_samples is not None:
            batch = batch[: num_samples - produced]
        produced += batch.shape[0]
        yield batch
        if num_samples is not None and produced >= num_samples:
            return
    if num_samples is not None and produced < num_samples:
        raise ValueError(f"image source ran out after {produced} images; {num_samples} were requested")


def accumulate_features(source, extractor, num_samples=None, batch_size=64, max_features=10000,
                        keep_logits=True, seed=0):
    """Streams images through an extractor and summarises the features.

    Args:
      source: an iterable of image batches [B, H, W, C] (uint8, or float in [-1, 1]; (images, labels) tuples
        and {"image": ...} dicts are accepted, e.g. from tf.data / TFDS), or a callable n -> n images (e.g. a
        generator's sampler).
      extractor: callable images in [-1, 1] -> (features [B, F], logits [B, K]).
      num_samples: stop after this many images (required for a callable source; default: the whole iterable).
      batch_size: images per call of a callable source.
      max_features: size of the uniform raw-feature subset kept for KID / PR / DC (0 keeps none).
      keep_logits: keep all logits (for the Inception Score).
      seed: reservoir sampling seed.

    Returns:
      FeatureStats.
    """
    accumulator = FeatureAccumulator(max_features=max_features, keep_logits=keep_logits, seed=seed)
    for images in _image_batches(source, num_samples, batch_size):
        if images.shape[0] == 0:
            continue
        features, logits = extractor(to_unit_range(images))
        accumulator.update(np.asarray(features), np.asarray(logits) if keep_logits else None)
    return accumulator.result()
