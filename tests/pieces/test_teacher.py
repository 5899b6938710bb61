"""Teacher loading: from a work dir / checkpoint dir / checkpoint prefix, EMA G, frozen D, clear errors."""

import json
import os
import pathlib
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.config import presets
from tfgan_eff.data import pipeline
from tfgan_eff.pieces.teacher import TeacherError, load_teacher
from tfgan_eff.pieces.guidance import TeacherGuidance
from tfgan_eff.models import registry
from tfgan_eff.training.loop import batch_spec, train_gan
from tfgan_eff.training.trainer import GANTrainer


@pytest.fixture(scope="module")
def teacher_run(tmp_path_factory):
    """A 2-step smoke run to use as a teacher: (work dir, Run, summary)."""
    cfg = presets.smoke(presets.baseline())
    cfg.train.steps = 2
    cfg.eval.at_end = False
    cfg.export.enabled = False
    workdir = str(tmp_path_factory.mktemp("teacher"))
    run, summary = train_gan(cfg, workdir)
    return workdir, run, summary


def _assert_same(model, reference):
    assert len(model.weights) == len(reference.weights)
    for a, b in zip(model.weights, reference.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("where", ["workdir", "checkpoint_dir", "prefix"])
def test_load_teacher_restores_ema_generator_and_frozen_discriminator(teacher_run, where):
    workdir, run, summary = teacher_run
    path = {"workdir": workdir, "checkpoint_dir": os.path.join(workdir, "checkpoints"),
            "prefix": summary["checkpoint"]}[where]
    teacher = load_teacher(path)
    assert teacher.has_ema and teacher.checkpoint == summary["checkpoint"]
    _assert_same(teacher.generator, run.ema_generator)
    _assert_same(teacher.discriminator, run.discriminator)  # spectral-norm vectors included
    assert any("vector_u" in v.path for v in teacher.discriminator.weights)
    assert not teacher.discriminator.trainable_variables
    assert teacher.cfg.model.g.ch == run.cfg.model.g.ch


def test_missing_teacher_is_a_clear_error(tmp_path):
    with pytest.raises(TeacherError, match="does not exist: pass a work dir written by") as err:
        load_teacher(str(tmp_path / "nope"))
    assert "--config." not in str(err.value)  # a path passed directly: no config key to name
    with pytest.raises(TeacherError, match="compress.teacher_workdir '.*nope' does not exist: pass "
                                           "--config.compress.teacher_workdir=PATH"):
        load_teacher(str(tmp_path / "nope"), key="compress.teacher_workdir")
    (tmp_path / "empty" / "checkpoints").mkdir(parents=True)
    with pytest.raises(TeacherError, match="no checkpoint"):
        load_teacher(str(tmp_path / "empty"))


def test_mismatched_teacher_checkpoint_is_a_clear_error(teacher_run, tmp_path):
    workdir, _, _ = teacher_run
    other = tmp_path / "other"
    shutil.copytree(os.path.join(workdir, "checkpoints"), other / "checkpoints")
    config = json.loads((pathlib.Path(workdir) / "config.json").read_text(encoding="utf-8"))
    config["model"]["g"]["ch"] *= 2  # the config no longer describes the checkpoint
    (other / "config.json").write_text(json.dumps(config))
    with pytest.raises(TeacherError, match="does not match"):
        load_teacher(str(other))


def _tiny_discriminator(conditional):
    """A functional D on 8x8x3 images (+ int labels of 3 classes, projected as in a projection D)."""
    keras.utils.set_random_seed(0)
    images = keras.Input((8, 8, 3), name="images")
    h = keras.layers.Flatten()(keras.layers.Conv2D(4, 3, strides=2, activation="relu")(images))
    logits = keras.layers.Dense(1)(h)
    if not conditional:
        return keras.Model(images, logits)
    labels = keras.Input((), dtype="int32", name="labels")
    projection = keras.ops.sum(keras.layers.Embedding(3, h.shape[-1])(labels) * h, axis=-1, keepdims=True)
    return keras.Model([images, labels], keras.layers.Add()([logits, projection]))


@pytest.fixture(scope="module")
def teacher_files(tmp_path_factory):
    """{(format, conditional): (path, the in-memory model that was saved)}: .keras files and SavedModels."""
    root = tmp_path_factory.mktemp("teacher_files")
    files = {}
    for conditional in (False, True):
        model = _tiny_discriminator(conditional)
        name = "conditional" if conditional else "plain"
        model.save(str(root / f"{name}.keras"))
        model.export(str(root / f"{name}_saved_model"), verbose=False)
        files[("keras", conditional)] = (str(root / f"{name}.keras"), model)
        files[("saved_model", conditional)] = (str(root / f"{name}_saved_model"), model)
    return files


def _run_cfg(resolution=8, channels=3, num_classes=0):
    cfg = presets.smoke(presets.baseline())
    cfg.data.update(resolution=resolution, channels=channels, conditional=bool(num_classes), num_classes=num_classes)
    return cfg


@pytest.mark.parametrize("conditional", [False, True])
@pytest.mark.parametrize("fmt", ["keras", "saved_model"])
def test_teacher_discriminator_file_is_frozen_and_differentiable(teacher_files, fmt, conditional):
    path, model = teacher_files[(fmt, conditional)]
    teacher = load_teacher(path, fallback_cfg=_run_cfg(num_classes=3 if conditional else 0))
    d_t = teacher.discriminator
    assert teacher.generator is None and not d_t.trainable_variables
    images = tf.random.normal((4, 8, 8, 3), seed=1)
    labels = tf.constant([0, 1, 2, 1], tf.int32) if conditional else None
    inputs = [images, labels] if conditional else images
    with tf.GradientTape(persistent=True) as tape:  # gradient() of a vector target = of its sum
        tape.watch(images)
        logits = d_t(images, labels, training=False)
        reference = tf.reshape(model(inputs, training=False), [-1])
    assert logits.shape == (4,)
    np.testing.assert_allclose(logits.numpy(), reference.numpy(), rtol=1e-5, atol=1e-6)
    # G's gradient flows through D_T: d logits / d images as through the original model.
    grad = tape.gradient(logits, images)
    assert float(tf.reduce_max(tf.abs(grad))) > 0
    np.testing.assert_allclose(grad.numpy(), tape.gradient(reference, images).numpy(), atol=1e-6)
    if conditional:  # the labels reach it
        assert not np.allclose(d_t(images, (labels + 1) % 3).numpy(), logits.numpy())


@pytest.mark.parametrize("fmt", ["keras", "saved_model"])
@pytest.mark.parametrize("conditional, run, expected", [
    (False, dict(resolution=16), "expected 16x16x3 images and no labels"),
    (False, dict(channels=1), "expected 8x8x1 images and no labels"),
    (False, dict(num_classes=3), "expected 8x8x3 images and int labels of 3 classes"),
    (True, dict(num_classes=0), "expected 8x8x3 images and no labels"),
    (True, dict(num_classes=4), "expected 8x8x3 images and int labels of 4 classes"),
])
def test_mismatched_teacher_discriminator_file_is_refused_in_one_line(teacher_files, fmt, conditional, run,
                                                                      expected):
    path, _ = teacher_files[(fmt, conditional)]
    with pytest.raises(TeacherError, match=expected) as err:
        load_teacher(path, fallback_cfg=_run_cfg(**run))
    assert "\n" not in str(err.value) and path in str(err.value)


def test_dgl_step_trains_through_a_saved_model_teacher(teacher_files):
    path, _ = teacher_files[("saved_model", False)]
    cfg = presets.smoke(presets.get("dgl"))
    cfg.data.resolution = 8
    teacher = load_teacher(path, fallback_cfg=cfg)
    g, d = registry.build_generator(cfg, 0.5), registry.build_discriminator(cfg)
    trainer = GANTrainer(g, d, cfg.train, pieces=(TeacherGuidance(teacher.discriminator, weight=0.5),))
    trainer.build_optimizers()
    z = tf.random.normal((4, cfg.model.latent_dim), seed=2)
    with tf.GradientTape() as tape:
        term, _ = trainer.extra_generator_loss(g(z, training=True), dict(fake_labels_g=None, aug_g=None))
    grads = tape.gradient(term, g.trainable_variables)
    assert all(grad is not None for grad in grads) and max(float(tf.reduce_max(tf.abs(x))) for x in grads) > 0
    assert not {id(v) for v in teacher.discriminator.weights} & {id(v) for v in trainer.trainable_variables}
    images = np.random.default_rng(0).integers(0, 256, (16, 8, 8, 3), dtype=np.uint8)
    batch = pipeline.step_batch(images, np.zeros(16, np.int64), batch_spec(cfg), 0, 0, 1)
    logs = tf.function(trainer.g_step)(batch)  # inside a traced G step too
    assert np.isfinite(float(logs["teacher_term"])) and float(logs["teacher_term"]) != 0
