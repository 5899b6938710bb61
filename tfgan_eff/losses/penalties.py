"""Gradient penalties as functions of a discriminator callable; both return PER-EXAMPLE values [B]."""

import tensorflow as tf


def r1_penalty(discriminator_fn, real_images):
    """R1 (Mescheder et al., 2018): ||grad_x D(x)||^2 on real data. Multiply by gamma / 2 in the caller."""
    with tf.GradientTape() as tape:
        tape.watch(real_images)
        total = tf.reduce_sum(discriminator_fn(real_images))
    grads = tape.gradient(total, real_images)
    return tf.reduce_sum(tf.square(grads), axis=[1, 2, 3])


def gradient_penalty(discriminator_fn, real_images, fake_images, alpha):
    """WGAN-GP (Gulrajani et al., 2017): (||grad D(x_hat)|| - 1)^2 at x_hat = alpha*x + (1-alpha)*G(z).

    `alpha` [B, 1, 1, 1] in [0, 1] is passed in so the caller controls (and can reproduce) the randomness.
    """
    interpolated = alpha * real_images + (1.0 - alpha) * fake_images
    with tf.GradientTape() as tape:
        tape.watch(interpolated)
        total = tf.reduce_sum(discriminator_fn(interpolated))
    grads = tape.gradient(total, interpolated)
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]) + 1e-12)
    return tf.square(norms - 1.0)
