"""alphaGAN's candidate operations (Tian et al., arXiv:2006.09134) and the softmax-mixed edge of the supernet.

Normal edges (same resolution, same width):
  conv_1x1 / conv_3x3 / conv_5x5: ReLU -> Conv2D with bias (no BN) in op set "paper"; ReLU -> BN -> Conv2D with
    bias in op set "normalized" (the official code's unused conv_kxk_bn ops, without their spectral norm).
  sep_conv_3x3 / 5x5 / 7x7 (DARTS): ReLU -> depthwise kxk -> pointwise 1x1 -> BN -> ReLU -> depthwise kxk ->
    pointwise 1x1 -> BN; convolutions without bias.
Up-sampling edges (x2, or x4 on the cell1 -> cell3 skip by applying the op twice):
  deconv: Conv2DTranspose(kernel 2, stride 2) with bias; a x4 edge reuses the same weights twice.
  nearest: nearest-neighbour x2.  bilinear: bilinear x2 with half-pixel centres (PyTorch align_corners=False).

BN inside candidates has no affine parameters in the supernet (`affine=False`) and has them in a derived network
(`affine=True`). Kernels use `kernel_init` (default xavier-uniform, the paper's) and zero biases.

Padding of every kxk candidate conv (plain and depthwise): "zero" (the paper's 'same' padding) or "reflect". With
zero padding a conv of ReLU's positive output is darker at the border by a fixed, z-independent pattern, and on the
4-16 px maps of the search space that border is most of the map; BN (per channel) cannot remove it. Retrained
generators grew that pattern until z no longer mattered (docs/methods/search.md). Reflect padding has no such
pattern (a constant input gives a constant output) and adds no parameters; it needs maps of at least k // 2 + 1
pixels, so resolution >= method.MIN_REFLECT_RESOLUTION.

Op set "normalized" puts BN before the conv, not after it (DARTS' ReLU -> conv -> BN): BN then acts on the input the
three plain convs of an edge share, so the supernet computes them as one conv exactly (`FusedConvs`); with BN after
each conv they could not be fused. It is also the order the official code defines and the one the first retraining
test of a conv-5x5-heavy genotype used (README, alphaGAN).
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from tfgan_eff.ops.depthwise import DepthwiseConv2D
from tfgan_eff.ops.eager_build import BuildOnFirstCall
from tfgan_eff.ops.layers import batch_norm
from tfgan_eff.ops.tracking import CheckpointCollections
from tfgan_eff.search.method import OP_SETS, PADDINGS

NORMAL_OPS = ("conv_1x1", "conv_3x3", "conv_5x5", "sep_conv_3x3", "sep_conv_5x5", "sep_conv_7x7")
PLAIN_CONVS = NORMAL_OPS[:3]
UP_OPS = ("deconv", "nearest", "bilinear")
_NUM_UPS = {2: 1, 4: 2}


def _check_padding(padding):
    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
    return padding


def _conv_padding(padding):
    """The Keras padding of a kxk candidate conv: 'same' (zeros added by the conv) or 'valid' after `reflect_pad`."""
    return "same" if _check_padding(padding) == "zero" else "valid"


def reflect_pad(x, kernel_size, padding):
    """`x` [B, H, W, C] reflect-padded by kernel_size // 2 on each side with padding 'reflect'; unchanged for 'zero'.

    The same values and gradient as `ops.pad(mode="reflect")`, computed faster on CPU: the values as a gather of
    reflected indices along H and W, the gradient by adding each border's gradient back onto the pixels it copies
    (slices and adds; a gather's own gradient is a segment sum between transposes). TF's CPU MirrorPad and its
    gradient took 30 % of the supernet's step time (profiled on the search preset); the gather made the supernet
    step ~11 % faster and the folded gradient ~7 % more (docs/methods/search.md).
    """
    if padding == "zero":
        return x
    p = kernel_size // 2

    @tf.custom_gradient
    def pad(t):
        sizes = [ops.shape(t)[axis] for axis in (1, 2)]
        for axis, n in zip((1, 2), sizes):
            t = ops.take(t, _reflected_indices(n, p), axis=axis)

        def grad(dy):
            with tf.name_scope("reflect_pad_gradient"):  # so that profiles count these ops as gradients
                for axis, n in zip((1, 2), sizes):
                    dy = _fold_reflected(dy, axis, n, p)
                return dy
        return t, grad
    return pad(x)


def _reflected_indices(n, p):
    """Which of n pixels each position of the padded axis reads: i for 0 <= i < n, mirrored outside, i.e. position
    i in [-p, n + p) reads (n - 1) - |(n - 1) - |i||. A numpy constant when n is known when tracing (one graph op
    instead of six), else computed at run time."""
    module = np if isinstance(n, int) else ops
    last = n - 1
    return last - module.abs(last - module.abs(module.arange(-p, last + 1 + p)))


def _fold_reflected(dy, axis, n, p):
    """The gradient of reflect-padding `axis` (length n) by p on each side, from the padded gradient `dy`: its inner n
    entries plus each border's p entries, reversed, on the pixels they copied (1..p and n-1-p..n-2)."""
    def part(start, length):
        begin, size = [0] * 4, [-1] * 4
        begin[axis], size[axis] = start, length
        return tf.slice(dy, begin, size)

    def placed(border, before, after):
        pads = [[0, 0]] * 4
        pads[axis] = [before, after]
        return tf.pad(tf.reverse(border, [axis]), pads)
    return part(p, n) + placed(part(0, p), 1, n - 1 - p) + placed(part(n + p, p), n - 1 - p, 1)


def _plain_conv(filters, kernel_size, kernel_init, padding, name=None):
    return keras.layers.Conv2D(filters, kernel_size, padding=_conv_padding(padding), kernel_initializer=kernel_init,
                               name=name)


def _plain_norm(op_set, affine):
    """The BN between ReLU and conv of a plain conv in `op_set` (None in the paper's set)."""
    if op_set not in OP_SETS:
        raise ValueError(f"op_set must be one of {OP_SETS}, got {op_set!r}")
    return batch_norm(center=affine, scale=affine) if op_set == "normalized" else None


class ReLUConv(BuildOnFirstCall):
    """ReLU -> kxk Conv2D with bias (size-preserving, `padding` zero or reflect); with a BN (op set "normalized"):
    ReLU -> BN -> Conv2D."""

    def __init__(self, filters, kernel_size, kernel_init="glorot_uniform", op_set="paper", affine=True,
                 padding="zero", **kwargs):
        super().__init__(**kwargs)
        self.norm = _plain_norm(op_set, affine)
        self.padding = padding
        self.conv = _plain_conv(filters, kernel_size, kernel_init, padding)

    def call(self, x, training=False):
        h = ops.relu(x)
        if self.norm is not None:
            h = self.norm(h, training=training)
        return self.conv(reflect_pad(h, self.conv.kernel_size[0], self.padding))


class FusedConvs(CheckpointCollections):
    """The plain conv candidates of one supernet edge, computed as one conv.

    They all see h = ReLU(x) (op set "normalized": h = BN(ReLU(x)) with one non-affine BN for all: having no
    parameters, each candidate's own BN would compute the same h), so sum_k w_k (conv(h, K_k) + b_k) =
    conv(h, sum_k w_k pad(K_k)) + sum_k w_k b_k, each kxk kernel zero-padded to the largest size: exact for odd
    sizes, up to float rounding, with zero ('same') padding and with reflect padding (a reflected border is the same
    pixels whatever its width). Gradients reach every K_k, b_k and w_k through the sums.
    """

    def __init__(self, op_names, filters, kernel_init="glorot_uniform", op_set="paper", padding="zero", **kwargs):
        super().__init__(**kwargs)
        self.sizes = [int(name[-1]) for name in op_names]
        self.norm = _plain_norm(op_set, affine=False)
        self.padding = padding
        self.convs = [_plain_conv(filters, k, kernel_init, padding, name=name)
                      for k, name in zip(self.sizes, op_names)]

    def build(self, input_shape):
        for conv in self.convs:  # only the channel count matters; spatial sizes left open for 'valid' padding
            conv.build((input_shape[0], None, None, input_shape[-1]))

    def call(self, x, weights, training=False):
        h = ops.relu(x)
        if self.norm is not None:
            h = self.norm(h, training=training)
        weights = ops.cast(weights, h.dtype)
        size = max(self.sizes)
        kernel, bias = 0.0, 0.0
        for k, (conv, width) in enumerate(zip(self.convs, self.sizes)):
            pad = (size - width) // 2
            kernel = kernel + weights[k] * ops.pad(ops.cast(conv.kernel, h.dtype), [[pad, pad], [pad, pad], [0, 0],
                                                                                    [0, 0]])
            bias = bias + weights[k] * ops.cast(conv.bias, h.dtype)
        return ops.conv(reflect_pad(h, size, self.padding), kernel, padding=_conv_padding(self.padding)) + bias


class SepConv(BuildOnFirstCall):
    """DARTS separable conv: two rounds of ReLU -> depthwise kxk (`padding` zero or reflect) -> pointwise 1x1 -> BN,
    no conv biases."""

    def __init__(self, filters, kernel_size, affine, kernel_init="glorot_uniform", padding="zero", **kwargs):
        super().__init__(**kwargs)
        self.padding = padding
        depthwise = dict(padding=_conv_padding(padding), depthwise_initializer=kernel_init)
        pointwise = dict(use_bias=False, kernel_initializer=kernel_init)
        self.dw1 = DepthwiseConv2D(kernel_size, **depthwise)
        self.pw1 = keras.layers.Conv2D(filters, 1, **pointwise)
        self.bn1 = batch_norm(center=affine, scale=affine)
        self.dw2 = DepthwiseConv2D(kernel_size, **depthwise)
        self.pw2 = keras.layers.Conv2D(filters, 1, **pointwise)
        self.bn2 = batch_norm(center=affine, scale=affine)

    def call(self, x, training=False):
        k = self.dw1.kernel_size[0]
        h = self.bn1(self.pw1(self.dw1(reflect_pad(ops.relu(x), k, self.padding))), training=training)
        return self.bn2(self.pw2(self.dw2(reflect_pad(ops.relu(h), k, self.padding))), training=training)


class Deconv(BuildOnFirstCall):
    """Conv2DTranspose(kernel 2, stride 2) with bias, applied log2(scale) times with the same weights."""

    def __init__(self, filters, scale=2, kernel_init="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.num_ups = _num_ups(scale)
        self.deconv = keras.layers.Conv2DTranspose(filters, 2, strides=2, padding="valid",
                                                   kernel_initializer=kernel_init)

    def call(self, x, training=False):
        for _ in range(self.num_ups):
            x = self.deconv(x)
        return x


class Resize(BuildOnFirstCall):
    """Parameter-free x2 up-sampling ('nearest' or half-pixel 'bilinear'), applied log2(scale) times."""

    def __init__(self, interpolation, scale=2, **kwargs):
        super().__init__(**kwargs)
        self.num_ups = _num_ups(scale)
        # Keras' bilinear resize is TF's half-pixel-centre resize, i.e. PyTorch's align_corners=False.
        self.up = keras.layers.UpSampling2D(2, interpolation=interpolation)

    def call(self, x, training=False):
        for _ in range(self.num_ups):
            x = self.up(x)
        return x


def _num_ups(scale):
    if scale not in _NUM_UPS:
        raise ValueError(f"up-sampling scale must be 2 or 4, got {scale}")
    return _NUM_UPS[scale]


def make_op(name, ch, scale=1, affine=True, kernel_init="glorot_uniform", op_set="paper", padding="zero"):
    """Builds candidate `name` (one of NORMAL_OPS with scale=1, or UP_OPS with scale 2 or 4) of op set `op_set` for
    `ch` channels; its kxk convs pad with `padding` (zero or reflect)."""
    if name in NORMAL_OPS:
        if scale != 1:
            raise ValueError(f"normal op {name!r} keeps the resolution; got scale {scale}")
        kernel = int(name[-1])
        if name.startswith("sep_conv"):
            return SepConv(ch, kernel, affine, kernel_init, padding, name=name)
        return ReLUConv(ch, kernel, kernel_init, op_set, affine, padding, name=name)
    if name == "deconv":
        return Deconv(ch, scale, kernel_init, name=name)
    if name in UP_OPS:
        return Resize(name, scale, name=name)
    raise ValueError(f"unknown candidate op {name!r}; normal ops: {NORMAL_OPS}, up-sampling ops: {UP_OPS}")


class MixedEdge(BuildOnFirstCall, CheckpointCollections):
    """Supernet edge: sum_k w_k * op_k(x) over every candidate, with w = softmax(alpha_e) given at call time.

    The plain convs among the candidates run as one `FusedConvs` (`fused`, weights `fused_index`); every other
    candidate runs on its own (`candidates`, weights `candidate_index`).
    """

    def __init__(self, op_names, ch, scale=1, kernel_init="glorot_uniform", op_set="paper", padding="zero",
                 **kwargs):
        super().__init__(**kwargs)
        self.op_names = tuple(op_names)
        self.fused_index = tuple(k for k, name in enumerate(self.op_names) if name in PLAIN_CONVS)
        self.candidate_index = tuple(k for k, name in enumerate(self.op_names) if name not in PLAIN_CONVS)
        self.fused = (FusedConvs([self.op_names[k] for k in self.fused_index], ch, kernel_init, op_set, padding,
                                 name="fused") if self.fused_index else None)
        self.candidates = [make_op(self.op_names[k], ch, scale, affine=False, kernel_init=kernel_init, op_set=op_set,
                                   padding=padding) for k in self.candidate_index]

    def call(self, x, weights, training=False):
        terms = [weights[k] * op(x, training=training) for k, op in zip(self.candidate_index, self.candidates)]
        if self.fused is not None:
            terms.insert(0, self.fused(x, ops.take(weights, self.fused_index), training=training))
        out = terms[0]
        for term in terms[1:]:
            out = out + term
        return out
