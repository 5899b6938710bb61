"""GAN losses and penalties against hand-computed values."""

import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.losses import adversarial, penalties

REAL = np.array([2.0, 0.5, -1.0], np.float32)
FAKE = np.array([-2.0, 0.3, 1.5], np.float32)


def test_hinge_by_hand():
    # relu(1 - r) + relu(1 + f): [0+0, 0.5+1.3, 2+2.5]
    np.testing.assert_allclose(adversarial.hinge_d(REAL, FAKE), [0.0, 1.8, 4.5], rtol=1e-6)
    np.testing.assert_allclose(adversarial.hinge_g(FAKE), [2.0, -0.3, -1.5])


def test_non_saturating_by_hand():
    sp = lambda x: np.log1p(np.exp(x))  # noqa: E731
    np.testing.assert_allclose(adversarial.non_saturating_d(REAL, FAKE), sp(-REAL) + sp(FAKE), rtol=1e-6)
    np.testing.assert_allclose(adversarial.non_saturating_g(FAKE), sp(-FAKE), rtol=1e-6)


def test_wasserstein_by_hand():
    np.testing.assert_allclose(adversarial.wasserstein_d(REAL, FAKE), FAKE - REAL)
    np.testing.assert_allclose(adversarial.wasserstein_g(FAKE), -FAKE)


def test_dgl_boost_by_hand_and_its_weight_is_a_constant():
    sp = lambda x: np.log1p(np.exp(x))  # noqa: E731
    logits = tf.constant(FAKE)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        term = adversarial.dgl_boost_g(logits)
    # -D_T * 1[D_T < 0] * softplus(-D_T): only the first example (D_T = -2) counts.
    np.testing.assert_allclose(term, [2.0 * sp(2.0), 0.0, 0.0], rtol=1e-6)
    # The weight is stop-gradient: d/dl = -relu(-l) * sigmoid(-l), not the product rule's extra term.
    np.testing.assert_allclose(tape.gradient(term, logits), [-2.0 / (1.0 + np.exp(-2.0)), 0.0, 0.0], rtol=1e-6)


def test_unknown_loss():
    with pytest.raises(ValueError, match="unknown loss"):
        adversarial.get("lsgan")


def test_r1_of_linear_discriminator():
    # D(x) = <w, x> has grad w everywhere: R1 = ||w||^2 per example.
    w = tf.constant(np.random.default_rng(0).normal(size=(1, 4, 4, 3)).astype(np.float32))
    x = tf.random.normal((5, 4, 4, 3))
    r1 = penalties.r1_penalty(lambda v: tf.reduce_sum(v * w, axis=[1, 2, 3]), x)
    np.testing.assert_allclose(r1, np.full(5, np.sum(w.numpy() ** 2)), rtol=1e-5)


def test_gradient_penalty_of_quadratic_discriminator():
    # D(x) = 0.5 ||x||^2 has grad x: GP = (||x_hat|| - 1)^2 with x_hat = a*r + (1-a)*f.
    real, fake = tf.random.normal((3, 2, 2, 1)), tf.random.normal((3, 2, 2, 1))
    alpha = tf.constant([0.0, 0.5, 1.0])[:, None, None, None]
    gp = penalties.gradient_penalty(lambda v: 0.5 * tf.reduce_sum(v ** 2, axis=[1, 2, 3]), real, fake, alpha)
    x_hat = (alpha * real + (1 - alpha) * fake).numpy().reshape(3, -1)
    np.testing.assert_allclose(gp, (np.linalg.norm(x_hat, axis=1) - 1) ** 2, rtol=1e-4)
