"""The training input pipeline: deterministic, resumable, and split per replica the same way on 1 or N devices.

Every element is a function of (seed, step) only: real-image indices (sampled with replacement), z for the D and G
steps, fake labels and DiffAugment noise are drawn with stateless RNG from the global step. Each replica then takes
its slice of the GLOBAL batch, so 1 device and R devices see the same examples at every step, and a resumed run
continues with exactly the batch an uninterrupted run would have used.
"""

import dataclasses

import numpy as np
import tensorflow as tf
from absl import logging

from tfgan_eff.data.diffaug import NOISE_DIM

# Steps prepared ahead, a fixed number with tf.data's autotuning off: a step's batch is a few gathers and random
# draws, and with AUTOTUNE the end of a run (freeing the iterator) took 9-13 s more in 3 of 3 search retrainings
# (2 of 9 bare Keras fits: 37 s); with these settings 0.7 s in 3 of 3 (docs/reliability.md).
PREFETCH_STEPS = 2


def to_float(images):
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def to_uint8(images):
    """float [-1, 1] -> uint8 [0, 255] (numpy)."""
    return np.clip(np.round((np.asarray(images) + 1.0) * 127.5), 0, 255).astype(np.uint8)


@dataclasses.dataclass(frozen=True)
class BatchSpec:
    """Global sizes of one training step: n_critic D batches of `batch_size` and one G batch of `g_batch_size`."""
    batch_size: int
    g_batch_size: int
    n_critic: int
    latent_dim: int
    num_classes: int = 0
    seed: int = 0


def _streams(seed, step):
    """Independent stateless seeds for each random quantity of a step."""
    return [tf.stack([tf.cast(seed * 16 + k, tf.int64), step]) for k in range(8)]


def step_batch(images, labels, spec, step, replica, num_replicas):
    """The slice of step `step`'s global batch that replica `replica` of `num_replicas` trains on.

    Returns a dict: real [n_critic, b, H, W, C] float32 in [-1, 1], real_labels [n_critic, b], z_d [n_critic, b, L],
    fake_labels_d [n_critic, b], aug_d [n_critic, b, 2, NOISE_DIM] (real, fake), alpha_d [n_critic, b] (GP mix),
    z_g [gb, L], fake_labels_g [gb],
    aug_g [gb, NOISE_DIM], where b = batch_size / num_replicas and gb = g_batch_size / num_replicas.
    """
    s = _streams(spec.seed, tf.cast(step, tf.int64))
    n, bsz, gsz = spec.n_critic, spec.batch_size, spec.g_batch_size
    b, gb = bsz // num_replicas, gsz // num_replicas
    d_rows = slice(None), slice(replica * b, (replica + 1) * b)
    g_rows = slice(replica * gb, (replica + 1) * gb)
    num_images = tf.shape(images, out_type=tf.int64)[0]
    idx = tf.random.stateless_uniform([n, bsz], s[0], minval=0, maxval=num_images, dtype=tf.int64)[d_rows]
    classes = max(spec.num_classes, 1)
    return dict(
        real=to_float(tf.gather(images, idx)),
        real_labels=tf.cast(tf.gather(labels, idx), tf.int32),
        z_d=tf.random.stateless_normal([n, bsz, spec.latent_dim], s[1])[d_rows],
        fake_labels_d=tf.random.stateless_uniform([n, bsz], s[2], 0, classes, tf.int32)[d_rows],
        aug_d=tf.random.stateless_uniform([n, bsz, 2, NOISE_DIM], s[3])[d_rows],
        alpha_d=tf.random.stateless_uniform([n, bsz], s[7])[d_rows],
        z_g=tf.random.stateless_normal([gsz, spec.latent_dim], s[4])[g_rows],
        fake_labels_g=tf.random.stateless_uniform([gsz], s[5], 0, classes, tf.int32)[g_rows],
        aug_g=tf.random.stateless_uniform([gsz, NOISE_DIM], s[6])[g_rows],
    )


def prefetched(ds):
    """`ds` preparing PREFETCH_STEPS elements ahead, with tf.data's autotuning off."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.prefetch(PREFETCH_STEPS).with_options(options)


def make_dataset(images, labels, spec, start_step=0, strategy=None):
    """An infinite dataset of training steps starting at `start_step`, distributed by `strategy` if given.

    With a strategy, each input pipeline yields its local replicas' slices in replica order, which
    `distribute_datasets_from_function` hands to the replicas round-robin.
    """
    if spec.batch_size > len(images):
        # Legal (indices are drawn with replacement, as few-shot runs with DiffAugment want), but worth a word.
        logging.warning("train.batch_size=%d is larger than the %d training images: every batch repeats images",
                        spec.batch_size, len(images))
    images = tf.constant(images)
    labels = tf.constant(labels)

    def replica_stream(first_replica, local_replicas, num_replicas):
        def for_step(step):
            return tf.data.Dataset.range(local_replicas).map(
                lambda r: step_batch(images, labels, spec, step, first_replica + r, num_replicas))
        return prefetched(tf.data.Dataset.counter(start_step).flat_map(for_step))

    if strategy is None or strategy.num_replicas_in_sync == 1:
        return replica_stream(0, 1, 1)
    num_replicas = strategy.num_replicas_in_sync
    for name, size in (("batch_size", spec.batch_size), ("g_batch_size", spec.g_batch_size)):
        if size % num_replicas:
            raise ValueError(f"train.{name}={size} is not divisible by the {num_replicas} replicas")

    def dataset_fn(ctx):
        local = num_replicas // ctx.num_input_pipelines
        return replica_stream(ctx.input_pipeline_id * local, local, num_replicas)

    return strategy.distribute_datasets_from_function(dataset_fn)
