"""The run configs each benchmark row builds its models from: the methods' presets (shrunk with presets.smoke for
--quick), an SNGAN 32 px config matching the PyTorch reference, and the alphaGAN search / derived-net configs with
the plain sizes their PyTorch peers (benchmarks.torch_alphagan) are built from."""

from tfgan_eff.config import presets
from tfgan_eff.models import registry
from tfgan_eff.search import method as search_method

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


def search(quick):
    """The config the alphaGAN searcher runs under (the search preset at its search resolution)."""
    return search_method.search_config(preset("search", quick))


def derived(quick, genotype):
    """The GANTrainer config of a derived net (`genotype`: JSON path or published name) trained like the supernet:
    the supernet's width and resolution, the searcher's D, its batch, one D step per G step."""
    cfg = search(quick)
    cfg.model.g.update(arch="genotype", ch=cfg.search.ch, genotype=genotype)
    cfg.model.d.width *= cfg.search.d_width  # the searcher's D
    cfg.train.update(batch_size=cfg.search.batch_size, g_batch_size=cfg.search.batch_size, n_critic=1)
    return cfg


def _net_sizes(cfg, g_ch, d_ch, op_set, padding):
    return dict(resolution=cfg.data.resolution, channels=cfg.data.channels, latent_dim=cfg.model.latent_dim, ch=g_ch,
                d_ch=d_ch, op_set=op_set, padding=padding)


def search_settings(cfg):
    """The sizes and optimizer settings of the searcher of `cfg` (a `search` config) as a plain dict (what
    benchmarks.torch_alphagan.SearchStep takes)."""
    s = cfg.search
    d_ch = registry.scaled_width(cfg.model.d.ch, cfg.model.d.width * s.d_width)
    return dict(_net_sizes(cfg, s.ch, d_ch, s.op_set, s.padding), batch=s.batch_size, lr=s.lr, beta1=s.beta1,
                beta2=s.beta2, arch_lr=s.arch_lr, arch_beta1=s.arch_beta1, arch_beta2=s.arch_beta2,
                arch_eps=s.arch_eps, arch_weight_decay=s.arch_weight_decay)


def trainer_settings(cfg, genotype):
    """The sizes and optimizer settings of the GANTrainer step of `cfg` (a genotype G of `genotype`, whose op set and
    padding it records) as a plain dict (what benchmarks.torch_alphagan.derived_step takes)."""
    t, g_opt = cfg.train, cfg.train.g_opt
    if g_opt.to_dict() != t.d_opt.to_dict():
        raise ValueError(f"the PyTorch step uses one Adam setting for G and D; got {g_opt} and {t.d_opt}")
    g_ch = registry.scaled_width(cfg.model.g.ch, cfg.model.g.width)
    d_ch = registry.scaled_width(cfg.model.d.ch, cfg.model.d.width)
    return dict(_net_sizes(cfg, g_ch, d_ch, genotype.op_set, genotype.padding), batch=t.batch_size,
                g_batch=t.g_batch_size or t.batch_size, n_critic=t.n_critic, lr=g_opt.lr, beta1=g_opt.beta1,
                beta2=g_opt.beta2, ema_decay=t.ema_decay)
