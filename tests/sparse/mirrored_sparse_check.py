"""Run by test_sparse_plan.py in a fresh process: 2 logical CPUs must be configured before TF initialises.

Sparsifies a small model under MirroredStrategy, then runs masked Adam steps, gradient mask updates, random mask
updates under a tensor condition and sparse EMA inside `strategy.run` (each replica sees a different batch) and
prints JSON facts about both replicas' copies. The SparseWeights trainer through train_gan on 2 replicas against one
device is tests/compress's mirrored check (a sparse student with a mask update after each step).
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from tfgan_eff.ops.spectral_norm import SpectralNorm  # noqa: E402
from tfgan_eff.pieces import erk  # noqa: E402
from tfgan_eff.pieces.sparse_ema import align, sparse_ema_update  # noqa: E402
from tfgan_eff.pieces.masks import sparsify  # noqa: E402
from tfgan_eff.pieces.mask_update import MaskUpdater, optimizer_moments  # noqa: E402

GLOBAL_BATCH = 4


def build_model():
    """A small conv net (a spectral-norm conv, a transposed conv, a strided conv) to mask."""
    model = keras.Sequential([
        keras.Input((8, 8, 2)),
        SpectralNorm(keras.layers.Conv2D(6, 3, padding="same", activation="relu")),
        keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu"),
        keras.layers.Conv2D(4, 3, strides=2, padding="same"),
        keras.layers.Flatten(),
        keras.layers.Dense(1),
    ])
    return model


def replica_copies(variable):
    return [np.asarray(v) for v in strategy.experimental_local_results(variable.value)]


def all_replicas_equal(variables):
    return all(all(np.array_equal(copies[0], c) for c in copies[1:]) for copies in map(replica_copies, variables))


strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
keras.utils.set_random_seed(0)
with strategy.scope():
    model = build_model()
    optimizer = keras.optimizers.Adam(1e-2)
    optimizer.build(model.trainable_variables)
    ema_weights = [keras.Variable(w.numpy(), trainable=False) for w in model.weights]
# Called outside the scope on purpose: sparsify must pick up the kernels' strategy by itself.
mask_set = sparsify(model, 0.3, seed=5)
facts = {"replicas": strategy.num_replicas_in_sync,
         "masks_mirrored": all(type(m.value).__name__ == "MirroredVariable" for m in mask_set.masks),
         "init_masks_equal": all_replicas_equal(mask_set.masks)}
shapes = mask_set.shapes()
zeros = erk.zero_counts(shapes, erk.erk_densities(shapes, 0.3))
facts["init_zero_counts_exact"] = all(
    int((c == 0).sum()) == zeros[name] for name, m in zip(mask_set.names, mask_set.masks) for c in replica_copies(m))
nnz_before = mask_set.nnz()
masks_before = [m.numpy() for m in mask_set.masks]

gradient_updater = MaskUpdater(mask_set, optimizer, grow="gradient", reset_optimizer_state=True)
random_updater = MaskUpdater(mask_set, optimizer, grow="random", reset_optimizer_state=True, seed=9)
rng = np.random.default_rng(0)
batches = [rng.standard_normal((GLOBAL_BATCH // 2, 8, 8, 2)).astype("float32") for _ in range(2)]


@tf.function
def train_and_update():
    """One training step and one drop/grow update under the strategy."""
    def replica_fn(x):
        with tf.GradientTape() as tape:
            per_example = tf.square(model(x, training=True)[:, 0] - 1.0)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=GLOBAL_BATCH)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        mask_set.apply()
        with tf.GradientTape() as tape:
            per_example = tf.square(model(x, training=True)[:, 0] - 1.0)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=GLOBAL_BATCH)
        newly_active = gradient_updater.update(0.5, tape.gradient(loss, mask_set.kernels), step=optimizer.iterations)
        if optimizer.iterations % 2 == 0:  # a tensor condition (tf.cond): the writes must not need a merge_call
            random_updater.update(0.3, step=optimizer.iterations)
            mask_set.apply()
        sparse_ema_update(ema_weights, model.weights, align(model.weights, mask_set.kernels, mask_set.masks), 0.9,
                          align(model.weights, mask_set.kernels, newly_active))

    x = strategy.experimental_distribute_values_from_function(
        lambda ctx: tf.constant(np.stack(batches)[ctx.replica_id_in_sync_group]))
    strategy.run(replica_fn, args=(x,))


for _ in range(2):
    train_and_update()

moments = [v for k in mask_set.kernels for v in optimizer_moments(optimizer, k)]
facts["masks_equal_after_updates"] = all_replicas_equal(mask_set.masks)
facts["ever_active_equal"] = all_replicas_equal(mask_set.ever_active)
facts["kernels_equal"] = all_replicas_equal(mask_set.kernels)
facts["moments_equal"] = all_replicas_equal(moments)
facts["ema_equal"] = all_replicas_equal(ema_weights)
facts["ema_keeps_mask_zeros"] = all(
    np.all(e.numpy()[m.numpy() == 0] == 0)
    for e, m in zip(ema_weights, align(model.weights, mask_set.kernels, mask_set.masks)) if m is not None)
facts["nnz_constant"] = mask_set.nnz() == nnz_before
facts["masks_changed"] = not all(np.array_equal(a, m.numpy()) for a, m in zip(masks_before, mask_set.masks))
facts["masked_weights_zero"] = all(
    np.all(c[m.numpy() == 0] == 0) for k, m in zip(mask_set.kernels, mask_set.masks) for c in replica_copies(k))


json.dump(facts, sys.stdout)
