"""Prune-and-regrow mask math (RigL / STU-GAN) as pure tensor functions that trace inside tf.function.

Rankings take the k largest entries of the flattened tensor with `tf.math.top_k` (a partial sort: k is at most half
the active weights, so this is several times cheaper than sorting the whole kernel; the output length follows k, so
these functions are not meant for XLA). `top_k` puts the lower index first among equal values, so ties are broken
deterministically and every replica given the same inputs picks the same positions.
"""

import math

import tensorflow as tf

# Slack for float round-off in ceil(p * nnz): 0.3 * 10 is 3.0000000000000004 in float64 and must give 3.
_CEIL_SLACK = 1e-6


def cosine_drop_fraction(step, total_steps, p0=0.5, p_end=0.005):
    """p_t = p_end + (p0 - p_end) * (1 + cos(pi * t / T)) / 2, with t clipped to [0, T] (stays at p_end after T)."""
    t = tf.clip_by_value(tf.cast(step, tf.float32), 0.0, float(total_steps))
    return p_end + (p0 - p_end) * 0.5 * (1.0 + tf.cos(math.pi * t / float(total_steps)))


def num_to_drop(nnz, drop_fraction):
    """k = ceil(drop_fraction * nnz) as int32, clipped to [0, nnz]."""
    nnz64 = tf.cast(nnz, tf.float64)
    k = tf.math.ceil(tf.cast(drop_fraction, tf.float64) * nnz64 - _CEIL_SLACK)
    return tf.cast(tf.clip_by_value(k, 0.0, nnz64), tf.int32)


def first_k_by_key(key, k):
    """0/1 float32 vector marking the k largest entries of the 1-D `key` (ties: lower index first)."""
    _, order = tf.math.top_k(key, k=k, sorted=True)
    return tf.scatter_nd(order[:, None], tf.ones(tf.shape(order), tf.float32), tf.shape(key))


def _finite_floor(x):
    """Replaces NaN and -inf by the lowest finite float so eligible entries always outrank ineligible (-inf) ones."""
    lowest = tf.constant(x.dtype.min, x.dtype)
    return tf.where(x >= lowest, x, lowest)


def drop_grow(weight, mask, score_grow, drop_fraction, *, random_seed=None):
    """One prune-and-regrow step on one kernel. Returns (new_mask, grown_positions), both float32 of mask's shape.

    1. Drop k = ceil(drop_fraction * nnz) active weights with the smallest |weight|.
    2. Grow exactly k positions among the inactive ones after the drop (just-dropped positions are eligible, as in
       RigL): the largest `score_grow` (e.g. |dense gradient|; larger is better), or uniformly at random when
       `score_grow` is None, using `tf.random.stateless_uniform(seed=random_seed)` so replicas agree.
    The number of active weights is unchanged. `grown_positions` marks the newly active positions (active now,
    inactive before): those weights start at zero. A weight dropped and grown back at once keeps its value.

    Args:
      weight: kernel tensor.
      mask: 0/1 tensor of weight's shape.
      score_grow: tensor of weight's shape, or None for random growth.
      drop_fraction: scalar in [0, 1] (Python float or tensor).
      random_seed: int32/int64 tensor of shape [2], required when score_grow is None (e.g. derived from (seed, step)).
    """
    shape = tf.shape(mask)
    old_mask = tf.cast(tf.reshape(mask, [-1]), tf.float32)
    active = old_mask > 0.5
    nnz = tf.reduce_sum(tf.cast(active, tf.int32))
    k = num_to_drop(nnz, drop_fraction)

    magnitude = tf.abs(tf.cast(tf.reshape(weight, [-1]), tf.float32))
    neg_inf = tf.constant(-float("inf"), tf.float32)
    drop_key = tf.where(active, _finite_floor(-magnitude), neg_inf)
    dropped = first_k_by_key(drop_key, k)
    kept = tf.cast(active, tf.float32) - dropped

    if score_grow is None:
        if random_seed is None:
            raise ValueError("random growth needs random_seed (an int32 [2] tensor such as [seed, step])")
        score = tf.random.stateless_uniform(tf.shape(old_mask), seed=random_seed)
    else:
        score = tf.cast(tf.reshape(score_grow, [-1]), tf.float32)
    grow_key = tf.where(kept > 0.5, neg_inf, _finite_floor(score))
    grown = first_k_by_key(grow_key, k)

    new_mask = kept + grown
    newly_active = grown * (1.0 - old_mask)
    return tf.reshape(new_mask, shape), tf.reshape(newly_active, shape)
