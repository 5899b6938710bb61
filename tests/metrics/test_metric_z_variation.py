"""z_share: how much of a generator's output varies with z (mode collapse as a number)."""

import keras
import numpy as np
import pytest

from tfgan_eff.metrics.z_variation import (COLLAPSE_THRESHOLD, is_collapsed, output_moments, z_share_from_moments,
                                           z_variation_share)


def test_z_share_of_constructed_outputs():
    rng = np.random.default_rng(0)
    template = rng.uniform(-1, 1, (8, 8, 3))
    assert z_variation_share(np.repeat(template[None], 50, axis=0)) == pytest.approx(0.0, abs=1e-9)
    assert z_variation_share(np.zeros((4, 8, 8, 3))) == 0.0  # nothing varies at all
    # i.i.d. values around one common mean: all variance is across samples.
    assert z_variation_share(rng.normal(0.3, 1.0, (4000, 4, 4, 1))) == pytest.approx(1.0, abs=0.01)
    # template variance 1/3 (uniform [-1, 1]) + z-dependent variance 1/3: half of it varies with z.
    mixed = template + rng.uniform(-1, 1, (4000, 8, 8, 3))
    assert z_variation_share(mixed) == pytest.approx(0.5, abs=0.05)
    with pytest.raises(ValueError, match="at least 2"):
        z_variation_share(template[None])


def test_z_share_streams_over_batches():
    images = np.random.default_rng(1).normal(size=(30, 4, 4, 3)) + np.linspace(-1, 1, 48).reshape((4, 4, 3))
    batches = [output_moments(images[i:i + 7]) for i in range(0, 30, 7)]
    merged = [sum(parts) for parts in zip(*batches)]
    assert merged[0] == 30
    assert z_share_from_moments(*merged) == pytest.approx(z_variation_share(images), rel=1e-12)


def _generator(ignore_z):
    """A tiny conv G; with ignore_z its stem sees z * 0 and passes on only its (random) bias: one image."""
    keras.utils.set_random_seed(0)
    z = keras.Input((16,))
    h = keras.layers.Dense(4 * 4 * 8, bias_initializer="random_normal")(z * 0.0 if ignore_z else z)
    h = keras.layers.UpSampling2D(2)(keras.layers.Reshape((4, 4, 8))(h))
    return keras.Model(z, keras.layers.Conv2D(3, 3, padding="same", activation="tanh")(h))


def test_a_generator_that_ignores_z_is_flagged_and_a_healthy_one_is_not():
    z = np.random.default_rng(0).standard_normal((64, 16)).astype(np.float32)
    collapsed, healthy = (z_variation_share(_generator(flag)(z).numpy()) for flag in (True, False))
    assert collapsed < 1e-6 and is_collapsed(collapsed)
    assert healthy > 0.5 and not is_collapsed(healthy)
    assert is_collapsed(0.11) and not is_collapsed(0.44) and 0.11 < COLLAPSE_THRESHOLD < 0.44  # measured on digits
