"""DiffAugment (Zhao et al., 2020) as a pure function of images and per-example uniform noise.

Randomness comes in as `noise` [B, NOISE_DIM] in [0, 1) drawn by the input pipeline, so an augmented step is identical
on 1 or N replicas and after a resume.
"""

import tensorflow as tf

from tfgan_eff.data.names import parse_policy

NOISE_DIM = 7


def _color(x, u):
    x = x + (u[:, 0, None, None, None] - 0.5)                                  # brightness
    mean = tf.reduce_mean(x, axis=3, keepdims=True)
    x = (x - mean) * (u[:, 1, None, None, None] * 2.0) + mean                   # saturation
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    return (x - mean) * (u[:, 2, None, None, None] + 0.5) + mean               # contrast


def _shift_indices(size, shift):
    """Gather indices for a zero-padded shift: index `size` points at the padding row."""
    idx = tf.range(size)[None, :] - shift[:, None]
    return tf.where((idx >= 0) & (idx < size), idx, size)


def _translation(x, u, ratio=0.125):
    h, w = x.shape[1], x.shape[2]
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = tf.cast(tf.floor(u[:, 3] * (2 * sh + 1)), tf.int32) - sh
    dx = tf.cast(tf.floor(u[:, 4] * (2 * sw + 1)), tf.int32) - sw
    padded = tf.pad(x, [[0, 0], [0, 1], [0, 1], [0, 0]])
    rows = _shift_indices(h, dy)                                                 # [B, H]
    cols = _shift_indices(w, dx)                                                 # [B, W]
    x = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(x, cols, axis=2, batch_dims=1)


def _cutout(x, u, ratio=0.5):
    h, w = x.shape[1], x.shape[2]
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = tf.floor(u[:, 5] * (h + (1 - ch % 2)))
    cx = tf.floor(u[:, 6] * (w + (1 - cw % 2)))
    yy = tf.range(h, dtype=tf.float32)[None, :, None]
    xx = tf.range(w, dtype=tf.float32)[None, None, :]
    top, left = cy[:, None, None] - ch // 2, cx[:, None, None] - cw // 2  # the square may leave the image
    inside = (yy >= top) & (yy < top + ch) & (xx >= left) & (xx < left + cw)
    return x * tf.cast(~inside, x.dtype)[..., None]


_OPS = {"color": _color, "translation": _translation, "cutout": _cutout}


def diff_augment(x, noise, policy):
    """Applies the ops of `policy` (names or a comma string) to images x [B,H,W,C] with noise [B, NOISE_DIM]."""
    names = parse_policy(policy) if isinstance(policy, str) else policy
    for name in names:
        x = _OPS[name](x, noise)
    return x
