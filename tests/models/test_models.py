"""Generators and discriminators: parameter counts, output shapes and ranges, labels, widths."""

import numpy as np
import pytest

from tfgan_eff.config import presets
from tfgan_eff.models import registry
from tfgan_eff.models.base import bottom_width, num_upsamplings


def _cfg(g_arch, d_arch, g_ch, d_ch, resolution=32, conditional=False):
    cfg = presets.baseline()
    cfg.model.g.update(arch=g_arch, ch=g_ch)
    cfg.model.d.update(arch=d_arch, ch=d_ch)
    cfg.data.update(resolution=resolution, conditional=conditional, num_classes=10 if conditional else 0)
    return cfg


def _trainable(model):
    return int(sum(np.prod(v.shape) for v in model.trainable_variables))


def test_sngan_cifar_sizes():
    # SNGAN CIFAR-10: G 256 ch ~4.28M (Miyato et al.), D 128 ch ~1.05M (alphaGAN spec's fixed D).
    cfg = _cfg("sngan", "autogan", 256, 128)
    assert _trainable(registry.build_generator(cfg)) == 4_276_739  # + 3,584 BN moving stats = 4,280,323
    assert _trainable(registry.build_discriminator(cfg)) == 1_053_824


def test_dcgan_parameter_formula():
    ch, z = 8, 128
    g = registry.build_generator(_cfg("dcgan", "dcgan", ch, ch, resolution=16))
    # 16 px: stem z->4x4x(2ch), no bias; BN(2ch); ConvT 4x4 2ch->2ch? no: ups go 2ch->ch (i=0), ch->ch (last)
    top = ch * 2
    expected = (z * 16 * top + 2 * top            # stem + BN gamma/beta
                + 16 * top * ch + 2 * ch          # ConvT 4x4 top->ch, BN
                + 16 * ch * ch + 2 * ch           # ConvT 4x4 ch->ch, BN
                + 9 * ch * 3 + 3)                 # head conv3x3 + bias
    assert _trainable(g) == expected
    d = registry.build_discriminator(_cfg("dcgan", "dcgan", ch, ch, resolution=16))
    assert _trainable(d) == (16 * 3 * ch + ch) + (16 * ch * 2 * ch + 2 * ch) + (4 * 4 * 2 * ch + 1)


@pytest.mark.parametrize("g_arch,d_arch,resolution,conditional", [
    ("dcgan", "dcgan", 32, False), ("dcgan", "dcgan", 16, False), ("sngan", "sngan", 48, False),
    ("sngan", "sngan", 64, False), ("biggan", "biggan", 32, True), ("dcgan", "sngan", 8, False),
])
def test_output_shapes_and_range(g_arch, d_arch, resolution, conditional):
    cfg = _cfg(g_arch, d_arch, 8, 8, resolution, conditional)
    g, d = registry.build_generator(cfg), registry.build_discriminator(cfg)
    z = np.random.default_rng(0).normal(size=(3, 128)).astype(np.float32)
    labels = np.array([0, 4, 9], np.int32) if conditional else None
    x = g(z, labels, training=False).numpy()
    assert x.shape == (3, resolution, resolution, 3)
    assert -1 <= x.min() and x.max() <= 1
    assert d(x, labels, training=False).shape == (3,)


def test_conditional_generator_uses_labels():
    cfg = _cfg("biggan", "biggan", 8, 8, 16, conditional=True)
    g = registry.build_generator(cfg)
    # Perturb class gains so classes differ at init.
    for layer in g._flatten_layers():  # pylint: disable=protected-access
        if layer.name.startswith("embedding"):
            layer.embeddings.assign(np.random.default_rng(1).normal(size=layer.embeddings.shape))
    z = np.zeros((2, 128), np.float32)
    a, b = g(z, np.array([0, 1], np.int32)).numpy()
    assert not np.allclose(a, b)


def test_width_multiplier():
    cfg = _cfg("sngan", "sngan", 32, 32)
    full = _trainable(registry.build_generator(cfg))
    half = _trainable(registry.build_generator(cfg, width=0.5))
    assert 0.25 < half / full < 0.4  # convs scale quadratically, the z -> stem Dense linearly


def test_resolution_rules():
    assert (bottom_width(48), num_upsamplings(48)) == (6, 3)
    assert (bottom_width(32), num_upsamplings(32)) == (4, 3)
    with pytest.raises(ValueError, match="resolution 40"):
        num_upsamplings(40)
