"""Exponential moving average of generator weights (Karras et al. / BigGAN-style G-EMA)."""

import tensorflow as tf

from tfgan_eff.ops.replica import assign_synced


def ema_values(ema_model, model, decay, active):
    """New EMA values: decay-averaged trainable weights (copied while `active` is False), copied buffers (BN stats)."""
    trainable = {id(v) for v in model.trainable_variables}
    values = []
    for ema_var, var in zip(ema_model.weights, model.weights):
        if id(var) in trainable:
            averaged = decay * ema_var + (1.0 - decay) * var
            values.append(tf.where(active, averaged, tf.convert_to_tensor(var)))
        else:
            values.append(tf.convert_to_tensor(var))
    return values


def update_ema(ema_model, model, decay, active=True):
    """ema <- decay * ema + (1 - decay) * model for trainable weights; non-trainable weights are copied.

    Works inside `strategy.run` (every replica computes the same values).
    """
    assign_synced(ema_model.weights, ema_values(ema_model, model, decay, active))


def copy_weights(target, source):
    """target <- source, weight by weight (models of the same architecture)."""
    for t, s in zip(target.weights, source.weights):
        t.assign(s)
