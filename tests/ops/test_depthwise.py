"""The sep convs' depthwise conv: Keras' DepthwiseConv2D values, weights and gradients with a faster kernel gradient."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.ops.depthwise import DepthwiseConv2D, depthwise_conv_valid, depthwise_kernel_grad


def _pair(kernel_size, padding):
    """Keras' layer and ours with the same kernel."""
    keras.utils.set_random_seed(0)
    reference = keras.layers.DepthwiseConv2D(kernel_size, padding=padding, use_bias=False)
    ours = DepthwiseConv2D(kernel_size, padding=padding)
    x = tf.constant(np.random.default_rng(0).normal(size=(3, 9, 8, 4)), tf.float32)
    reference(x)
    ours(x)
    ours.kernel.assign(reference.kernel)
    return reference, ours, x


@pytest.mark.parametrize("kernel_size", [3, 5, 7])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_matches_keras_depthwise_conv_in_value_and_gradients(kernel_size, padding):
    reference, ours, x = _pair(kernel_size, padding)
    assert [v.path.split("/")[-1] for v in ours.weights] == [v.path.split("/")[-1] for v in reference.weights]
    upstream = tf.constant(np.random.default_rng(1).normal(size=reference(x).shape), tf.float32)

    def value_and_grads(layer):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(y * upstream)
        return [t.numpy() for t in (y, *tape.gradient(loss, [x, layer.kernel]))]
    for got, want in zip(value_and_grads(ours), value_and_grads(reference)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_kernel_gradient_with_batch_known_only_at_run_time():
    """The batch-x-channels reshapes work when the batch (and map) size is only known at run time, as in an
    exported or distributed step."""
    x = tf.constant(np.random.default_rng(2).normal(size=(2, 10, 10, 3)), tf.float32)
    dy = tf.constant(np.random.default_rng(3).normal(size=(2, 4, 4, 3)), tf.float32)
    dynamic = tf.function(lambda a, b: depthwise_kernel_grad(a, b, 7),
                          input_signature=[tf.TensorSpec((None, None, None, 3))] * 2)
    native = tf.raw_ops.DepthwiseConv2dNativeBackpropFilter(
        input=x, filter_sizes=[7, 7, 3, 1], out_backprop=dy, strides=[1, 1, 1, 1], padding="VALID")
    np.testing.assert_allclose(dynamic(x, dy).numpy(), native.numpy(), rtol=1e-5, atol=1e-5)


def test_custom_gradient_in_a_traced_function_reaches_a_variable():
    kernel = tf.Variable(tf.ones((5, 5, 2, 1)))
    x = tf.ones((1, 7, 7, 2))

    @tf.function
    def grad():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(depthwise_conv_valid(x, tf.identity(kernel)))
        return tape.gradient(loss, kernel)
    np.testing.assert_allclose(grad().numpy(), np.full((5, 5, 2, 1), 9.0))  # each tap sees 3x3 output pixels of 1


@pytest.mark.parametrize("options", [dict(kernel_size=4), dict(kernel_size=(3, 5)), dict(kernel_size=3, strides=2),
                                     dict(kernel_size=3, use_bias=True), dict(kernel_size=3, depth_multiplier=2)])
def test_unsupported_configurations_are_rejected(options):
    with pytest.raises(ValueError, match="square odd kernel"):
        DepthwiseConv2D(**options)


def test_config_round_trips():
    layer = DepthwiseConv2D(5, padding="same", name="dw")
    copy = DepthwiseConv2D.from_config(layer.get_config())
    assert (copy.kernel_size, copy.padding, copy.use_bias, copy.name) == ((5, 5), "same", False, "dw")


@pytest.mark.parametrize("kernel_size", [3, 7])
def test_gradient_ops_are_named_as_gradients(kernel_size):
    """Both gradients are built under a 'depthwise_gradient' scope, so profiles count them as gradients (the forward
    conv and the kernel-gradient trick are both DepthwiseConv2dNative ops)."""
    x = tf.Variable(tf.zeros((2, 9, 9, 3)))
    kernel = tf.Variable(tf.zeros((kernel_size, kernel_size, 3, 1)))

    def grads():
        with tf.GradientTape() as tape:
            y = depthwise_conv_valid(x, kernel)
        return tape.gradient(y, [x, kernel])
    graph = tf.function(grads).get_concrete_function().graph
    depthwise = [op.name for op in graph.get_operations() if op.type.startswith("DepthwiseConv2dNative")]
    assert [name for name in depthwise if not name.startswith("depthwise_gradient")] == ["depthwise"]  # forward
    assert len(depthwise) == 3  # forward, input gradient, kernel gradient
