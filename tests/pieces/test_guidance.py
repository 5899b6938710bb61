"""TeacherGuidance (dgl, boost, l1 terms): frozen teacher, gradient flow through D_T, the teacher term, the stage
switch, and the composed G loss as the sum of its pieces."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.data import pipeline
from tfgan_eff.data.diffaug import diff_augment, parse_policy
from tfgan_eff.pieces.guidance import TeacherGuidance
from tfgan_eff.pieces.teacher import freeze
from tfgan_eff.models import registry
from tfgan_eff.models.ema import copy_weights
from tfgan_eff.training.loop import batch_spec
from tfgan_eff.training.trainer import GANTrainer


def _trainer(cfg, g, d, teacher, *, weight=0.1, switch=0, term="dgl", teacher_diffaug=False, **kwargs):
    guidance = TeacherGuidance(teacher, term=term, weight=weight, switch_step=switch, teacher_diffaug=teacher_diffaug)
    trainer = GANTrainer(g, d, cfg.train, pieces=(guidance,), **kwargs)
    trainer.build_optimizers()
    return trainer


def _values(model):
    return [v.numpy().copy() for v in model.weights]


def _sn_vectors(model):
    return [v for v in model.weights if "vector_u" in v.path]


def test_teacher_bit_identical_after_dgl_steps(dgl_cfg, student_and_teacher, batch):
    g, d, d_t = student_and_teacher
    trainer = _trainer(dgl_cfg, g, d, d_t, weight=0.5)
    assert _sn_vectors(d_t) and _sn_vectors(d)
    teacher_before, student_d_before = _values(d_t), _values(d)
    step = tf.function(trainer.train_step)
    for _ in range(3):
        logs = step(batch)
    assert float(logs["teacher_term"][0]) != 0.0
    for before, after in zip(teacher_before, _values(d_t)):
        np.testing.assert_array_equal(before, after)
    # The same architecture trained as D_S does move, spectral-norm vectors included.
    moved = [not np.array_equal(b, v.numpy()) for b, v in zip(student_d_before, d.weights)]
    assert all(moved[i] for i, v in enumerate(d.weights) if "vector_u" in v.path)


def test_teacher_in_no_optimizer(dgl_cfg, student_and_teacher, batch):
    g, d, d_t = student_and_teacher
    trainer = _trainer(dgl_cfg, g, d, d_t)
    trainer.train_step(batch)
    teacher_ids = {id(v) for v in d_t.weights}
    assert not d_t.trainable_variables
    assert not teacher_ids & {id(v) for v in trainer.trainable_variables}
    for opt, model in ((trainer.g_optimizer, g), (trainer.d_optimizer, d)):
        assert not teacher_ids & {id(v) for v in opt._trainable_variables}  # pylint: disable=protected-access
        # iterations + learning rate + Adam's two slots per variable of its own model: nothing else.
        assert len(opt.variables) == 2 + 2 * len(model.trainable_variables)


def _generator_grads(trainer, batch, weight):
    trainer.pieces[0].weight = weight
    saved = _values(trainer.discriminator)  # D_S's spectral-norm vectors move on every training call
    with tf.GradientTape() as tape:
        loss, _, _ = trainer.generator_loss(batch)
    grads = tape.gradient(loss, trainer.generator.trainable_variables)
    for var, value in zip(trainer.discriminator.weights, saved):
        var.assign(value)
    return grads


def test_gradient_flows_through_teacher_into_student(dgl_cfg, student_and_teacher, batch):
    g, d, d_t = student_and_teacher
    trainer = _trainer(dgl_cfg, g, d, d_t)
    plain = _generator_grads(trainer, batch, 0.0)
    guided = _generator_grads(trainer, batch, 0.5)
    with tf.GradientTape() as tape:
        term = tf.reduce_mean(-d_t(g(batch["z_g"], training=True), training=False))  # hinge teacher term
    teacher_grads = tape.gradient(term, g.trainable_variables)
    assert max(float(tf.reduce_max(tf.abs(t))) for t in teacher_grads) > 0
    for p, q, t in zip(plain, guided, teacher_grads):
        np.testing.assert_allclose(q - p, 0.5 * t.numpy(), atol=1e-5)


@pytest.mark.parametrize("loss", ["hinge", "non_saturating"])
def test_teacher_term_matches_hand_computation(dgl_cfg, student_and_teacher, batch, loss):
    dgl_cfg.train.loss = loss
    g, d, d_t = student_and_teacher
    trainer = _trainer(dgl_cfg, g, d, d_t, weight=0.3)
    fake = g(batch["z_g"], training=False)
    extra, logs = trainer.extra_generator_loss(fake, batch)
    logits = d_t(fake, training=False).numpy().astype(np.float64)
    per_example = -logits if loss == "hinge" else np.log1p(np.exp(-logits))
    np.testing.assert_allclose(float(extra), 0.3 * per_example.mean(), rtol=1e-5)
    np.testing.assert_allclose(float(logs["teacher_term"]), per_example.mean(), rtol=1e-5)
    # Averaged over the GLOBAL G batch: as one of two replicas, this replica contributes half.
    trainer.g_batch_size = 2 * fake.shape[0]
    np.testing.assert_allclose(float(trainer.extra_generator_loss(fake, batch)[0]), 0.15 * per_example.mean(),
                               rtol=1e-5)


def test_teacher_weight_switches_on_at_switch_step(dgl_cfg, student_and_teacher, batch):
    g, d, d_t = student_and_teacher
    trainer = _trainer(dgl_cfg, g, d, d_t, weight=0.1, switch=2)
    step = tf.function(trainer.train_step)
    logs = [step(batch) for _ in range(4)]
    weights = [float(log["teacher_loss"][0] / log["teacher_term"][0]) for log in logs]
    np.testing.assert_allclose(weights, [0.0, 0.0, 0.1, 0.1], rtol=1e-5)
    trainer.step.assign(1)
    fake = g(batch["z_g"], training=False)
    assert float(trainer.extra_generator_loss(fake, batch)[0]) == 0.0


def test_l1_distillation_term(dgl_cfg, student_and_teacher, batch):
    g, d, _ = student_and_teacher
    g_t = freeze(registry.build_generator(dgl_cfg))
    trainer = _trainer(dgl_cfg, g, d, g_t, weight=2.0, term="l1")
    fake = g(batch["z_g"], training=False)
    extra, _ = trainer.extra_generator_loss(fake, batch)
    target = g_t(batch["z_g"], training=False)
    np.testing.assert_allclose(float(extra), 2.0 * np.mean(np.abs(fake.numpy() - target.numpy())), rtol=1e-5)
    before = _values(g_t)
    tf.function(trainer.train_step)(batch)
    for b, a in zip(before, _values(g_t)):  # BN statistics of G_T included
        np.testing.assert_array_equal(b, a)


POLICY = "color,translation,cutout"


@pytest.mark.parametrize("teacher_diffaug", [False, True])
def test_teacher_sees_the_fake_as_generated_unless_teacher_diffaug(dgl_cfg, student_and_teacher, batch,
                                                                   teacher_diffaug):
    g, d, d_t = student_and_teacher
    trainer = _trainer(dgl_cfg, g, d, d_t, weight=0.3, diffaug=POLICY, teacher_diffaug=teacher_diffaug)
    fake = g(batch["z_g"], training=False)
    augmented = diff_augment(fake, batch["aug_g"], parse_policy(POLICY))
    by_hand = {seen: float(np.mean(-d_t(images, training=False).numpy()))
               for seen, images in (("fake", fake), ("augmented", augmented))}
    assert abs(by_hand["fake"] - by_hand["augmented"]) > 1e-4  # the augmentation changes D_T's verdict
    extra, logs = trainer.extra_generator_loss(fake, batch)
    expected = by_hand["augmented" if teacher_diffaug else "fake"]
    np.testing.assert_allclose(float(logs["teacher_term"]), expected, rtol=1e-5)
    np.testing.assert_allclose(float(extra), 0.3 * expected, rtol=1e-5)


class _Shifted(keras.layers.Layer):
    """A teacher D whose logits are moved by a constant (so that a random D_T judges some fakes real, some fake)."""

    def __init__(self, inner, shift):
        super().__init__()
        self.inner, self.shift = inner, shift

    def call(self, images, labels=None, training=False):
        return self.inner(images, labels, training=training) + self.shift


def test_boost_term_matches_official_weighting(dgl_cfg, student_and_teacher, batch):
    g, d, d_t = student_and_teacher
    fake = g(batch["z_g"], training=False)
    d_t = _Shifted(d_t, -float(np.median(d_t(fake, training=False).numpy())))
    trainer = _trainer(dgl_cfg, g, d, d_t, weight=0.1, term="boost")
    logits = d_t(fake, training=False).numpy().astype(np.float64)
    assert (logits < 0).any() and (logits > 0).any()
    # stopgrad(-D_T) * 1[D_T < 0] * softplus(-D_T) per example, as loss.G_pathreg_ens in the official code.
    per_example = -logits * (logits < 0) * np.log1p(np.exp(-logits))
    extra, logs = trainer.extra_generator_loss(fake, batch)
    np.testing.assert_allclose(float(logs["teacher_term"]), per_example.mean(), rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(float(extra), 0.1 * per_example.mean(), rtol=1e-5, atol=1e-9)


def test_student_d_update_does_not_depend_on_the_teacher(dgl_cfg, student_and_teacher, batch):
    g, d, d_t = student_and_teacher
    weights = {}
    for name in ("plain", "teacher_a", "teacher_b"):
        g_copy, d_copy = registry.build_generator(dgl_cfg, 0.5), registry.build_discriminator(dgl_cfg)
        copy_weights(g_copy, g)
        copy_weights(d_copy, d)
        if name == "plain":
            trainer = GANTrainer(g_copy, d_copy, dgl_cfg.train)
            trainer.build_optimizers()
        else:
            teacher = d_t if name == "teacher_a" else freeze(registry.build_discriminator(dgl_cfg))
            trainer = _trainer(dgl_cfg, g_copy, d_copy, teacher, weight=1.0)
        trainer.d_step(batch, 0)
        weights[name] = _values(d_copy)
    assert any(not np.array_equal(a, b) for a, b in zip(_values(d), weights["plain"]))  # D did move
    for name in ("teacher_a", "teacher_b"):
        for a, b in zip(weights["plain"], weights[name]):
            np.testing.assert_array_equal(a, b)


def test_conditional_teacher_gets_the_fake_labels(dgl_cfg):
    dgl_cfg.data.update(conditional=True, num_classes=3)
    dgl_cfg.model.g.arch = dgl_cfg.model.d.arch = "sngan"
    g, d = registry.build_generator(dgl_cfg, 0.5), registry.build_discriminator(dgl_cfg)
    d_t = freeze(registry.build_discriminator(dgl_cfg))
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (16, 16, 16, 3), dtype=np.uint8)
    batch = pipeline.step_batch(images, rng.integers(0, 3, 16), batch_spec(dgl_cfg), 0, 0, 1)
    labels = batch["fake_labels_g"]
    assert len(set(labels.numpy().tolist())) > 1
    trainer = _trainer(dgl_cfg, g, d, d_t, weight=1.0)
    fake = g(batch["z_g"], labels, training=False)
    term = float(trainer.extra_generator_loss(fake, batch)[1]["teacher_term"])
    np.testing.assert_allclose(term, np.mean(-d_t(fake, labels, training=False).numpy()), rtol=1e-5)
    other = float(np.mean(-d_t(fake, (labels + 1) % 3, training=False).numpy()))
    assert abs(term - other) > 1e-6  # D_T's projection term reads the labels
    with tf.GradientTape() as tape:
        loss, _, _ = trainer.generator_loss(batch)
    grads = tape.gradient(loss, g.trainable_variables)
    assert all(grad is not None for grad in grads)


def test_composed_generator_loss_is_the_sum_of_its_pieces(dgl_cfg, student_and_teacher, batch):
    """Two pieces (DGL term from D_T, L1 term from G_T): G's loss = adversarial loss + each piece's weighted term,
    each computed here by hand."""
    g, d, d_t = student_and_teacher
    g_t = freeze(registry.build_generator(dgl_cfg))
    pieces = (TeacherGuidance(d_t, term="dgl", weight=0.3), TeacherGuidance(g_t, term="l1", weight=2.0))
    trainer = GANTrainer(g, d, dgl_cfg.train, pieces=pieces)
    trainer.build_optimizers()
    saved = _values(d)  # D_S's training-mode call moves its spectral-norm vectors: replay it from the same state
    loss, fake, _ = trainer.generator_loss(batch)
    for var, value in zip(d.weights, saved):
        var.assign(value)
    fake_np = fake.numpy().astype(np.float64)
    adversarial = np.mean(-d(fake, training=True).numpy().astype(np.float64))  # the smoke config's hinge loss
    dgl = np.mean(-d_t(fake, training=False).numpy().astype(np.float64))
    l1 = np.mean(np.abs(fake_np - g_t(batch["z_g"], training=False).numpy()))
    np.testing.assert_allclose(float(loss), adversarial + 0.3 * dgl + 2.0 * l1, rtol=1e-5)
    assert trainer.piece(TeacherGuidance) is pieces[0]
