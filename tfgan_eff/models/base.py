"""Common base classes: the generator/discriminator call contracts every model follows."""

import math

import keras

from tfgan_eff.ops.eager_build import BuildOnFirstCall
from tfgan_eff.ops.tracking import CheckpointCollections


def bottom_width(resolution):
    """Spatial size of the generator's first feature map: 6 for 48/96 px (STL-10 style), else 4."""
    return 6 if resolution % 6 == 0 and resolution % 32 != 0 else 4


def num_upsamplings(resolution):
    """How many x2 up-samplings take `bottom_width(resolution)` to `resolution`; errors on other sizes."""
    bottom = bottom_width(resolution)
    n = math.log2(resolution / bottom)
    if n < 1 or n != int(n):
        raise ValueError(f"resolution {resolution} is not bottom_width * 2^k (k >= 1); use 8, 16, 32, 48 or 64")
    return int(n)


class Float32Outputs:
    """Mixin: the model returns float32 whatever its compute dtype (mixed_bfloat16 models compute in bfloat16), so
    losses, metrics, samples and exports always see float32."""

    def __call__(self, *args, **kwargs):
        outputs = super().__call__(*args, **kwargs)
        return outputs if self.compute_dtype == "float32" else keras.ops.cast(outputs, "float32")


class GANModel(Float32Outputs, BuildOnFirstCall, CheckpointCollections, keras.Model):
    """What generators and discriminators share: float32 outputs, variables built by a first call, checkpoint
    collections, and saving whole as a `.keras` file (a teacher G or D given as a file): `arguments` are the
    constructor's arguments, which `get_config` returns, and `from_config` builds the variables before Keras loads the
    weights. Subclasses register with `keras.saving.register_keras_serializable(package="tfgan_eff")`."""

    def __init__(self, arguments, **kwargs):
        super().__init__(**kwargs)
        self._arguments = dict(arguments)

    def get_config(self):
        return {**super().get_config(), **self._arguments}

    @classmethod
    def from_config(cls, config):
        return cls(**config).build_for_inputs()

    def build_for_inputs(self):
        """Creates every variable by one call on a dummy batch; returns self."""
        raise NotImplementedError


class Generator(GANModel):
    """z [B, latent_dim] (+ labels [B]) -> images [B, H, W, C] in [-1, 1]."""

    def __init__(self, latent_dim, resolution, channels=3, num_classes=0, arguments=None, **kwargs):
        super().__init__(dict(arguments or {}, latent_dim=latent_dim, resolution=resolution, channels=channels,
                              num_classes=num_classes), **kwargs)
        self.latent_dim = latent_dim
        self.resolution = resolution
        self.channels = channels
        self.num_classes = num_classes

    def build_for_inputs(self):
        """Creates every variable by one call on a dummy batch; returns self."""
        z = keras.ops.zeros((2, self.latent_dim))
        labels = keras.ops.zeros((2,), dtype="int32") if self.num_classes else None
        self(z, labels, training=False)
        return self


class Discriminator(GANModel):
    """images [B, H, W, C] (+ labels [B]) -> logits [B]."""

    def __init__(self, resolution, channels=3, num_classes=0, arguments=None, **kwargs):
        super().__init__(dict(arguments or {}, resolution=resolution, channels=channels, num_classes=num_classes),
                         **kwargs)
        self.resolution = resolution
        self.channels = channels
        self.num_classes = num_classes

    def build_for_inputs(self):
        """Creates every variable by one call on a dummy batch; returns self."""
        x = keras.ops.zeros((2, self.resolution, self.resolution, self.channels))
        labels = keras.ops.zeros((2,), dtype="int32") if self.num_classes else None
        self(x, labels, training=False)
        return self
