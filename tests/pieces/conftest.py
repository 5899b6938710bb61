"""Shared fixtures of the pieces' tests: a tiny generator-like model with every layer kind sparsify must handle, and
tiny DGL set-ups (16 px digits, ch 8 DCGANs, batch 4)."""

import keras
import numpy as np
import pytest
from keras import ops

from tfgan_eff.data import pipeline
from tfgan_eff.models import registry
from tfgan_eff.ops.spectral_norm import SpectralNorm
from tfgan_eff.pieces.teacher import freeze
from tfgan_eff.training.loop import batch_spec

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


@pytest.fixture
def student_and_teacher(dgl_cfg):
    """(G_S at half width, D_S, frozen D_T with spectral norm), randomly initialised from a fixed seed (the same
    weights whichever tests ran before in the process)."""
    keras.utils.set_random_seed(0)
    g = registry.build_generator(dgl_cfg, 0.5)
    d = registry.build_discriminator(dgl_cfg)
    d_t = freeze(registry.build_discriminator(dgl_cfg))
    return g, d, d_t


@pytest.fixture
def batch(dgl_cfg):
    """One training step's batch (step 0) from random images."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (16, 16, 16, 3), dtype=np.uint8)
    labels = np.zeros(16, np.int64)
    return pipeline.step_batch(images, labels, batch_spec(dgl_cfg), 0, 0, 1)
