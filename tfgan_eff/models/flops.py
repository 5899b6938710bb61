"""FLOPs of one forward pass, counted by TensorFlow's graph profiler.

What is counted: the model is traced at batch 1 into a tf.function graph, frozen (variables to constants, called
functions inlined) and TF's registered `flops` statistics are summed. MatMul / Conv2D / Conv2DBackpropInput
(= Conv2DTranspose) count 2 x multiply-adds (a multiply-add is 2 FLOPs); bias adds and elementwise arithmetic (Add,
Mul, Sub, Rsqrt, ...) count one FLOP per output element; activations (ReLU, tanh, LeakyReLU), reshapes and fused
batch norm kernels count nothing. A transposed convolution is counted over all kernel taps (the input-size x
kernel-size multiply-adds), as TF's profiler does. Spectral-norm layers also count their per-call sigma estimate (a
few vector-matrix products).
"""

import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
from tensorflow.python.profiler.model_analyzer import profile
from tensorflow.python.profiler.option_builder import ProfileOptionBuilder


def generator_input_specs(generator):
    """The batch-1 input specs of a generator: z [1, latent_dim] (+ labels [1] int32 when conditional)."""
    specs = [tf.TensorSpec([1, generator.latent_dim], tf.float32)]
    if generator.num_classes:
        specs.append(tf.TensorSpec([1], tf.int32))
    return specs


def discriminator_input_specs(discriminator):
    """The batch-1 input specs of a discriminator: an image [1, H, W, C] (+ labels [1] when conditional)."""
    res = discriminator.resolution
    specs = [tf.TensorSpec([1, res, res, discriminator.channels], tf.float32)]
    if discriminator.num_classes:
        specs.append(tf.TensorSpec([1], tf.int32))
    return specs


def count_flops(model, input_specs):
    """FLOPs (2 x multiply-adds, see the module docstring) of one inference call `model(*inputs, training=False)`.

    Args:
      model: a callable Keras model (built or not).
      input_specs: tf.TensorSpec per positional input; every dimension must be known (use batch 1).

    Returns:
      int, the total float operations the profiler registers for the traced graph.
    """
    specs = list(input_specs)
    for spec in specs:
        if not spec.shape.is_fully_defined():
            raise ValueError(f"count_flops needs fully known input shapes (batch 1), got {spec}")
    concrete = tf.function(lambda *inputs: model(*inputs, training=False)).get_concrete_function(*specs)
    # Freezing inlines the functions the graph calls (a SavedModel's signature): the profiler counts no op inside one.
    graph = convert_variables_to_constants_v2(concrete).graph
    options = ProfileOptionBuilder(ProfileOptionBuilder.float_operation()).with_empty_output().build()
    level = tf.get_logger().level
    tf.get_logger().setLevel("ERROR")  # the profiler warns about its TF1-era shape helpers on every call
    try:
        result = profile(graph, options=options)
    finally:
        tf.get_logger().setLevel(level)
    return int(result.total_float_ops)
