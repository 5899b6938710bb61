"""The run configs each benchmark row builds its models from: the methods' presets (shrunk with presets.smoke for
--quick) and an SNGAN 32 px config matching the PyTorch reference."""

from tfgan_eff.config import presets

from benchmarks.settings import sngan_settings

_PRECISION = {"value": "float32"}  # train.precision of every config built here (the +bf16 task option sets it)


def set_precision(precision):
    """train.precision of the configs built from now on in this process (float32 or mixed_bfloat16)."""
    _PRECISION["value"] = precision


def sngan(quick):
    """SNGAN-ResNet G/D at the sizes of `benchmarks.settings` (hinge, n_critic, SN in D, G-EMA)."""
    s = sngan_settings(quick)
    cfg = presets.baseline()
    cfg.name = "bench_sngan"
    cfg.data.update(resolution=s["resolution"], channels=s["channels"])
    cfg.model.latent_dim = s["latent_dim"]
    cfg.model.g.update(arch="sngan", ch=s["g_ch"], spectral_norm=False)
    cfg.model.d.update(arch="sngan", ch=s["d_ch"], spectral_norm=True)
    cfg.train.update(batch_size=s["batch"], g_batch_size=s["g_batch"], n_critic=s["n_critic"], loss="hinge",
                     ema_decay=s["ema_decay"])
    for opt in (cfg.train.g_opt, cfg.train.d_opt):
        opt.update(lr=s["lr"], beta1=s["beta1"], beta2=s["beta2"])
    cfg.train.precision = _PRECISION["value"]
    return cfg


def preset(method, quick):
    """The default config of `method` (what `--method=X` trains), shrunk to toy size when `quick`."""
    cfg = presets.get(method)
    cfg.train.precision = _PRECISION["value"]
    if quick:
        presets.smoke(cfg)
        cfg.search.batch_size = 8  # smoke keeps the search batch at 64
    return cfg


def student(cfg):
    """A DGL config with the student widths folded in, as train_gan does for the student runs."""
    cfg = cfg.copy_and_resolve_references()
    cfg.model.g.width *= cfg.dgl.student_g_width
    cfg.model.d.width *= cfg.dgl.student_d_width
    return cfg
