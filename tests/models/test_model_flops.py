"""count_flops against hand counts (2 x multiply-adds + one FLOP per bias add)."""

import keras
import pytest
import tensorflow as tf

from tfgan_eff.config import presets
from tfgan_eff.models import registry
from tfgan_eff.models.flops import count_flops, discriminator_input_specs, generator_input_specs


class DenseConvNet(keras.Model):
    """Dense 5 -> 6*6*2, reshape, Conv2D 3x3 same 2 -> 4 channels, ConvTranspose 4x4 stride 2 4 -> 3 (no bias)."""

    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(6 * 6 * 2)
        self.conv = keras.layers.Conv2D(4, 3, padding="same")
        self.up = keras.layers.Conv2DTranspose(3, 4, strides=2, padding="same", use_bias=False)

    def call(self, z, training=False):
        h = keras.ops.reshape(self.dense(z), (-1, 6, 6, 2))
        return self.up(keras.ops.relu(self.conv(h)))


def test_count_flops_matches_hand_count():
    model = DenseConvNet()
    dense = 2 * 5 * 72 + 72                   # matmul multiply-adds x2 + bias
    conv = 2 * (6 * 6) * (3 * 3 * 2) * 4 + 6 * 6 * 4
    up = 2 * (6 * 6) * (4 * 4) * 4 * 3       # every input pixel meets every kernel tap
    assert count_flops(model, [tf.TensorSpec([1, 5])]) == dense + conv + up


def test_count_flops_is_per_example_and_needs_static_shapes():
    model = DenseConvNet()
    assert count_flops(model, [tf.TensorSpec([2, 5])]) == 2 * count_flops(model, [tf.TensorSpec([1, 5])])
    with pytest.raises(ValueError, match="batch 1"):
        count_flops(model, [tf.TensorSpec([None, 5])])


def test_half_width_dcgan_generator_costs_about_a_quarter():
    cfg = presets.smoke(presets.baseline())
    cfg.model.g.ch = 8
    full = registry.build_generator(cfg)
    half = registry.build_generator(cfg, 0.5)
    ratio = count_flops(half, generator_input_specs(half)) / count_flops(full, generator_input_specs(full))
    assert 0.2 < ratio < 0.4  # convolutions scale with width^2, the stem and head with width
    d = registry.build_discriminator(cfg)
    assert count_flops(d, discriminator_input_specs(d)) > 0
