"""SpectralNorm: power iteration, frozen vector in inference, what is saved and trained."""

import keras
import numpy as np
import pytest

from tfgan_eff.ops.spectral_norm import SpectralNorm


def _numpy_sigma(w_matrix, u, iterations):
    """Reference power iteration on W [in, out] starting from u [1, out]."""
    for _ in range(iterations):
        v = u @ w_matrix.T
        v /= np.linalg.norm(v)
        u = v @ w_matrix
        u /= np.linalg.norm(u)
    v = u @ w_matrix.T
    v /= np.linalg.norm(v)
    return float((v @ w_matrix @ u.T).squeeze()), u


@pytest.mark.parametrize("make,shape,to_matrix", [
    (lambda: keras.layers.Dense(5), (3, 7), lambda k: k),
    (lambda: keras.layers.Conv2D(6, 3, padding="same"), (2, 5, 5, 4), lambda k: k.reshape(-1, k.shape[-1])),
    (lambda: keras.layers.Conv2DTranspose(6, 2, strides=2), (2, 5, 5, 4),
     lambda k: np.swapaxes(k, -1, -2).reshape(-1, k.shape[-2])),
])
def test_matches_numpy_power_iteration(make, shape, to_matrix):
    layer = SpectralNorm(make())
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    layer(x, training=False)
    u0 = layer.vector_u.numpy().copy()
    w = to_matrix(layer.layer.kernel.numpy())
    layer(x, training=True)
    sigma_ref, u_ref = _numpy_sigma(w, u0, 1)
    np.testing.assert_allclose(layer.vector_u.numpy(), u_ref, rtol=1e-4, atol=1e-6)
    kernel_sn = layer.normalized_kernel(training=False).numpy()
    np.testing.assert_allclose(to_matrix(kernel_sn), w / sigma_ref, rtol=1e-4, atol=1e-6)
    for _ in range(100):  # converges to the top singular value
        layer(x, training=True)
    top = np.linalg.svd(w, compute_uv=False)[0]
    np.testing.assert_allclose(w / to_matrix(layer.normalized_kernel().numpy()), top, rtol=1e-3)


def test_output_uses_normalised_kernel():
    layer = SpectralNorm(keras.layers.Dense(4, activation="relu"))
    x = np.random.default_rng(1).normal(size=(3, 6)).astype(np.float32)
    y = layer(x, training=False).numpy()
    expected = np.maximum(x @ layer.normalized_kernel().numpy() + layer.layer.bias.numpy(), 0)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


def test_vector_frozen_when_not_training():
    layer = SpectralNorm(keras.layers.Conv2D(3, 3))
    x = np.ones((1, 6, 6, 2), np.float32)
    layer(x, training=False)
    u = layer.vector_u.numpy().copy()
    for _ in range(3):
        layer(x, training=False)
    np.testing.assert_array_equal(layer.vector_u.numpy(), u)
    layer(x, training=True)
    assert not np.array_equal(layer.vector_u.numpy(), u)


def test_vector_is_saved_not_trained():
    layer = SpectralNorm(keras.layers.Dense(2))
    layer(np.ones((1, 3), np.float32))
    assert any(v is layer.vector_u for v in layer.non_trainable_weights)
    assert all(v is not layer.vector_u for v in layer.trainable_weights)


def test_rejects_other_layers():
    with pytest.raises(TypeError, match="wraps Dense, Conv2D or Conv2DTranspose"):
        SpectralNorm(keras.layers.BatchNormalization())
