"""alphaGAN's candidate operations (specs/alphagan.md) and the softmax-mixed edge of the supernet.

Normal edges (same resolution, same width):
  conv_1x1 / conv_3x3 / conv_5x5: ReLU -> Conv2D with bias (no BN).
  sep_conv_3x3 / 5x5 / 7x7 (DARTS): ReLU -> depthwise kxk -> pointwise 1x1 -> BN -> ReLU -> depthwise kxk ->
    pointwise 1x1 -> BN; convolutions without bias.
Up-sampling edges (x2, or x4 on the cell1 -> cell3 skip by applying the op twice):
  deconv: Conv2DTranspose(kernel 2, stride 2) with bias; a x4 edge reuses the same weights twice.
  nearest: nearest-neighbour x2.  bilinear: bilinear x2 with half-pixel centres (PyTorch align_corners=False).

BN inside candidates has no affine parameters in the supernet (`affine=False`) and has them in a derived network
(`affine=True`). Kernels use `kernel_init` (default xavier-uniform, the paper's) and zero biases.
"""

import keras
from keras import ops

from tfgan_eff.ops.eager_build import BuildOnFirstCall
from tfgan_eff.ops.layers import batch_norm
from tfgan_eff.ops.tracking import CheckpointCollections

NORMAL_OPS = ("conv_1x1", "conv_3x3", "conv_5x5", "sep_conv_3x3", "sep_conv_5x5", "sep_conv_7x7")
UP_OPS = ("deconv", "nearest", "bilinear")
_NUM_UPS = {2: 1, 4: 2}


class ReLUConv(BuildOnFirstCall):
    """ReLU -> same-padded kxk Conv2D with bias."""

    def __init__(self, filters, kernel_size, kernel_init="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.conv = keras.layers.Conv2D(filters, kernel_size, padding="same", kernel_initializer=kernel_init)

    def call(self, x, training=False):
        return self.conv(ops.relu(x))


class SepConv(BuildOnFirstCall):
    """DARTS separable conv: two rounds of ReLU -> depthwise kxk -> pointwise 1x1 -> BN, no conv biases."""

    def __init__(self, filters, kernel_size, affine, kernel_init="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        depthwise = dict(padding="same", use_bias=False, depthwise_initializer=kernel_init)
        pointwise = dict(use_bias=False, kernel_initializer=kernel_init)
        self.dw1 = keras.layers.DepthwiseConv2D(kernel_size, **depthwise)
        self.pw1 = keras.layers.Conv2D(filters, 1, **pointwise)
        self.bn1 = batch_norm(center=affine, scale=affine)
        self.dw2 = keras.layers.DepthwiseConv2D(kernel_size, **depthwise)
        self.pw2 = keras.layers.Conv2D(filters, 1, **pointwise)
        self.bn2 = batch_norm(center=affine, scale=affine)

    def call(self, x, training=False):
        h = self.bn1(self.pw1(self.dw1(ops.relu(x))), training=training)
        return self.bn2(self.pw2(self.dw2(ops.relu(h))), training=training)


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


def make_op(name, ch, scale=1, affine=True, kernel_init="glorot_uniform"):
    """Builds candidate `name` (one of NORMAL_OPS with scale=1, or UP_OPS with scale 2 or 4) for `ch` channels."""
    if name in NORMAL_OPS:
        if scale != 1:
            raise ValueError(f"normal op {name!r} keeps the resolution; got scale {scale}")
        kernel = int(name[-1])
        if name.startswith("sep_conv"):
            return SepConv(ch, kernel, affine, kernel_init, name=name)
        return ReLUConv(ch, kernel, kernel_init, name=name)
    if name == "deconv":
        return Deconv(ch, scale, kernel_init, name=name)
    if name in UP_OPS:
        return Resize(name, scale, name=name)
    raise ValueError(f"unknown candidate op {name!r}; normal ops: {NORMAL_OPS}, up-sampling ops: {UP_OPS}")


class MixedEdge(BuildOnFirstCall, CheckpointCollections):
    """Supernet edge: sum_k w_k * op_k(x) over every candidate, with w = softmax(alpha_e) given at call time."""

    def __init__(self, op_names, ch, scale=1, kernel_init="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.op_names = tuple(op_names)
        self.candidates = [make_op(name, ch, scale, affine=False, kernel_init=kernel_init) for name in self.op_names]

    def call(self, x, weights, training=False):
        out = weights[0] * self.candidates[0](x, training=training)
        for k in range(1, len(self.candidates)):
            out = out + weights[k] * self.candidates[k](x, training=training)
        return out
