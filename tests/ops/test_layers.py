"""The BatchNormalization that counts its elements from the shape matches Keras' synchronised BN."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.ops import layers


def _pair(**kwargs):
    """Our batch_norm and Keras' synchronized BatchNormalization with the same settings, both built."""
    ours = layers.batch_norm(**kwargs)
    keras_bn = keras.layers.BatchNormalization(synchronized=True, momentum=0.9, epsilon=1e-5, **kwargs)
    for bn in (ours, keras_bn):
        bn.build((None, 5, 6, 3))
    keras_bn.set_weights(ours.get_weights())
    return ours, keras_bn


@pytest.mark.parametrize("traced", [False, True])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_equals_keras_synchronized_bn_in_values_gradients_and_moving_stats(traced, affine):
    """The element count from the shape instead of a sum of ones: the same numbers as Keras' synchronized path."""
    ours, keras_bn = _pair(center=affine, scale=affine)
    # far from zero mean, so E[x^2] - E[x]^2 rounds differently from a two-pass variance if the formula changed
    x = tf.constant(np.random.default_rng(0).normal(3.0, 2.0, size=(4, 5, 6, 3)), tf.float32)
    upstream = tf.constant(np.random.default_rng(1).normal(size=(4, 5, 6, 3)), tf.float32)

    def forward_backward(bn):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = bn(x, training=True)
            loss = tf.reduce_sum(y * upstream)
        return [y] + tape.gradient(loss, [x] + list(bn.trainable_variables))
    results = [(tf.function(forward_backward) if traced else forward_backward)(bn) for bn in (ours, keras_bn)]
    for a, b in zip(*results):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(ours.non_trainable_weights, keras_bn.non_trainable_weights):  # moving mean and variance
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(ours(x, training=False).numpy(), keras_bn(x, training=False).numpy())


def test_batch_norm_keeps_keras_names_and_round_trips_through_keras_serialization():
    bn = layers.batch_norm(center=False, scale=False)
    assert isinstance(bn, layers.BatchNormalization) and bn.name.startswith("batch_normalization")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(bn))
    assert restored.__class__ is layers.BatchNormalization and restored.synchronized and not restored.center
