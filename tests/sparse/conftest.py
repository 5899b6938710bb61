"""Shared fixtures for the sparse tests: a tiny generator-like model with every layer kind sparsify must handle."""

import keras
import numpy as np
import pytest
from keras import ops

from tfgan_eff.ops.spectral_norm import SpectralNorm

LATENT_DIM = 8


class TinyGenerator(keras.Model):
    """z -> Dense -> BN -> Conv2DTranspose (up) -> SpectralNorm(Conv2D) -> Conv2D -> tanh, plus a label embedding.

    Masked: the three conv kernels. Dense, embedding, biases and BN must stay dense.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.embed = keras.layers.Embedding(3, LATENT_DIM)
        self.fc = keras.layers.Dense(4 * 4 * 8)
        self.bn = keras.layers.BatchNormalization()
        self.up = keras.layers.Conv2DTranspose(6, 3, strides=2, padding="same")
        self.conv_sn = SpectralNorm(keras.layers.Conv2D(8, 3, padding="same"))
        self.to_rgb = keras.layers.Conv2D(3, 3, padding="same")

    def call(self, z, labels, training=False):
        h = self.fc(z * self.embed(labels))
        h = ops.relu(self.bn(ops.reshape(h, (-1, 4, 4, 8)), training=training))
        h = ops.relu(self.up(h))
        h = ops.relu(self.conv_sn(h, training=training))
        return ops.tanh(self.to_rgb(h))


def make_inputs(batch=4, seed=0):
    """(z, labels) of one batch from a fixed seed."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((batch, LATENT_DIM)).astype("float32")
    labels = rng.integers(0, 3, size=batch).astype("int32")
    return z, labels


@pytest.fixture
def make_model():
    """Returns a factory of built TinyGenerator models with fixed initial weights per seed."""

    def factory(seed=0):
        keras.utils.set_random_seed(seed)
        model = TinyGenerator()
        model(*make_inputs())
        return model

    return factory


@pytest.fixture
def inputs():
    return make_inputs()
