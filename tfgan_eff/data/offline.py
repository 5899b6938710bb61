"""Built-in offline datasets: scikit-learn's digits and procedurally generated shapes.

Both return uint8 NHWC arrays so every source (offline, TFDS, image folder) has one format.
"""

import numpy as np
import tensorflow as tf

from tfgan_eff.data.names import OFFLINE_DATASETS


def _resize_uint8(images, resolution):
    """Bilinearly resizes uint8 NHWC images to a square resolution."""
    if images.shape[1] == resolution and images.shape[2] == resolution:
        return images
    resized = tf.image.resize(tf.cast(images, tf.float32), (resolution, resolution), method="bilinear")
    return np.clip(np.round(resized.numpy()), 0, 255).astype(np.uint8)


def load_digits(resolution=32, channels=3):
    """scikit-learn's 1,797 8x8 digits (values 0..16), resized and scaled to uint8.

    Returns:
      (images uint8 [N, resolution, resolution, channels], labels int64 [N]).
    """
    # Imported here: scikit-learn takes ~1.5 CPU-s to import and only the digits source needs it.
    from sklearn.datasets import load_digits as _sk_load_digits

    bunch = _sk_load_digits()
    images = (bunch.images.astype(np.float32) * (255.0 / 16.0)).round().astype(np.uint8)[..., None]
    images = _resize_uint8(images, resolution)
    if channels == 3:
        images = np.repeat(images, 3, axis=-1)
    elif channels != 1:
        raise ValueError(f"digits supports channels=1 or 3, got {channels}")
    return images, bunch.target.astype(np.int64)


_SHAPE_KINDS = ("square", "circle", "triangle")
_PALETTE = np.array(
    [[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48],
     [145, 30, 180], [70, 240, 240], [240, 50, 230]], dtype=np.float32)


def _draw_shape(rng, resolution):
    """One RGB image with a single coloured shape on a dark background; returns (image, kind index)."""
    yy, xx = np.indices((resolution, resolution), dtype=np.float32) + 0.5
    kind = int(rng.integers(len(_SHAPE_KINDS)))
    size = rng.uniform(0.2, 0.38) * resolution
    cy, cx = rng.uniform(size, resolution - size, size=2)
    if kind == 0:
        inside = (np.abs(yy - cy) <= size * 0.8) & (np.abs(xx - cx) <= size * 0.8)
    elif kind == 1:
        inside = (yy - cy) ** 2 + (xx - cx) ** 2 <= size ** 2
    else:
        top, bottom = cy - size, cy + size
        half_width = (yy - top) / (2 * size) * size
        inside = (yy >= top) & (yy <= bottom) & (np.abs(xx - cx) <= half_width)
    background = rng.uniform(0, 40, size=3).astype(np.float32)
    colour = _PALETTE[rng.integers(len(_PALETTE))]
    image = np.where(inside[..., None], colour, background)
    return np.clip(image, 0, 255).astype(np.uint8), kind


def load_shapes(resolution=32, channels=3, num_examples=10000, seed=0):
    """Procedurally generated, seeded coloured shapes (square, circle, triangle); any size.

    Returns:
      (images uint8 [N, resolution, resolution, channels], labels int64 [N] = shape kind).
    """
    rng = np.random.default_rng(seed)
    images = np.empty((num_examples, resolution, resolution, 3), np.uint8)
    labels = np.empty((num_examples,), np.int64)
    for i in range(num_examples):
        images[i], labels[i] = _draw_shape(rng, resolution)
    if channels == 1:
        images = np.round(images.mean(axis=-1, keepdims=True)).astype(np.uint8)
    elif channels != 3:
        raise ValueError(f"shapes supports channels=1 or 3, got {channels}")
    return images, labels


def load(name, resolution=32, channels=3, num_examples=10000, seed=0):
    """Loads a built-in offline dataset by name ('digits' or 'shapes') as (uint8 NHWC images, int64 labels)."""
    if name == "digits":
        return load_digits(resolution, channels)
    if name == "shapes":
        return load_shapes(resolution, channels, num_examples, seed)
    raise ValueError(f"unknown offline dataset {name!r}; choose one of {OFFLINE_DATASETS}")
