"""Builds generators and discriminators from a config.

The built-in architectures are looked up here; a method adds its own generator architectures through its
registration (config.registry.Method.generators), e.g. alphaGAN's `genotype`.
"""

from tfgan_eff.config import registry as method_registry
from tfgan_eff.models.dcgan import DCGANDiscriminator, DCGANGenerator
from tfgan_eff.models.resnet import ResNetDiscriminator, ResNetGenerator
from tfgan_eff.ops.precision import policy_scope


def scaled_width(ch, width):
    """Channels after a width multiplier (at least 1)."""
    return max(1, int(round(ch * width)))


def build_generator(cfg, width=1.0):
    """Builds and initialises the generator described by `cfg.model.g` (times an extra width multiplier), computing
    in `cfg.train.precision`."""
    with policy_scope(cfg.train.precision):
        return _build_generator(cfg, width)


def _build_generator(cfg, width):
    g = cfg.model.g
    ch = scaled_width(g.ch, g.width * width)
    num_classes = cfg.data.num_classes if cfg.data.conditional else 0
    common = dict(latent_dim=cfg.model.latent_dim, resolution=cfg.data.resolution, channels=cfg.data.channels)
    if g.arch == "dcgan":
        model = DCGANGenerator(ch=ch, spectral_norm=g.spectral_norm, **common)
    elif g.arch in ("sngan", "biggan"):
        model = ResNetGenerator(ch=ch, num_classes=num_classes, spectral_norm=g.spectral_norm, **common)
    elif method_registry.generator_builder(g.arch) is not None:
        model = method_registry.generator_builder(g.arch)(cfg, ch)
    else:
        raise ValueError(f"unknown generator arch {g.arch!r}")
    return model.build_for_inputs()


def build_discriminator(cfg, width=1.0):
    """Builds and initialises the discriminator described by `cfg.model.d` (times an extra width multiplier),
    computing in `cfg.train.precision`."""
    with policy_scope(cfg.train.precision):
        return _build_discriminator(cfg, width)


def _build_discriminator(cfg, width):
    d = cfg.model.d
    ch = scaled_width(d.ch, d.width * width)
    num_classes = cfg.data.num_classes if cfg.data.conditional else 0
    common = dict(resolution=cfg.data.resolution, channels=cfg.data.channels)
    if d.arch == "dcgan":
        model = DCGANDiscriminator(ch=ch, spectral_norm=d.spectral_norm, **common)
    elif d.arch in ("sngan", "autogan", "biggan"):
        model = ResNetDiscriminator(ch=ch, num_classes=num_classes, spectral_norm=d.spectral_norm, **common)
    else:
        raise ValueError(f"unknown discriminator arch {d.arch!r}")
    return model.build_for_inputs()
