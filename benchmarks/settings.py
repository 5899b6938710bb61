"""Sizes shared by the TensorFlow and PyTorch SNGAN rows (no TensorFlow import here: the torch worker reads it)."""

# SNGAN 32 px as in design.md's speed facts: 64 channels in G and D, D batch 64, G batch 128, 5 D steps per G step,
# hinge loss, Adam(2e-4, 0.0, 0.9), spectral norm in D only, G-EMA 0.999.
SNGAN = dict(resolution=32, channels=3, latent_dim=128, g_ch=64, d_ch=64, batch=64, g_batch=128, n_critic=5,
             lr=2e-4, beta1=0.0, beta2=0.9, ema_decay=0.999)
# --quick: the same step at toy size (seconds, for tests).
SNGAN_QUICK = dict(SNGAN, resolution=16, latent_dim=16, g_ch=8, d_ch=8, batch=4, g_batch=4, n_critic=2)
# The optimisation experiments (benchmarks.profile): on the baseline step, and on model construction.
PROFILE_TASKS = ("profile", "profile_build")


def sngan_settings(quick):
    """The SNGAN sizes of a full or --quick benchmark."""
    return dict(SNGAN_QUICK if quick else SNGAN)


def timing_settings(quick):
    """(warm-up calls, timed calls) per row."""
    return (1, 3) if quick else (2, 7)
