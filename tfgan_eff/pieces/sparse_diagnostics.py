"""Sparse-training diagnostics: layer density, exploration rate, the balance ratio of the ADAPT paper, and how the
weights regrown by one prune-and-regrow update fare at the next."""

import numpy as np
import tensorflow as tf


def density(mask):
    """Fraction of active (non-zero) entries of a mask, float32 scalar."""
    return tf.reduce_mean(tf.cast(tf.not_equal(tf.convert_to_tensor(mask), 0), tf.float32))


def exploration_rate(ever_active):
    """Fraction of all masked weights that have ever been active (list of 0/1 `ever_active` masks), float32."""
    flags = [tf.reshape(tf.cast(tf.not_equal(tf.convert_to_tensor(m), 0), tf.float32), [-1]) for m in ever_active]
    return tf.reduce_mean(tf.concat(flags, axis=0))


def balance_ratio(d_real, d_fake_pre, d_fake_post):
    """BR = E[D(G_post(z)) - D(G_pre(z))] / (E[D(x)] - E[D(G_pre(z))]) (ADAPT, NeurIPS 2023).

    Inputs are discriminator outputs on real images, on G's samples before a G step and on the same z after it.
    BR near 0: G barely moves D's opinion (D too strong for G); large BR: G catches up quickly. The denominator is
    not guarded: D that cannot tell real from fake gives +-inf, which is itself the message.
    """
    d_real, d_fake_pre, d_fake_post = (tf.cast(x, tf.float32) for x in (d_real, d_fake_pre, d_fake_post))
    gain = tf.reduce_mean(d_fake_post - d_fake_pre)
    gap = tf.reduce_mean(d_real) - tf.reduce_mean(d_fake_pre)
    return gain / gap


def sparsity_summary(mask_set):
    """Python floats for summary.json / TensorBoard: per-layer density, overall density and exploration rate."""
    total = sum(int(tf.size(mask)) for mask in mask_set.masks)
    active = sum(mask_set.nnz().values())
    summary = {f"density/{name}": value for name, value in mask_set.densities().items()}
    summary["density/overall"] = active / total
    summary["exploration_rate"] = float(exploration_rate(mask_set.ever_active))
    return summary


def regrowth_summary(masks_before, masks_after, magnitudes, grown_before):
    """How the weights grown at the previous update fared by this one (all layers of one MaskSet pooled).

    Args (lists over layers, NumPy arrays of the kernels' shapes): `masks_before` / `masks_after` the boolean masks
    just before / after this update, `magnitudes` |kernel| just before it, `grown_before` the boolean positions the
    previous update grew, or None when unknown (at the first update, and the first after a resume).
    Returns Python floats (None when unknown or nothing was grown last time):
      regrown_redropped: share of the previous update's grown weights that this update drops. Near 1, the update
        period is too short for regrown weights (which start at zero) to grow: exploration only churns them.
      regrown_magnitude_ratio: mean |w| of those weights (still active before this update) over the mean |w| of
        the other active weights.
    """
    grown = sum(int(g.sum()) for g in grown_before) if grown_before is not None else 0
    if not grown:
        return {"regrown_redropped": None, "regrown_magnitude_ratio": None}
    redropped = sum(int((g & b & ~a).sum()) for g, b, a in zip(grown_before, masks_before, masks_after))
    young = np.concatenate([m[g & b] for m, g, b in zip(magnitudes, grown_before, masks_before)])
    old = np.concatenate([m[~g & b] for m, g, b in zip(magnitudes, grown_before, masks_before)])
    ratio = float(young.mean() / old.mean()) if young.size and old.size and old.mean() > 0 else None
    return {"regrown_redropped": redropped / grown, "regrown_magnitude_ratio": ratio}
