"""Supernet layout, architecture variables and candidate ops of the alphaGAN search space."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.search.candidate_ops import NORMAL_OPS, UP_OPS, MixedEdge, make_op
from tfgan_eff.search.space import search_bottom_width
from tfgan_eff.search.supernet import SupernetGenerator


@pytest.fixture(scope="module")
def supernet():
    keras.utils.set_random_seed(0)
    return SupernetGenerator(latent_dim=8, resolution=8, channels=3, ch=4).build_for_inputs()


def test_81_arch_scalars_in_8_tensors(supernet):
    shapes = {name: tuple(v.shape) for name, v in supernet.alphas.items()}
    assert shapes == {"normal_1": (3, 6), "normal_2": (3, 6), "normal_3": (3, 6), "up_1": (2, 3), "up_2": (2, 3),
                      "up_3": (2, 3), "skip_2": (1, 3), "skip_3": (2, 3)}
    assert sum(int(np.prod(s)) for s in shapes.values()) == 81
    values = np.concatenate([np.ravel(v) for v in supernet.arch_variables])
    assert 0 < np.std(values) < 1e-2  # 1e-3 * N(0, 1)
    assert all(v.trainable for v in supernet.arch_variables)


def test_arch_variables_not_in_weight_variables(supernet):
    arch = {id(v) for v in supernet.arch_variables}
    weights = supernet.weight_variables
    assert not arch & {id(v) for v in weights}
    assert len(weights) + 8 == len(supernet.trainable_variables)
    # BN inside supernet candidates has no affine parameters: the only gamma/beta are the head BN's.
    assert sorted(v.name for v in weights if v.name in ("gamma", "beta")) == ["beta", "gamma"]


def test_generator_contract(supernet):
    assert (supernet.latent_dim, supernet.num_classes, supernet.resolution, supernet.channels) == (8, 0, 8, 3)
    out = keras.ops.convert_to_numpy(supernet(tf.random.normal((3, 8)), training=True))
    assert out.shape == (3, 8, 8, 3) and np.all(np.abs(out) <= 1.0)


def test_edge_weights_are_softmax_of_alphas(supernet):
    softmax = supernet.edge_softmax()
    for name, alpha in supernet.alphas.items():
        a = np.asarray(alpha, np.float64)
        expected = np.exp(a) / np.exp(a).sum(-1, keepdims=True)
        np.testing.assert_allclose(softmax[name], expected, rtol=1e-5)


@pytest.mark.parametrize("names,scale", [(NORMAL_OPS, 1), (UP_OPS, 2), (UP_OPS, 4)])
def test_mixed_edge_is_weighted_sum_of_candidates(names, scale):
    keras.utils.set_random_seed(1)
    edge = MixedEdge(names, ch=4, scale=scale)
    x = tf.random.normal((2, 4, 4, 4))
    weights = tf.nn.softmax(tf.constant(np.random.default_rng(0).normal(size=len(names)), tf.float32))
    out = edge(x, weights, training=True)
    manual = sum(float(weights[k]) * op(x, training=True) for k, op in enumerate(edge.candidates))
    assert out.shape == (2, 4 * scale, 4 * scale, 4)
    np.testing.assert_allclose(out, manual, rtol=1e-5, atol=1e-6)


def test_candidate_parameter_conventions():
    ch = 4
    counts = {}
    for name in NORMAL_OPS:
        op = make_op(name, ch, affine=True)
        op(tf.zeros((1, 6, 6, ch)))
        counts[name] = sum(int(np.prod(v.shape)) for v in op.trainable_variables)
    for k in (1, 3, 5):
        assert counts[f"conv_{k}x{k}"] == ch * ch * k * k + ch  # with bias
    for k in (3, 5, 7):
        assert counts[f"sep_conv_{k}x{k}"] == 2 * (ch * k * k + ch * ch) + 4 * ch  # no bias, affine BN
    sep = make_op("sep_conv_3x3", ch, affine=False)
    sep(tf.zeros((1, 6, 6, ch)))
    assert sum(int(np.prod(v.shape)) for v in sep.trainable_variables) == 2 * (ch * 9 + ch * ch)


def test_deconv_x4_reuses_its_weights():
    x2, x4 = make_op("deconv", 4, scale=2), make_op("deconv", 4, scale=4)
    assert x2(tf.zeros((1, 3, 3, 4))).shape == (1, 6, 6, 4)
    assert x4(tf.zeros((1, 3, 3, 4))).shape == (1, 12, 12, 4)
    assert len(x4.trainable_variables) == len(x2.trainable_variables) == 2
    assert x4.trainable_variables[0].shape == (2, 2, 4, 4)


def _bilinear_x2_half_pixel(x):
    """NumPy reference of PyTorch's bilinear x2 with align_corners=False, along H and W."""
    def axis_weights(n):
        src = np.maximum((np.arange(2 * n) + 0.5) / 2 - 0.5, 0.0)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, n - 1)
        m = np.zeros((2 * n, n))
        m[np.arange(2 * n), lo] += 1 - (src - lo)
        m[np.arange(2 * n), hi] += src - lo
        return m
    mh, mw = axis_weights(x.shape[1]), axis_weights(x.shape[2])
    return np.einsum("ih,bhwc,jw->bijc", mh, x, mw)


def test_up_ops_match_references():
    x = np.random.default_rng(0).normal(size=(2, 3, 5, 2)).astype(np.float32)
    np.testing.assert_allclose(make_op("bilinear", 2, scale=2)(x), _bilinear_x2_half_pixel(x), atol=1e-5)
    np.testing.assert_allclose(make_op("bilinear", 2, scale=4)(x),
                               _bilinear_x2_half_pixel(_bilinear_x2_half_pixel(x)), atol=1e-5)
    np.testing.assert_array_equal(make_op("nearest", 2, scale=2)(x), x.repeat(2, axis=1).repeat(2, axis=2))


def test_bad_ops_and_resolutions_are_rejected():
    with pytest.raises(ValueError, match="unknown candidate op"):
        make_op("conv_2x2", 4)
    with pytest.raises(ValueError, match="scale"):
        make_op("nearest", 4, scale=3)
    with pytest.raises(ValueError, match="divisible by 8"):
        search_bottom_width(20)
    assert search_bottom_width(32) == 4 and search_bottom_width(48) == 6
