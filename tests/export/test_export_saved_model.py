"""SavedModel export: serve signature, round trip against Keras, metadata, atomic replace, strip hook."""

import os

import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff import files
from tfgan_eff.export.saved_model import NotAGeneratorExportError, export_saved_model, read_export_metadata

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


def test_metadata_records_the_source_when_given(tmp_path, uncond_generator):
    path = export_saved_model(uncond_generator, tmp_path / "sm", source={"step": 7, "checkpoint": "run/ckpt-7"})
    assert read_export_metadata(path)["source"] == {"step": 7, "checkpoint": "run/ckpt-7"}


def test_saved_model_has_the_umask_modes_like_other_files(saved_models):
    """Another user can load it: the directory (made by mkdtemp, 0700) gets the umask's mode as os.makedirs would;
    tests/reliability/test_user_mistakes.py runs the export command under another umask."""
    for root, _, names in os.walk(saved_models[0]):
        assert os.stat(root).st_mode & 0o777 == files.DIR_MODE, root
        for name in names:
            assert os.stat(os.path.join(root, name)).st_mode & 0o777 == files.FILE_MODE, name


@pytest.mark.parametrize("damage,reason", [
    ({}, r"it has no assets.extra/generator.json"),
    ({"generator.json": "{not json"}, r"its assets.extra/generator.json is unreadable"),
    ({"generator.json": '{"latent_dim": 8}'}, r"its assets.extra/generator.json lacks num_classes, resolution"),
])
def test_metadata_of_another_model_is_a_clear_error(tmp_path, damage, reason):
    """A discriminator's or any other SavedModel: the error names what to pass, not arguments nothing accepts."""
    tf.saved_model.save(tf.Module(), str(tmp_path / "other"))
    if damage:
        os.makedirs(tmp_path / "other" / "assets.extra")
        (tmp_path / "other" / "assets.extra" / "generator.json").write_text(damage["generator.json"])
    with pytest.raises(NotAGeneratorExportError, match=reason + r".*: export the run with `python -m "
                       r"tfgan_eff.export --workdir=RUN_DIR` and pass RUN_DIR/export/saved_model") as error:
        read_export_metadata(tmp_path / "other")
    assert "latent_dim/" not in str(error.value)


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
