"""tfgan_eff: find (alphaGAN), compress (DGL-GAN) and sparsely train (STU-GAN) GANs with TF 2.21 / Keras 3."""

__version__ = "0.1.0"
