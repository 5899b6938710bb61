"""DCGAN generator and discriminator (Radford et al., 2016), sized by a base width and the resolution."""

import keras
from keras import ops

from tfgan_eff.models.base import Discriminator, Generator, bottom_width, num_upsamplings
from tfgan_eff.ops.layers import batch_norm, maybe_sn


@keras.saving.register_keras_serializable(package="tfgan_eff")
class DCGANGenerator(Generator):
    """Dense -> bottom x bottom x (ch * 2^n) -> n x [ConvT 4x4 s2, BN, ReLU] -> conv3x3 -> tanh."""

    def __init__(self, latent_dim, resolution, channels=3, ch=64, spectral_norm=False, **kwargs):
        kwargs.pop("num_classes", 0)  # unconditional: in the saved config only
        super().__init__(latent_dim, resolution, channels, arguments=dict(ch=ch, spectral_norm=spectral_norm),
                         **kwargs)
        n_up = num_upsamplings(resolution)
        bottom = bottom_width(resolution)
        top = ch * 2 ** (n_up - 1)
        # No bias before a BN: it would be cancelled by the BN and only collect noise from Adam.
        self.stem = maybe_sn(keras.layers.Dense(bottom * bottom * top, use_bias=False), spectral_norm)
        self.reshape = keras.layers.Reshape((bottom, bottom, top))
        self.stem_bn = batch_norm()
        self.ups = [maybe_sn(keras.layers.Conv2DTranspose(top // 2 ** (i + 1) if i + 1 < n_up else ch, 4, strides=2,
                                                          padding="same", use_bias=False), spectral_norm)
                    for i in range(n_up)]
        self.bns = [batch_norm() for _ in range(n_up)]
        self.head = maybe_sn(keras.layers.Conv2D(channels, 3, padding="same"), spectral_norm)

    def call(self, z, labels=None, training=False):
        h = ops.relu(self.stem_bn(self.reshape(self.stem(z, training=training)), training=training))
        for up, bn in zip(self.ups, self.bns):
            h = ops.relu(bn(up(h, training=training), training=training))
        return ops.tanh(self.head(h, training=training))


@keras.saving.register_keras_serializable(package="tfgan_eff")
class DCGANDiscriminator(Discriminator):
    """n x [conv 4x4 s2, LeakyReLU 0.2] down to 4x4 (or 6x6) -> flatten -> Dense(1)."""

    def __init__(self, resolution, channels=3, ch=64, spectral_norm=True, **kwargs):
        kwargs.pop("num_classes", 0)  # unconditional: in the saved config only
        super().__init__(resolution, channels, arguments=dict(ch=ch, spectral_norm=spectral_norm), **kwargs)
        n_down = num_upsamplings(resolution)
        self.convs = [maybe_sn(keras.layers.Conv2D(ch * 2 ** i, 4, strides=2, padding="same"), spectral_norm)
                      for i in range(n_down)]
        self.flatten = keras.layers.Flatten()
        self.head = maybe_sn(keras.layers.Dense(1), spectral_norm)

    def call(self, x, labels=None, training=False):
        h = x
        for layer in self.convs:
            h = ops.leaky_relu(layer(h, training=training), 0.2)
        return ops.squeeze(self.head(self.flatten(h), training=training), -1)
