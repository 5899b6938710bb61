"""tfgan_eff: find (alphaGAN), compress (DGL-GAN) and sparsely train (STU-GAN) GANs with TF 2.21 / Keras 3."""

__version__ = "0.1.0"

from tfgan_eff import methods as _methods  # noqa: E402,F401  (fills the method registry; no TensorFlow)


def load_generator(path):
    """A sampler for a trained generator (work dir, checkpoint or SavedModel): `.sample(n, seed=0, labels=None)`."""
    # Imported here so that `import tfgan_eff` (and the CLI's flag parsing) does not load TensorFlow.
    from tfgan_eff.inference import load_generator as _load
    return _load(path)
