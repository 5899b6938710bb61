"""Feature extractors: Inception from a local file only; the offline classifier trains once, caches, is accurate."""

import hashlib
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.data import offline
from tfgan_eff.metrics import distances, extractors
from tfgan_eff.metrics.extractors import InceptionExtractor, build_extractor, offline_classifier_recipe, recipe_hash


@pytest.mark.parametrize("weights_path", ["", "/nonexistent/inception.h5"])
def test_inception_without_weights_file_says_how_to_supply_one(weights_path):
    with pytest.raises(FileNotFoundError) as error:
        build_extractor("inception", weights_path=weights_path)
    message = str(error.value)
    assert "--config.eval.inception_weights=" in message
    assert "inception_v3_weights_tf_dim_ordering_tf_kernels.h5" in message
    assert "offline" in message


def test_inception_loads_local_weights_file(tmp_path):
    # A randomly initialised InceptionV3 saved locally: the extractor must reproduce exactly this network.
    source = keras.applications.InceptionV3(include_top=True, weights=None, classifier_activation=None)
    path = str(tmp_path / "inception.weights.h5")
    source.save_weights(path)
    extractor = InceptionExtractor(path)
    images = np.random.default_rng(0).uniform(-1, 1, size=(2, 16, 16, 3)).astype(np.float32)
    features, logits = extractor(images)
    assert features.shape == (2, 2048) and logits.shape == (2, 1000)

    resized = tf.image.resize(images, (299, 299), method="bilinear")
    np.testing.assert_allclose(logits, source(resized, training=False).numpy(), rtol=1e-5, atol=1e-7)
    kernel, bias = source.get_layer("predictions").get_weights()
    np.testing.assert_allclose(logits, features @ kernel + bias, rtol=1e-4, atol=1e-6)  # pre-softmax logits
    with open(path, "rb") as f:
        assert extractor.protocol["weights_sha256"] == hashlib.sha256(f.read()).hexdigest()
    assert extractor.protocol["input_size"] == 299 and extractor.protocol["feature_dim"] == 2048


def test_offline_recipe_hash_is_stable_and_recipe_specific():
    assert recipe_hash(offline_classifier_recipe("digits")) == recipe_hash(offline_classifier_recipe("digits"))
    assert recipe_hash(offline_classifier_recipe("digits")) != recipe_hash(offline_classifier_recipe("digits", 16))
    assert recipe_hash(offline_classifier_recipe("digits")) != recipe_hash(offline_classifier_recipe("shapes"))
    with pytest.raises(ValueError, match="must be one of"):
        offline_classifier_recipe("cifar10")


def test_offline_classifier_is_accurate_and_cached(digits_extractor, offline_cache_dir):
    assert not digits_extractor.loaded_from_cache
    assert digits_extractor.test_accuracy > 0.9
    assert digits_extractor.protocol["recipe_hash"][:16] in os.path.basename(digits_extractor.weights_path)
    assert not [name for name in os.listdir(offline_cache_dir) if name.startswith(".tmp")]
    mtime = os.path.getmtime(digits_extractor.weights_path)

    again = build_extractor("offline", dataset="digits", cache_dir=offline_cache_dir)
    assert again.loaded_from_cache  # no retraining
    assert os.path.getmtime(again.weights_path) == mtime
    assert again.test_accuracy == digits_extractor.test_accuracy
    assert again.protocol == digits_extractor.protocol
    images = np.random.default_rng(0).uniform(-1, 1, size=(5, 32, 32, 3)).astype(np.float32)
    features, logits = again(images)
    assert features.shape == (5, 128) and logits.shape == (5, 10)
    np.testing.assert_array_equal(features, digits_extractor(images)[0])


def test_offline_classifier_training_is_deterministic():
    # A cheaper variant of the recipe (1 epoch, 16 px) trained twice gives identical weights and accuracy.
    recipe = dict(offline_classifier_recipe("digits", resolution=16), epochs=1)
    first, accuracy_first, _, _ = extractors._train_classifier(recipe)  # pylint: disable=protected-access
    second, accuracy_second, _, _ = extractors._train_classifier(recipe)  # pylint: disable=protected-access
    assert accuracy_first == accuracy_second
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_offline_extractor_resizes_and_checks_channels(digits_extractor):
    small = np.zeros((3, 16, 16, 3), np.float32)
    features, logits = digits_extractor(small)
    assert features.shape == (3, 128) and logits.shape == (3, 10)
    with pytest.raises(ValueError, match=r"\[B, H, W, 3\]"):
        digits_extractor(np.zeros((3, 32, 32, 1), np.float32))


def test_fid_between_real_splits_is_far_below_fid_to_noise(digits_extractor):
    images, _ = offline.load("digits", resolution=32, channels=3)
    images = images.astype(np.float32) / 127.5 - 1.0
    order = np.random.default_rng(0).permutation(len(images))
    split_a, split_b = images[order[:800]], images[order[800:1600]]
    noise = np.random.default_rng(1).uniform(-1, 1, size=split_b.shape).astype(np.float32)
    features_a = digits_extractor(split_a)[0]
    fid_real = distances.fid_from_features(features_a, digits_extractor(split_b)[0])
    fid_noise = distances.fid_from_features(features_a, digits_extractor(noise)[0])
    assert fid_real * 20 < fid_noise
