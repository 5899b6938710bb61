"""One prune-and-regrow update of every mask of a MaskSet, with the kernel and optimizer bookkeeping it needs."""

import tensorflow as tf

from tfgan_eff.ops import replica
from tfgan_eff.pieces.drop_grow import drop_grow

GROW_MODES = ("gradient", "random")
# Keras 3 Adam / AdamW keep their first and second moments (and AMSGrad's max) in these per-variable lists.
_MOMENT_LISTS = ("_momentums", "_velocities", "_velocity_hats")


def optimizer_moments(optimizer, variable):
    """Returns the optimizer's moment variables (Adam m, v and AMSGrad v_hat) for a model `variable`."""
    optimizer = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer keeps the real one inside
    if not optimizer.built:
        raise ValueError("build the optimizer first: optimizer.build(model.trainable_variables) "
                         "(inside strategy.scope() when distributed)")
    index = optimizer._get_variable_index(variable)  # pylint: disable=protected-access  # no public lookup
    moments = [getattr(optimizer, name)[index] for name in _MOMENT_LISTS if getattr(optimizer, name, None)]
    moments = [moment for moment in moments if moment is not None]
    if not moments:
        raise ValueError(f"{type(optimizer).__name__} has no Adam-style moment lists {_MOMENT_LISTS}; "
                         "pass reset_optimizer_state=False")
    return moments


class MaskUpdater:
    """Prune-and-regrow for all layers of a MaskSet (STU-GAN): drop smallest |w|, regrow by |gradient| or randomly.

    Per update and layer: masks are replaced by `drop_grow`, newly active weights are set to zero, dropped weights
    are zeroed by the new mask, `ever_active` |= new mask. The optimizer moments are kept (the official STU-GAN code
    never resets them); `reset_optimizer_state=True` zeroes those of newly active positions, as RigL does.
    `update` runs eagerly, inside a tf.function and inside `strategy.run`. Random growth and `MaskSet.apply` may sit
    under a tensor condition there; gradient growth all-reduces the gradients (a merge_call on MirroredStrategy),
    so call it from straight-line code, e.g. a separate tf.function run every Delta_T steps.
    """

    def __init__(self, mask_set, optimizer=None, *, grow="gradient", reset_optimizer_state=False, seed=0):
        if grow not in GROW_MODES:
            raise ValueError(f"grow must be one of {GROW_MODES}, got {grow!r}")
        if reset_optimizer_state and optimizer is None:
            raise ValueError("reset_optimizer_state=True needs the optimizer that trains the masked kernels")
        self.mask_set = mask_set
        self.optimizer = optimizer
        self.grow = grow
        self.reset_optimizer_state = reset_optimizer_state
        self.seed = seed
        self._moments = None  # resolved on first update: the optimizer may be built after the updater

    def _kernel_moments(self):
        if self._moments is None:
            self._moments = [optimizer_moments(self.optimizer, kernel) for kernel in self.mask_set.kernels]
        return self._moments

    def update(self, drop_fraction, grads=None, step=0):
        """Runs one update on every masked kernel and returns the newly active positions (list of 0/1 tensors).

        Args:
          drop_fraction: fraction p of active weights to drop per layer (e.g. `cosine_drop_fraction(step, T)`).
          grads: dense gradients of the loss w.r.t. `mask_set.kernels` (same order), needed for grow="gradient".
            Inside `strategy.run` they are summed over replicas here, so every replica ranks the same scores.
          step: int or scalar tensor mixed into the stateless seed of random growth (use the training step).
        """
        mask_set = self.mask_set
        if self.grow == "gradient":
            if grads is None or len(grads) != len(mask_set.kernels):
                raise ValueError(f"grow='gradient' needs one gradient per masked kernel "
                                 f"({len(mask_set.kernels)}, in mask_set.kernels order)")
            scores = [tf.abs(g) for g in replica.sum_over_replicas(grads)]
        else:
            scores = [None] * len(mask_set.kernels)
        base_seed = tf.stack([tf.constant(self.seed, tf.int64), tf.cast(step, tf.int64)])

        variables, values, newly_active_all = [], [], []
        for index, (kernel, mask, ever, score) in enumerate(
                zip(mask_set.kernels, mask_set.masks, mask_set.ever_active, scores)):
            seed = tf.random.experimental.stateless_fold_in(base_seed, index)
            weight = tf.convert_to_tensor(kernel)
            new_mask, newly_active = drop_grow(weight, tf.convert_to_tensor(mask), score, drop_fraction,
                                               random_seed=seed)
            keep = tf.cast(new_mask * (1.0 - newly_active), weight.dtype)
            variables += [mask, ever, kernel]
            values += [new_mask, tf.maximum(tf.convert_to_tensor(ever), new_mask), weight * keep]
            if self.reset_optimizer_state:
                for moment in self._kernel_moments()[index]:
                    variables.append(moment)
                    values.append(tf.convert_to_tensor(moment) * tf.cast(1.0 - newly_active, moment.dtype))
            newly_active_all.append(newly_active)
        replica.assign_values(variables, values)
        return newly_active_all
