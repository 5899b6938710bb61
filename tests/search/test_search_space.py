"""Supernet layout, architecture variables and candidate ops of the alphaGAN search space."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.search.candidate_ops import NORMAL_OPS, UP_OPS, MixedEdge, make_op, reflect_pad
from tfgan_eff.search.space import search_bottom_width
from tfgan_eff.search.supernet import SupernetGenerator


@pytest.fixture(scope="module")
def supernet():
    """A tiny built supernet generator (8 px, 4 channels)."""
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


def _unfused_twin(edge, k, x, op_set, padding):
    """Candidate k of `edge` as its own op (make_op), sharing the edge's variables or holding copies of them."""
    if k in edge.candidate_index:
        return edge.candidates[edge.candidate_index.index(k)], []
    conv = edge.fused.convs[edge.fused_index.index(k)]
    op = make_op(edge.op_names[k], conv.filters, affine=False, op_set=op_set, padding=padding)
    op(x, training=True)
    op.conv.kernel.assign(conv.kernel)
    op.conv.bias.assign(conv.bias)
    return op, [(conv.kernel, op.conv.kernel), (conv.bias, op.conv.bias)]


@pytest.mark.parametrize("op_set,padding", [("paper", "zero"), ("normalized", "zero"), ("paper", "reflect"),
                                            ("normalized", "reflect")])
@pytest.mark.parametrize("names,scale", [(NORMAL_OPS, 1), (UP_OPS, 2), (UP_OPS, 4)])
def test_mixed_edge_matches_unfused_candidates(names, scale, op_set, padding):
    """The fused edge = sum_k softmax(alpha)_k op_k(x) with every candidate run on its own: outputs and gradients
    w.r.t. alpha and every weight."""
    keras.utils.set_random_seed(1)
    edge = MixedEdge(names, ch=4, scale=scale, op_set=op_set, padding=padding)
    x = tf.random.normal((2, 4, 4, 4))
    alpha = tf.Variable(np.random.default_rng(0).normal(size=len(names)), dtype=tf.float32)
    edge(x, tf.nn.softmax(alpha), training=True)
    twins = [_unfused_twin(edge, k, x, op_set, padding) for k in range(len(names))]
    copied = [pair for _, pairs in twins for pair in pairs]
    assert len(copied) == (6 if scale == 1 else 0)  # the three plain convs are fused
    probe = tf.random.normal((2, 4 * scale, 4 * scale, 4))
    with tf.GradientTape(persistent=True) as tape:
        weights = tf.nn.softmax(alpha)
        fused = edge(x, weights, training=True)
        unfused = sum(weights[k] * op(x, training=True) for k, (op, _) in enumerate(twins))
        fused_loss, unfused_loss = tf.reduce_sum(fused * probe), tf.reduce_sum(unfused * probe)
    assert fused.shape == (2, 4 * scale, 4 * scale, 4)
    np.testing.assert_allclose(fused, unfused, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tape.gradient(fused_loss, alpha), tape.gradient(unfused_loss, alpha),
                               rtol=1e-4, atol=1e-5)
    shared = [v for op in edge.candidates for v in op.trainable_variables]
    pairs = [(v, v) for v in shared] + copied
    fused_grads = tape.gradient(fused_loss, [a for a, _ in pairs])
    unfused_grads = tape.gradient(unfused_loss, [b for _, b in pairs])
    for a, b in zip(fused_grads, unfused_grads):
        assert a is not None and b is not None
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kernel_size, side", [(3, 2), (5, 4), (7, 4), (7, 5), (7, 16)])
def test_reflect_pad_matches_mirror_pad_in_value_and_gradient(kernel_size, side):
    """The gather-based reflect padding is numpy's / MirrorPad's 'reflect' (edge pixel not repeated), also when
    the spatial sizes are only known at run time, and its gradient sums every copy of a pixel like MirrorPadGrad
    (both ways)."""
    x = tf.constant(np.random.default_rng(0).normal(size=(2, side, side + 1, 3)), tf.float32)
    p = kernel_size // 2
    expected = np.pad(x.numpy(), [(0, 0), (p, p), (p, p), (0, 0)], mode="reflect")
    np.testing.assert_array_equal(reflect_pad(x, kernel_size, "reflect").numpy(), expected)
    dynamic = tf.function(lambda t: reflect_pad(t, kernel_size, "reflect"),
                          input_signature=[tf.TensorSpec((None, None, None, 3))])
    np.testing.assert_array_equal(dynamic(x).numpy(), expected)
    upstream = tf.constant(np.random.default_rng(1).normal(size=expected.shape), tf.float32)

    def grad(pad):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(pad(x) * upstream)
        return tape.gradient(loss, x).numpy()
    mirror = grad(lambda t: tf.pad(t, [[0, 0], [p, p], [p, p], [0, 0]], mode="REFLECT"))
    np.testing.assert_allclose(grad(lambda t: reflect_pad(t, kernel_size, "reflect")), mirror, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(grad(dynamic), mirror, rtol=1e-6, atol=1e-6)
    assert reflect_pad(x, kernel_size, "zero") is x


@pytest.mark.parametrize("name", [op for op in NORMAL_OPS if op != "conv_1x1"])  # 1x1 pads nothing
def test_reflect_padding_keeps_a_constant_input_constant_and_zero_padding_does_not(name):
    """The cause of the retrained genotypes' collapse: zero padding turns ReLU's positive mean into a fixed,
    position-dependent pattern (darker borders); reflect padding adds none, on the 4x4 maps of a 16 px search."""
    x = tf.fill((1, 4, 4, 3), 0.7)
    spreads = {}
    for padding in ("zero", "reflect"):
        keras.utils.set_random_seed(2)
        op = make_op(name, 3, affine=True, padding=padding)
        y = keras.ops.convert_to_numpy(op(x, training=False))
        assert y.shape == (1, 4, 4, 3)
        spreads[padding] = float(np.max(np.ptp(y.reshape(16, 3), axis=0)))
    assert spreads["reflect"] < 1e-5 < 1e-3 < spreads["zero"], spreads


def _normal_candidate_stds(op_set, monkeypatch):
    """Per normal edge of a supernet at init: the std of each candidate's output on the input the edge gets."""
    keras.utils.set_random_seed(0)
    g = SupernetGenerator(latent_dim=16, resolution=16, ch=8, op_set=op_set).build_for_inputs()  # the preset's
    seen = []
    original = MixedEdge.call

    def recording_call(edge, x, weights, training=False):
        seen.append((edge, x))
        return original(edge, x, weights, training)

    monkeypatch.setattr(MixedEdge, "call", recording_call)
    g(tf.random.normal((32, 16)), training=True)
    monkeypatch.setattr(MixedEdge, "call", original)
    stds = []
    for edge, x in seen:
        if edge.op_names == NORMAL_OPS:  # the fused plain convs first (one-hot weights: one of them), then sep
            plain = [edge.fused(x, tf.one_hot(k, len(edge.fused_index)), training=True)
                     for k in range(len(edge.fused_index))]
            stds.append([float(tf.math.reduce_std(y)) for y in plain + [op(x, training=True)
                                                                        for op in edge.candidates]])
    return stds


def test_candidate_outputs_have_comparable_scale_at_init(monkeypatch):
    """In the normalized op set no candidate starts out several times louder than another on the same input (the
    paper's BN-free plain convs start 3-8x quieter than its BN-ended sep convs here: max ratio 8.4)."""
    stds = _normal_candidate_stds("normalized", monkeypatch)
    assert len(stds) == 9
    assert max(max(row) / min(row) for row in stds) < 2.0, np.round(stds, 3)


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
