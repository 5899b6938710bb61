"""Registers `--method=baseline`: its preset is config.presets.baseline itself, and it owns no config section."""

from tfgan_eff.config.registry import Method, register

METHOD = register(Method(
    name="baseline", help="a plain GAN (DCGAN, SNGAN-ResNet, BigGAN-style)", plan_module="tfgan_eff.baseline.plan"))
