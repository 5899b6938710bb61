"""Sparse exponential moving average of generator weights (STU-GAN): the EMA keeps the current masks' zeros."""

import tensorflow as tf

from tfgan_eff.ops import replica


def sparse_ema(ema, weight, mask, decay, newly_active=None):
    """Returns (decay * ema + (1 - decay) * weight) * mask, with newly active positions set to `weight`.

    `mask` None means a dense variable (plain EMA); `newly_active` (0/1, or None) marks positions activated since
    the last EMA update, whose stale EMA value (zero) would otherwise drag the average towards zero.
    """
    weight = tf.convert_to_tensor(weight)
    ema = tf.convert_to_tensor(ema)
    value = decay * ema + (1.0 - decay) * weight
    if mask is not None:
        value = value * tf.cast(mask, value.dtype)
    if newly_active is not None:
        value = tf.where(tf.convert_to_tensor(newly_active) > 0.5, weight, value)
    return value


def align(variables, kernels, tensors):
    """Lists `tensors[i]` at the position of `kernels[i]` in `variables`, None elsewhere.

    Use it to turn MaskSet-ordered lists (`mask_set.masks`, the updater's newly active positions) into lists
    aligned with a model's variables, e.g. `align(g.weights, mask_set.kernels, mask_set.masks)`.
    """
    by_id = {id(kernel): tensor for kernel, tensor in zip(kernels, tensors)}
    missing = set(by_id) - {id(variable) for variable in variables}
    if missing:
        raise ValueError(f"{len(missing)} masked kernels are not among the given variables: pass the model's weights")
    return [by_id.get(id(variable)) for variable in variables]


def sparse_ema_update(ema_vars, model_vars, masks, decay, newly_active=None):
    """Assigns `sparse_ema` to every EMA variable; works eagerly, in tf.function and inside strategy.run.

    Args:
      ema_vars, model_vars: equally long lists of variables (EMA copy and live model).
      masks: list aligned with model_vars, None for unmasked variables (see `align`).
      decay: EMA decay (float or scalar tensor).
      newly_active: optional list aligned with model_vars (None entries allowed).
    """
    if not len(ema_vars) == len(model_vars) == len(masks):
        raise ValueError(f"ema_vars ({len(ema_vars)}), model_vars ({len(model_vars)}) and masks ({len(masks)}) "
                         "must be aligned lists of the same length")
    newly_active = newly_active if newly_active is not None else [None] * len(model_vars)
    values = [sparse_ema(ema, weight, mask, decay, fresh)
              for ema, weight, mask, fresh in zip(ema_vars, model_vars, masks, newly_active)]
    replica.assign_values(ema_vars, values)
