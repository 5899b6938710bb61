"""SavedModel export: serve signature, round trip against Keras, metadata, atomic replace, strip hook."""

import os

import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.export.saved_model import export_saved_model, read_export_metadata

NUM_CLASSES = 5


def _serve(path):
    return tf.saved_model.load(str(path)).signatures["serve"]


@pytest.mark.parametrize("num_classes", [0, NUM_CLASSES])
def test_round_trip_matches_keras(num_classes, saved_models, uncond_generator, cond_generator, make_eval_batch):
    g = cond_generator if num_classes else uncond_generator
    serve = _serve(saved_models[num_classes])
    specs = serve.structured_input_signature[1]
    assert sorted(specs) == (["y", "z"] if num_classes else ["z"])
    assert specs["z"].shape.as_list() == [None, 8] and specs["z"].dtype == tf.float32
    if num_classes:
        assert specs["y"].shape.as_list() == [None] and specs["y"].dtype == tf.int32
    for n in (1, 3):  # the batch dimension is dynamic
        z, labels = make_eval_batch(num_classes, n=n)
        kwargs = {"z": tf.constant(z)} if labels is None else {"z": tf.constant(z), "y": tf.constant(labels)}
        out = serve(**kwargs)
        assert list(out) == ["images"]
        images = out["images"].numpy()
        assert images.dtype == np.float32 and images.shape == (n, 16, 16, 3)
        assert np.all(np.abs(images) <= 1.0)
        np.testing.assert_allclose(images, g(z, labels=labels, training=False).numpy(), atol=1e-5, rtol=0)


def test_inference_mode_is_exported(saved_models, make_generator, make_eval_batch):
    # BN moving statistics differ from batch statistics, so a training-mode export would not match.
    # A rebuilt copy (same seed) is used: training=True updates the moving statistics.
    z, _ = make_eval_batch(0, n=4)
    exported = _serve(saved_models[0])(z=tf.constant(z))["images"].numpy()
    train_mode = make_generator(num_classes=0, seed=0)(z, training=True).numpy()
    assert np.abs(exported - train_mode).max() > 1e-3


def test_labels_change_the_images(saved_models, make_eval_batch):
    serve = _serve(saved_models[NUM_CLASSES])
    z, _ = make_eval_batch(NUM_CLASSES, n=2)
    a = serve(z=tf.constant(z), y=tf.constant([0, 0], tf.int32))["images"].numpy()
    b = serve(z=tf.constant(z), y=tf.constant([1, 1], tf.int32))["images"].numpy()
    assert np.abs(a - b).max() > 1e-4


def test_metadata_is_written(saved_models):
    meta = read_export_metadata(saved_models[NUM_CLASSES])
    assert (meta["latent_dim"], meta["num_classes"], meta["resolution"], meta["channels"]) == (8, NUM_CLASSES, 16, 3)
    assert read_export_metadata(saved_models[0])["num_classes"] == 0


def test_reexport_replaces_previous_export(tmp_path, make_generator, make_eval_batch):
    path = tmp_path / "sm"
    export_saved_model(make_generator(seed=3), path)
    g = make_generator(seed=4)
    export_saved_model(g, path)
    z, _ = make_eval_batch(0, n=2)
    np.testing.assert_allclose(_serve(path)(z=tf.constant(z))["images"].numpy(), g(z).numpy(), atol=1e-5)
    assert os.listdir(tmp_path) == ["sm"]  # no temporary or backup directories left behind


def test_missing_attribute_is_a_clear_error(tmp_path):
    import keras

    plain = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)])
    with pytest.raises(ValueError, match="latent_dim"):
        export_saved_model(plain, tmp_path / "sm")
    assert not (tmp_path / "sm").exists()
