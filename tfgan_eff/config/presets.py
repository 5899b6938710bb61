"""Default configs per method (what `--method=X` runs with no --config) and the `--smoke` shrink."""

from tfgan_eff.config import registry
from tfgan_eff.config.schema import base_config


def baseline():
    """Plain GAN on the built-in digits: small DCGAN pair, hinge loss (a few minutes on 2 CPU cores)."""
    c = base_config()
    c.method, c.name = "baseline", "baseline_digits"
    c.model.g.update(arch="dcgan", ch=64)
    c.model.d.update(arch="dcgan", ch=64, spectral_norm=True)
    c.train.update(steps=1500, batch_size=64, n_critic=1, loss="hinge")
    c.train.g_opt.update(lr=2e-4, beta1=0.5, beta2=0.999)
    c.train.d_opt.update(lr=2e-4, beta1=0.5, beta2=0.999)
    return c


def get(method):
    """The default config of `method`: its preset applied to the baseline preset."""
    return registry.get(method).preset(baseline())


def smoke(cfg):
    """Shrinks any config in place to a seconds-long run (tiny widths, 16 px, batch 4, a few steps)."""
    cfg.data.update(resolution=16, num_examples=64, max_examples=64)
    cfg.model.latent_dim = 16
    cfg.model.g.ch = min(cfg.model.g.ch, 8)
    cfg.model.d.ch = min(cfg.model.d.ch, 8)
    cfg.train.update(steps=4, batch_size=4, g_batch_size=0 if not cfg.train.g_batch_size else 4,
                     n_critic=min(cfg.train.n_critic, 2), log_every=2, sample_every=4, ckpt_every=2)
    cfg.eval.update(num_samples=32, batch_size=16, kid_subsets=2)
    cfg.export.modes = "float32"
    for method in registry.methods():
        method.smoke(cfg)
    return cfg
