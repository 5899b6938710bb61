"""Spectral normalisation as a Keras 3 layer wrapper (Miyato et al., 2018).

The wrapped layer's raw kernel W stays the trainable variable; the forward pass uses W / sigma(W), where sigma is
estimated by one power iteration per training call. The iteration vector `vector_u` is a non-trainable, saved
variable that only moves when the layer is called with training=True, so a frozen network (training=False) is
bit-for-bit stable.
"""

import keras
from keras import ops


def _l2_normalize(x, eps=1e-12):
    return x / ops.sqrt(ops.maximum(ops.sum(ops.square(x)), eps))


@keras.saving.register_keras_serializable(package="tfgan_eff")
class SpectralNorm(keras.layers.Wrapper):
    """Wraps a Dense, Conv2D or Conv2DTranspose layer and divides its kernel by its largest singular value."""

    def __init__(self, layer, power_iterations=1, eps=1e-12, **kwargs):
        if not isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
            raise TypeError(f"SpectralNorm wraps Dense, Conv2D or Conv2DTranspose, got {type(layer).__name__}")
        super().__init__(layer, **kwargs)
        self.power_iterations = power_iterations
        self.eps = eps

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build(input_shape)
        kernel_shape = self.layer.kernel.shape
        # Conv2DTranspose stores (kh, kw, out, in): its output axis is -2, not -1.
        self._out_axis = -2 if isinstance(self.layer, keras.layers.Conv2DTranspose) else -1
        out_dim = kernel_shape[self._out_axis]
        self.vector_u = self.add_weight(
            name="vector_u", shape=(1, out_dim), initializer=keras.initializers.RandomNormal(stddev=1.0),
            trainable=False, aggregation="only_first_replica", autocast=False)
        self.built = True

    def _kernel_matrix(self, kernel):
        if self._out_axis == -2:
            kernel = ops.swapaxes(kernel, -1, -2)
        return ops.reshape(kernel, (-1, kernel.shape[-1]))

    def normalized_kernel(self, training=False):
        """Returns W / sigma(W); with training=True also advances and stores the power iteration."""
        # Under mixed_bfloat16 the kernel is read as bfloat16 here; the power iteration and sigma still run in
        # float32 (u is stored without rounding), and only the normalised kernel goes back to the compute dtype.
        kernel = ops.cast(self.layer.kernel, "float32")
        w = self._kernel_matrix(kernel)
        u = ops.stop_gradient(ops.convert_to_tensor(self.vector_u))
        if training:
            for _ in range(self.power_iterations):
                v = _l2_normalize(ops.matmul(u, ops.transpose(w)), self.eps)
                u = _l2_normalize(ops.matmul(v, w), self.eps)
            u = ops.stop_gradient(u)
            self.vector_u.assign(u)
        v = ops.stop_gradient(_l2_normalize(ops.matmul(u, ops.transpose(w)), self.eps))
        sigma = ops.sum(ops.matmul(v, w) * u)
        return ops.cast(kernel / sigma, self.compute_dtype)

    def call(self, inputs, training=False):
        kernel = self.normalized_kernel(training=training)
        layer = self.layer
        if isinstance(layer, keras.layers.Conv2DTranspose):
            outputs = ops.conv_transpose(inputs, kernel, strides=layer.strides, padding=layer.padding,
                                         output_padding=layer.output_padding, dilation_rate=layer.dilation_rate,
                                         data_format=layer.data_format)
        elif isinstance(layer, keras.layers.Conv2D):
            outputs = layer.convolution_op(inputs, kernel)
        else:
            outputs = ops.matmul(inputs, kernel)
        if layer.use_bias:
            outputs = outputs + layer.bias
        if layer.activation is not None:
            outputs = layer.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(power_iterations=self.power_iterations, eps=self.eps)
        return config
