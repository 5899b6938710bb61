"""Sparse-training diagnostics: layer density, exploration rate, and the balance ratio of the ADAPT paper."""

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
