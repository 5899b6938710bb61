"""SNGAN-ResNet / BigGAN-style generator and discriminator.

Unconditional with `num_classes=0` (SNGAN: BN in G, spectral norm in D); class-conditional with `num_classes>0`
(BigGAN-style: conditional BN in G, projection discriminator, spectral norm in both when configured).
"""

import keras
from keras import ops

from tfgan_eff.models.base import Discriminator, Generator, bottom_width, num_upsamplings
from tfgan_eff.ops.layers import DiscriminatorBlock, GeneratorBlock, batch_norm, conv, maybe_sn


@keras.saving.register_keras_serializable(package="tfgan_eff")
class ResNetGenerator(Generator):
    """Dense -> bottom x bottom x ch -> n up blocks (ch channels) -> BN -> ReLU -> conv3x3 -> tanh."""

    def __init__(self, latent_dim, resolution, channels=3, ch=256, num_classes=0, spectral_norm=False, **kwargs):
        super().__init__(latent_dim, resolution, channels, num_classes,
                         arguments=dict(ch=ch, spectral_norm=spectral_norm), **kwargs)
        self.bottom = bottom_width(resolution)
        self.ch = ch
        self.stem = maybe_sn(keras.layers.Dense(self.bottom * self.bottom * ch), spectral_norm)
        self.blocks = [GeneratorBlock(ch, num_classes, spectral_norm) for _ in range(num_upsamplings(resolution))]
        self.head_bn = batch_norm()
        self.head = conv(channels, 3, spectral_norm)

    def call(self, z, labels=None, training=False):
        h = ops.reshape(self.stem(z, training=training), (-1, self.bottom, self.bottom, self.ch))
        for block in self.blocks:
            h = block(h, labels, training=training)
        h = ops.relu(self.head_bn(h, training=training))
        return ops.tanh(self.head(h, training=training))


@keras.saving.register_keras_serializable(package="tfgan_eff")
class ResNetDiscriminator(Discriminator):
    """OptimizedDisBlock (down) -> down blocks to 8x8 -> 2 blocks -> ReLU -> global sum pool -> Dense(1, no bias).

    At 32 px with ch=128 this is exactly the SNGAN/AutoGAN CIFAR-10 discriminator of alphaGAN's spec.
    With num_classes > 0 a projection term <embed(y), features> is added (Miyato & Koyama, 2018).
    """

    def __init__(self, resolution, channels=3, ch=128, num_classes=0, spectral_norm=True, **kwargs):
        super().__init__(resolution, channels, num_classes, arguments=dict(ch=ch, spectral_norm=spectral_norm),
                         **kwargs)
        n_down = max(1, num_upsamplings(resolution) - 1)
        self.blocks = [DiscriminatorBlock(ch, downsample=True, optimized=True, spectral_norm=spectral_norm)]
        self.blocks += [DiscriminatorBlock(ch, downsample=True, spectral_norm=spectral_norm) for _ in range(n_down - 1)]
        self.blocks += [DiscriminatorBlock(ch, downsample=False, spectral_norm=spectral_norm) for _ in range(2)]
        self.head = maybe_sn(keras.layers.Dense(1, use_bias=False), spectral_norm)
        if num_classes:
            self.embed = maybe_sn(keras.layers.Dense(ch, use_bias=False), spectral_norm)

    def call(self, x, labels=None, training=False):
        h = x
        for block in self.blocks:
            h = block(h, training=training)
        features = ops.sum(ops.relu(h), axis=(1, 2))
        logits = ops.squeeze(self.head(features, training=training), -1)
        if self.num_classes:
            onehot = ops.one_hot(labels, self.num_classes)
            logits = logits + ops.sum(self.embed(onehot, training=training) * features, axis=-1)
        return logits
