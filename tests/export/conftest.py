"""Tiny generators for the export tests (16 px, latent 8, width 8)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

LATENT_DIM = 8
NUM_CLASSES = 5
RESOLUTION = 16


class TinyGenerator(keras.Model):
    """Dense -> 4x4 -> ConvTranspose+BN -> UpSampling+Conv+BN -> Conv -> tanh; optional label embedding."""

    def __init__(self, num_classes=0, activation="relu", width=8, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = LATENT_DIM
        self.num_classes = num_classes
        self.resolution = RESOLUTION
        self.channels = 3
        # "sin" has no int8 TFLite kernel: it makes full-integer conversion fail on purpose.
        self.activation = keras.ops.sin if activation == "sin" else keras.activations.get(activation)
        self.embed = keras.layers.Embedding(num_classes, 4) if num_classes else None
        self.fc = keras.layers.Dense(4 * 4 * width)
        self.reshape = keras.layers.Reshape((4, 4, width))
        self.up1 = keras.layers.Conv2DTranspose(width, 4, strides=2, padding="same")
        self.bn1 = keras.layers.BatchNormalization()
        self.up2 = keras.layers.UpSampling2D()
        self.conv2 = keras.layers.Conv2D(width, 3, padding="same")
        self.bn2 = keras.layers.BatchNormalization()
        self.to_rgb = keras.layers.Conv2D(3, 3, padding="same")

    def call(self, z, labels=None, training=False):
        h = z
        if self.num_classes:
            h = keras.ops.concatenate([z, self.embed(labels)], axis=-1)
        h = self.reshape(self.fc(h))
        h = self.activation(self.bn1(self.up1(h), training=training))
        h = self.activation(self.bn2(self.conv2(self.up2(h)), training=training))
        return keras.ops.tanh(self.to_rgb(h))


def build_generator(num_classes=0, activation="relu", seed=0, kernel_sparsity=0.0):
    """A built TinyGenerator with non-trivial BN statistics (so training=True/False differ) and,
    optionally, that fraction of each kernel's smallest-magnitude entries set to exactly zero."""
    keras.utils.set_random_seed(seed)
    g = TinyGenerator(num_classes=num_classes, activation=activation)
    labels = np.zeros((1,), np.int32) if num_classes else None
    g(np.zeros((1, LATENT_DIM), np.float32), labels=labels)
    rng = np.random.default_rng(seed)
    for bn in (g.bn1, g.bn2):
        bn.moving_mean.assign(rng.normal(0.0, 0.1, bn.moving_mean.shape).astype(np.float32))
        bn.moving_variance.assign(rng.uniform(0.5, 2.0, bn.moving_variance.shape).astype(np.float32))
    if kernel_sparsity:
        for v in g.variables:
            if v.name == "kernel":
                k = v.numpy()
                k[np.abs(k) < np.quantile(np.abs(k), kernel_sparsity)] = 0.0
                v.assign(k)
    return g


def eval_batch(num_classes, n=4, seed=123):
    """n latents (and labels when conditional) from a fixed seed."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, LATENT_DIM)).astype(np.float32)
    labels = rng.integers(0, num_classes, size=(n,)).astype(np.int32) if num_classes else None
    return z, labels


@pytest.fixture(scope="session")
def uncond_generator():
    return build_generator(num_classes=0, seed=0)


@pytest.fixture(scope="session")
def cond_generator():
    return build_generator(num_classes=NUM_CLASSES, seed=1)


@pytest.fixture(scope="session")
def saved_models(tmp_path_factory, uncond_generator, cond_generator):
    """SavedModels of both generators, exported once for the session: {num_classes: path}."""
    from tfgan_eff.export.saved_model import export_saved_model

    root = tmp_path_factory.mktemp("saved_models")
    return {
        0: export_saved_model(uncond_generator, root / "uncond"),
        NUM_CLASSES: export_saved_model(cond_generator, root / "cond"),
    }


@pytest.fixture(scope="session")
def make_generator():
    """`build_generator` for tests that need their own variant (conftest is not importable by tests)."""
    return build_generator


@pytest.fixture(scope="session")
def make_eval_batch():
    return eval_batch
