"""Duality gap and the architecture optimizer (first-order, coupled L2)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.models.resnet import ResNetDiscriminator
from tfgan_eff.search.architect import Architect, duality_gap_terms, value
from tfgan_eff.search.searcher import copy_variables
from tfgan_eff.search.supernet import SupernetGenerator


def _nets():
    keras.utils.set_random_seed(0)
    g = SupernetGenerator(latent_dim=8, resolution=8, ch=4).build_for_inputs()
    g_worst = SupernetGenerator(latent_dim=8, resolution=8, ch=4).build_for_inputs()
    copy_variables(g, g_worst)
    for v in g_worst.weight_variables:  # a different (perturbed) worst-case generator, same alphas
        v.assign(v + 0.05)
    d = ResNetDiscriminator(resolution=8, ch=8).build_for_inputs()
    d_worst = ResNetDiscriminator(resolution=8, ch=8).build_for_inputs()
    # At init this D scores fakes below -1, where relu(1 + D(G(z))) has no gradient; flipping its head makes the
    # first DG term depend on alpha.
    kernel = d_worst.head.layer.kernel
    kernel.assign(-kernel)
    return g, g_worst, d, d_worst


@pytest.fixture(scope="module")
def nets():
    return _nets()


def _hinge_value(real_logits, fake_logits):
    """V(G, D) = -E relu(1 - D(x)) - E relu(1 + D(G(z))), written out."""
    real_logits, fake_logits = np.asarray(real_logits), np.asarray(fake_logits)
    return -np.maximum(1.0 - real_logits, 0).mean() - np.maximum(1.0 + fake_logits, 0).mean()


def test_value_is_minus_the_mean_hinge():
    real, fake = [2.0, 0.5, -1.0], [-1.0, 0.3, 1.5]
    assert float(value(tf.constant(real), tf.constant(fake))) == pytest.approx(-(0 + 0.5 + 2) / 3 - (0 + 1.3 + 2.5) / 3)
    assert float(value(tf.constant(real), tf.constant(fake))) == pytest.approx(_hinge_value(real, fake))


def _manual_terms(g, g_worst, d, d_worst, real, z, z_worst):
    minmax = _hinge_value(d_worst(real), d_worst(g(z, training=True)))
    maxmin = _hinge_value(d(real), d(g_worst(z_worst, training=True)))
    return float(minmax), float(maxmin)


def test_duality_gap_matches_manual_recomputation(nets):
    g, g_worst, d, d_worst = nets
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (4, 8, 8, 3)).astype(np.float32)
    z, z_worst = rng.standard_normal((2, 4, 8)).astype(np.float32)
    minmax, maxmin = duality_gap_terms(g, d, g_worst, d_worst, real, z, z_worst)
    manual = _manual_terms(g, g_worst, d, d_worst, real, z, z_worst)
    np.testing.assert_allclose([float(minmax), float(maxmin)], manual, rtol=1e-5)
    assert float(minmax) != pytest.approx(float(maxmin))  # the two terms use different nets

    architect = Architect(g, _search_cfg())
    alphas0 = [np.array(v) for v in g.arch_variables]
    weights0 = [np.array(v) for v in g.weight_variables[:6]]
    worst_alphas0 = [np.array(v) for v in g_worst.arch_variables]
    dg, step_minmax, step_maxmin = architect.step(d, g_worst, d_worst, real, z, z_worst)
    np.testing.assert_allclose([float(step_minmax), float(step_maxmin)], manual, rtol=1e-5)
    np.testing.assert_allclose(float(dg), manual[0] - manual[1], rtol=1e-5, atol=1e-6)
    assert all(np.any(np.array(v) != a) for v, a in zip(g.arch_variables, alphas0))
    assert all(np.array_equal(np.array(v), w) for v, w in zip(g.weight_variables[:6], weights0))
    assert all(np.array_equal(np.array(v), a) for v, a in zip(g_worst.arch_variables, worst_alphas0))


def test_arch_gradient_is_gradient_of_first_term_only(nets):
    g, g_worst, d, d_worst = nets
    rng = np.random.default_rng(1)
    real = rng.uniform(-1, 1, (4, 8, 8, 3)).astype(np.float32)
    z, z_worst = rng.standard_normal((2, 4, 8)).astype(np.float32)
    alphas = [a.value for a in g.arch_variables]
    with tf.GradientTape(persistent=True) as tape:
        minmax, maxmin = duality_gap_terms(g, d, g_worst, d_worst, real, z, z_worst)
        dg = minmax - maxmin
    grad_dg = tape.gradient(dg, alphas)
    grad_minmax = tape.gradient(minmax, alphas)
    assert tape.gradient(maxmin, alphas) == [None] * 8
    for a, b in zip(grad_dg, grad_minmax):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert max(float(tf.reduce_max(tf.abs(gr))) for gr in grad_dg) > 0


def _search_cfg():
    from tfgan_eff.config.schema import base_config
    return base_config().search


def _torch_adam_reference(w, grads, lr, b1, b2, eps, l2):
    """NumPy torch.optim.Adam(weight_decay=l2) over a sequence of gradients."""
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        g = g + l2 * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr / (1 - b1 ** t) * m / (np.sqrt(v) / np.sqrt(1 - b2 ** t) + eps)
    return w


def test_coupled_l2_adam_matches_torch_reference():
    """Adam on g + l2 * alpha, PyTorch's eps placement; a decoupled decay would barely move the alphas."""
    keras.utils.set_random_seed(2)
    g = SupernetGenerator(latent_dim=8, resolution=8, ch=4)
    cfg = _search_cfg()
    architect = Architect(g, cfg)
    alphas = [np.array(v, np.float64) for v in g.arch_variables]
    rng = np.random.default_rng(0)
    grads = [[np.zeros_like(a)] + [rng.normal(scale=1e-5, size=a.shape) for _ in range(2)] for a in alphas]
    for step in range(3):
        architect.apply_gradients([tf.constant(gr[step], tf.float32) for gr in grads])
    hp = dict(lr=cfg.arch_lr, b1=cfg.arch_beta1, b2=cfg.arch_beta2, eps=cfg.arch_eps, l2=cfg.arch_weight_decay)
    for before, after, gr in zip(alphas, g.arch_variables, grads):
        np.testing.assert_allclose(np.array(after), _torch_adam_reference(before, gr, **hp), rtol=1e-4, atol=2e-8)
        assert np.abs(np.array(after) - before).max() > 1e-4  # decoupled decay: ~1e-9 per step


