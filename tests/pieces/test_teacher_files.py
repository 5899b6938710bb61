"""Teacher G and D files: this package's models saved whole come back as themselves, an exported G is called like
the package's (same images, parameters and FLOPs), a foreign functional G is wrapped, and a file that does not fit
the run is refused in one line."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.config import presets
from tfgan_eff.export.saved_model import export_saved_model
from tfgan_eff.models import registry
from tfgan_eff.models.dcgan import DCGANGenerator
from tfgan_eff.models.flops import count_flops, generator_input_specs
from tfgan_eff.models.resnet import ResNetGenerator
from tfgan_eff.pieces.teacher_files import FileGenerator, TeacherError, load_generator_file
from tfgan_eff.training.loop import count_params

STRATEGY = tf.distribute.get_strategy()


def _data(resolution=16, channels=3, num_classes=0):
    cfg = presets.smoke(presets.baseline())
    cfg.data.update(resolution=resolution, channels=channels, conditional=bool(num_classes), num_classes=num_classes)
    return cfg.data


def _z(latent, n=3):
    return np.random.default_rng(0).standard_normal((n, latent)).astype(np.float32)


@pytest.fixture(scope="module")
def dcgan():
    """A 16 px, 3-channel DCGAN G of the smoke preset with non-trivial BN statistics."""
    generator = registry.build_generator(presets.smoke(presets.baseline()))
    for bn in generator.bns:
        bn.moving_mean.assign(np.linspace(-0.5, 0.5, bn.moving_mean.shape[0]).astype(np.float32))
    return generator


@pytest.mark.parametrize("make, labels", [
    (lambda: DCGANGenerator(8, 16, 3, ch=8), None),
    (lambda: ResNetGenerator(8, 16, 3, ch=8, num_classes=4), np.array([0, 3, 1], np.int32)),
])
def test_a_package_generator_saved_whole_comes_back_as_itself(make, labels, tmp_path):
    generator = make().build_for_inputs()
    generator.save(tmp_path / "g.keras")
    loaded = load_generator_file(str(tmp_path / "g.keras"), "keras", _data(num_classes=generator.num_classes),
                                 STRATEGY)
    assert type(loaded) is type(generator)
    np.testing.assert_array_equal(loaded(_z(8), labels), generator(_z(8), labels))


def test_an_exported_generator_is_called_like_the_packages(dcgan, tmp_path):
    path = export_saved_model(dcgan, str(tmp_path / "saved_model"))
    loaded = load_generator_file(path, "saved_model", _data(), STRATEGY)
    assert isinstance(loaded, FileGenerator)
    assert (loaded.latent_dim, loaded.resolution, loaded.channels, loaded.num_classes) == (
        dcgan.latent_dim, 16, 3, 0)
    np.testing.assert_allclose(loaded(_z(dcgan.latent_dim)), dcgan(_z(dcgan.latent_dim)), atol=1e-6)
    assert count_params(loaded) == count_params(dcgan)  # the table row's G params
    assert count_flops(loaded, generator_input_specs(loaded)) == count_flops(dcgan, generator_input_specs(dcgan))


def test_a_functional_generator_is_wrapped(tmp_path):
    z = keras.Input((6,), name="noise")
    images = keras.layers.Reshape((16, 16, 3))(keras.layers.Dense(16 * 16 * 3, activation="tanh")(z))
    model = keras.Model(z, images)
    model.save(tmp_path / "g.keras")
    loaded = load_generator_file(str(tmp_path / "g.keras"), "keras", _data(), STRATEGY)
    assert isinstance(loaded, FileGenerator) and loaded.latent_dim == 6
    np.testing.assert_allclose(loaded(_z(6)), model(_z(6)), atol=1e-6)
    assert count_params(loaded) == 6 * 768 + 768


@pytest.mark.parametrize("data, message", [
    (dict(resolution=8), r"it makes images of shape \[16, 16, 3\]; expected 8x8x3 images and no labels"),
    (dict(channels=1), r"it makes images of shape \[16, 16, 3\]; expected 16x16x1 images"),
    (dict(num_classes=10), r"it takes z: \[None, 16\] float32; expected 16x16x3 images and int labels of 10 "
                           "classes"),
])
def test_a_generator_file_that_does_not_fit_is_refused_in_one_line(dcgan, tmp_path, data, message):
    path = export_saved_model(dcgan, str(tmp_path / "saved_model"))
    with pytest.raises(TeacherError, match="teacher generator .* does not fit this run: " + message) as err:
        load_generator_file(path, "saved_model", _data(**data), STRATEGY)
    assert "\n" not in str(err.value)


def test_a_discriminator_or_a_damaged_file_given_as_the_generator_is_refused(tmp_path):
    d = registry.build_discriminator(presets.smoke(presets.baseline()))
    d.save(tmp_path / "d.keras")
    with pytest.raises(TeacherError, match="d.keras holds a DCGANDiscriminator, not a generator"):
        load_generator_file(str(tmp_path / "d.keras"), "keras", _data(), STRATEGY)
    image = keras.Input((16, 16, 3))
    keras.Model(image, keras.layers.Dense(1)(keras.layers.Flatten()(image))).save(tmp_path / "foreign_d.keras")
    with pytest.raises(TeacherError, match=r"must take z \[B, latent_dim\] and optionally integer labels"):
        load_generator_file(str(tmp_path / "foreign_d.keras"), "keras", _data(), STRATEGY)
    (tmp_path / "bad.keras").write_bytes(b"not a zip")
    with pytest.raises(TeacherError, match="is not a readable .keras model"):
        load_generator_file(str(tmp_path / "bad.keras"), "keras", _data(), STRATEGY)
