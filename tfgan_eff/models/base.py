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


class Generator(Float32Outputs, BuildOnFirstCall, CheckpointCollections, keras.Model):
    """z [B, latent_dim] (+ labels [B]) -> images [B, H, W, C] in [-1, 1]."""

    def __init__(self, latent_dim, resolution, channels=3, num_classes=0, **kwargs):
        super().__init__(**kwargs)
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


class Discriminator(Float32Outputs, BuildOnFirstCall, CheckpointCollections, keras.Model):
    """images [B, H, W, C] (+ labels [B]) -> logits [B].

    Saved whole as a `.keras` file (a teacher D for DGL-GAN): subclasses pass their constructor arguments as
    `arguments`, which `get_config` returns, and `from_config` builds the variables before Keras loads the weights.
    """

    def __init__(self, resolution, channels=3, num_classes=0, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.resolution = resolution
        self.channels = channels
        self.num_classes = num_classes
        self._arguments = dict(arguments or {}, resolution=resolution, channels=channels, num_classes=num_classes)

    def get_config(self):
        return {**super().get_config(), **self._arguments}

    @classmethod
    def from_config(cls, config):
        return cls(**config).build_for_inputs()

    def build_for_inputs(self):
        """Creates every variable by one call on a dummy batch; returns self."""
        x = keras.ops.zeros((2, self.resolution, self.resolution, self.channels))
        labels = keras.ops.zeros((2,), dtype="int32") if self.num_classes else None
        self(x, labels, training=False)
        return self