def _hand_value_gradient(g, d_worst, real, z):
    """d/d alpha of V(G_alpha, D_worst) = -mean relu(1 - D_worst(x)) - mean relu(1 + D_worst(G_alpha(z))), taken
    with a GradientTape of its own (not through duality_gap_terms)."""
    alphas = [a.value for a in g.arch_variables]
    with tf.GradientTape() as tape:
        real_logits = d_worst(real, training=False)
        fake_logits = d_worst(g(z, training=True), training=False)
        v = -tf.reduce_mean(tf.nn.relu(1.0 - real_logits)) - tf.reduce_mean(tf.nn.relu(1.0 + fake_logits))
    return [np.array(gr, np.float64) for gr in tape.gradient(v, alphas)]


def test_arch_steps_descend_the_duality_gap_like_a_hand_computed_reference(nets):
    """Two architecture steps against NumPy Adam (coupled L2, PyTorch eps) on the hand-computed gradient of
    V(G_alpha, D_worst): the same sign and size, step by step. Ascent on the gap would move every alpha the other
    way and fail."""
    g, g_worst, d, d_worst = nets
    cfg = _search_cfg()
    architect = Architect(g, cfg)
    b1, b2, eps, l2, lr = cfg.arch_beta1, cfg.arch_beta2, cfg.arch_eps, cfg.arch_weight_decay, cfg.arch_lr
    reference = [np.array(v, np.float64) for v in g.arch_variables]
    m = [np.zeros_like(a) for a in reference]
    v = [np.zeros_like(a) for a in reference]
    rng = np.random.default_rng(5)
    for t in (1, 2):
        real = rng.uniform(-1, 1, (4, 8, 8, 3)).astype(np.float32)
        z, z_worst = rng.standard_normal((2, 4, 8)).astype(np.float32)
        grads = _hand_value_gradient(g, d_worst, real, z)
        before = [np.array(a, np.float64) for a in g.arch_variables]
        for i, grad in enumerate(grads):
            assert np.abs(grad).max() > 1e-4  # far above the coupled L2 term (~1e-6): the data decides the sign
            grad = grad + l2 * reference[i]
            m[i] = b1 * m[i] + (1 - b1) * grad
            v[i] = b2 * v[i] + (1 - b2) * grad * grad
            reference[i] = reference[i] - lr / (1 - b1 ** t) * m[i] / (np.sqrt(v[i]) / np.sqrt(1 - b2 ** t) + eps)
        architect.step(d, g_worst, d_worst, real, z, z_worst)
        for after, ref, prev, grad in zip(g.arch_variables, reference, before, grads):
            np.testing.assert_allclose(np.array(after), ref, rtol=1e-3, atol=1e-7)
            if t == 1:  # Adam's first step is lr * sign(gradient) wherever |gradient| >> eps: descent
                np.testing.assert_allclose(np.array(after) - prev, -lr * np.sign(grad + l2 * prev), rtol=1e-3)
