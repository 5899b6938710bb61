"""Registers alphaGAN (`--method=search`): its config sections (search, retrain), preset, smoke shrink, checks and
the `genotype` generator architecture (Tian et al., arXiv:2006.09134). The search and retraining sub-runs are in
search/plan.py.

Section defaults are the paper's alphaGAN(s) search; the preset shrinks them for CPU runs.
"""

import json
import os

import ml_collections

from tfgan_eff.config.checks import choice, get
from tfgan_eff.config.registry import Method, register
from tfgan_eff.errors import UserError
from tfgan_eff.lists import comma_list

PUBLISHED_GENOTYPES = ("alphagan_l", "alphagan_s")  # names retrain.genotype / model.g.genotype may take
BASELINES = ("random", "sngan")  # retrain.baselines items (search/baselines.py)
OP_SETS = ("paper", "normalized")  # what the plain conv candidates are: ReLU -> conv, or ReLU -> BN -> conv
PADDINGS = ("zero", "reflect")  # how the candidates' kxk convs pad their input (candidate_ops.py says why)

PRESETS = ("s", "l")
MIN_REFLECT_RESOLUTION = 16  # normal edges see resolution/4-px maps; sep_conv_7x7 reflects 3 pixels of them


def section():
    """alphaGAN search keys."""
    return ml_collections.ConfigDict(dict(
        preset="s",               # s | l: what 0 means for inner_steps/worst_steps (s: 20 steps; l: one pass)
        ch=256,                   # supernet width (channels of every node)
        op_set="paper",           # paper | normalized: plain conv candidates are ReLU -> conv, or ReLU -> BN -> conv
        padding="zero",           # zero | reflect: padding of the candidates' kxk convs (reflect needs >= 16 px)
        resolution=0,             # image size of the search (0 = data.resolution); retraining uses data.resolution
        d_width=1.0,              # width multiplier of the search's D relative to model.d (retraining uses model.d)
        rounds=99,
        batch_size=64,            # global batch of every search step (real images and z)
        n_critic=5,               # inner loop: a G step every n_critic D steps
        inner_steps=0,            # D steps per round on split A (0 = preset: s 20, l one pass over A)
        worst_steps=0,            # steps of each worst-case copy on split B (0 = preset: s 20, l one pass over B)
        arch_steps=20,            # architecture updates per round, each on a fresh batch of split B
        lr=2e-4,                  # inner weight optimizers (G and D): Adam(lr, beta1, beta2)
        beta1=0.0,
        beta2=0.9,
        worst_lr=2e-4,            # fresh Adam for each worst-case copy, every round
        worst_lr_halve_round=30,  # worst_lr is halved from this (0-based) round on
        arch_lr=3e-4,
        arch_beta1=0.5,
        arch_beta2=0.999,
        arch_eps=1e-8,
        arch_weight_decay=1e-3,   # coupled L2 on alpha (added to the gradient)
        keep_checkpoints=2,
    ))


def retrain_section():
    """Keys for retraining a derived genotype."""
    return ml_collections.ConfigDict(dict(
        genotype="",              # genotype JSON path or published name (alphagan_l|alphagan_s); empty = search first
        steps=0,                  # G steps of the retraining (0 = train.steps)
        # comma list of random (retrain.random_genotypes uniformly random genotypes of the search space) and sngan
        # (an SNGAN-ResNet G with the derived G's parameter count), retrained like the derived G: its baselines
        baselines="",
        random_genotypes=3,
    ))


def preset(c):
    """Turns a config into the default alphaGAN run on digits (what `--method=search` runs).

    Search at 16 px: a 16-channel supernet against a 16-channel D, 30 (s)-style rounds (~8 s each on 2 quiet CPU
    cores, plus ~1 min of building and tracing). Then 1200 retraining steps of the derived genotype at 32 px and
    32 channels. Departures from the paper, all measured on digits:
    - candidates: the normalised op set with reflect padding (zero padding on 4-16 px maps let retrained
      genotypes build a z-independent border pattern and collapse; docs/methods/search.md);
    - search: a G step after every inner D step (n_critic 1; with 5 the supernet gets 4 G steps a round and D wins
      so completely that V(G, D_worst) = 0 and the alphas get no gradient), K = 10 worst-case steps, and a 10x
      architecture learning rate so the alphas can move in 600 updates (30 rounds are a third of the paper's 99);
    - search at 16 px: a 32 px search costs ~3x a round and its derived genotypes retrained no better in 3 seeds,
      though its duality gap fell (docs/methods/search.md);
    - retraining at 32 px, not at the search's 16 px: at 16 px the stem is 2x2 and every genotype tried (derived,
      published, random) mode-collapsed, with the paper's recipe and with the one below;
    - retraining with the DCGAN recipe that trains the baseline here (n_critic 1, Adam 2e-4 (0.5, 0.999)): 1200 G
      steps of the paper's n_critic 5 / betas (0, 0.9) collapsed at 16 px and cost 5x the D steps; and a faster EMA
      (0.999 would still weigh the initial weights by 0.999^1200 = 30 % at the end);
    - one CPU thread per TF op (train.intra_op_threads=1): the supernet runs an edge's candidates side by side, one
      per core, instead of splitting each small op over the cores; a search round took 0.66-0.80x the time on 2 cores
      (docs/methods/search.md, "Threads").
    """
    c.method, c.name = "search", "search_digits"
    c.data.update(source="digits", resolution=32, channels=3)
    c.model.latent_dim = 128
    c.model.g.update(arch="genotype", ch=32, width=1.0, spectral_norm=False, genotype="")
    c.model.d.update(arch="autogan", ch=32, width=1.0, spectral_norm=True)
    c.search.update(preset="s", ch=16, resolution=16, op_set="normalized", padding="reflect", d_width=0.5, rounds=30,
                    batch_size=64, n_critic=1,
                    inner_steps=20, worst_steps=10, arch_steps=20, arch_lr=3e-3, worst_lr_halve_round=10)
    c.train.update(steps=1200, batch_size=64, g_batch_size=64, n_critic=1, loss="hinge", ema_decay=0.99,
                   log_every=50, sample_every=300, ckpt_every=300, intra_op_threads=1)
    c.train.g_opt.update(lr=2e-4, beta1=0.5, beta2=0.999)
    c.train.d_opt.update(lr=2e-4, beta1=0.5, beta2=0.999)
    c.retrain.update(genotype="", steps=0)
    return c


class PaddingError(UserError, ValueError):
    """A reflect-padded cell network asked for at a resolution too small to reflect its 7x7 candidates' borders."""


def padding_problem(padding, resolution, key="padding", what="resolution"):
    """Why a cell network with conv padding `padding` (config key `key`) cannot be built at `resolution` px (`what`
    names that resolution in the message), or None."""
    if padding == "reflect" and resolution < MIN_REFLECT_RESOLUTION:
        return (f"{key}='reflect' needs a {what} >= {MIN_REFLECT_RESOLUTION} (the 7x7 candidates reflect 3 pixels of "
                f"resolution/4-pixel maps), got {resolution}; use {key}='zero'")
    return None


def check_padding_resolution(padding, resolution):
    """Raises PaddingError when a cell network with conv padding `padding` cannot be built at `resolution` px."""
    problem = padding_problem(padding, resolution)
    if problem:
        raise PaddingError(problem)


def search_config(cfg):
    """The config the search itself runs under: a copy of `cfg` with data.resolution = search.resolution (if set)."""
    search_cfg = cfg.copy_and_resolve_references()
    if cfg.search.resolution:
        search_cfg.data.resolution = cfg.search.resolution
    return search_cfg


def published_cifar10(c, preset):
    """Turns a config into the paper's CIFAR-10 retraining of the published alphaGAN(`preset`) genotype.

    The search is skipped because retrain.genotype is set; with `--config.retrain.genotype=` (empty) the paper's
    (`preset`) search runs first. Needs a prepared TFDS cifar10 (--config.data.tfds_data_dir=DIR; nothing is
    downloaded).
    """
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {PRESETS}, got {preset!r}")
    name = f"alphagan_{preset}"
    c.method, c.name = "search", f"{name}_cifar10"
    c.data.update(source="tfds:cifar10", split="train", resolution=32, channels=3)
    c.model.latent_dim = 128
    c.model.g.update(arch="genotype", ch=256, width=1.0, spectral_norm=False, genotype=name)
    c.model.d.update(arch="autogan", ch=128, width=1.0, spectral_norm=True)  # SN on D only
    c.search.update(preset=preset, ch=256, rounds=99, batch_size=64, n_critic=5, inner_steps=0, worst_steps=0,
                    arch_steps=20, worst_lr_halve_round=30)
    # Paper: hinge, G batch 128, D batch 64, n_critic 5, Adam 2e-4 (0.0, 0.9), 50k G steps, EMA 0.999.
    c.train.update(steps=50000, batch_size=64, g_batch_size=128, n_critic=5, loss="hinge", ema_decay=0.999,
                   log_every=500, sample_every=5000, ckpt_every=2500)
    c.train.g_opt.update(lr=2e-4, beta1=0.0, beta2=0.9)
    c.train.d_opt.update(lr=2e-4, beta1=0.0, beta2=0.9)
    c.eval.num_samples = 50000  # the paper's 50k-sample IS/FID (TF Inception: --config.eval.extractor=inception)
    c.retrain.update(genotype=name, steps=0)
    return c


def smoke(c):
    """The search keys of `--smoke`: an 8-channel supernet, one round of 2-step phases; 4 retraining steps."""
    c.search.update(ch=8, resolution=0, rounds=1, inner_steps=2, worst_steps=2, arch_steps=2, batch_size=4)
    c.retrain.steps = 4 if c.retrain.steps else 0
    return c


def _genotype_problems(genotype, resolution):
    """Problems of the genotype to retrain (a published name or a JSON file) at `resolution` px."""
    if not genotype or genotype in PUBLISHED_GENOTYPES:
        return []
    if not os.path.isfile(genotype):
        return [f"genotype {genotype!r} is neither a JSON file nor a published name ({', '.join(PUBLISHED_GENOTYPES)})"]
    try:
        with open(genotype, encoding="utf-8") as f:
            fields = json.load(f)
    except ValueError as err:
        return [f"genotype {genotype!r} is not valid JSON: {err}"]
    padding = fields.get("padding", "zero") if isinstance(fields, dict) else "zero"  # a missing field is zero
    problem = padding_problem(padding, resolution, "padding", "data.resolution")
    return [f"genotype {genotype!r}: {problem}"] if problem else []


def checks(cfg):
    """Problems of the search and retrain sections, for a search run or any run of a genotype generator."""
    if not (cfg.method == "search" or cfg.model.g.arch == "genotype"):
        return []
    p = choice(cfg.search.preset, "search.preset", PRESETS)
    p += choice(cfg.search.op_set, "search.op_set", OP_SETS)
    p += choice(cfg.search.padding, "search.padding", PADDINGS)
    p += choice(cfg.model.g.kernel_init, "model.g.kernel_init", ("glorot_uniform", "he_uniform"))
    for key in ("data.resolution", "search.resolution"):
        if get(cfg, key) % 8 or get(cfg, key) < 0:
            p.append(f"alphaGAN's 3 cells need {key} divisible by 8, got {get(cfg, key)}")
    search_resolution = cfg.search.resolution or cfg.data.resolution
    problem = padding_problem(cfg.search.padding, search_resolution, "search.padding", "search resolution")
    if cfg.method == "search" and search_resolution > 0 and problem:
        p.append(problem)
    if cfg.data.conditional:
        p.append("alphaGAN's generators (supernet and genotypes) are unconditional: set data.conditional=False")
    if not (cfg.search.d_width > 0 and cfg.search.batch_size > 0 and cfg.search.ch > 0):
        p.append("search.d_width, search.batch_size and search.ch must be > 0")
    for name in comma_list(cfg.retrain.baselines):
        p += choice(name, "retrain.baselines item", BASELINES)
    if cfg.retrain.random_genotypes < 1:
        p.append(f"retrain.random_genotypes must be >= 1, got {cfg.retrain.random_genotypes}")
    genotype = cfg.retrain.genotype or (cfg.model.g.genotype if cfg.model.g.arch == "genotype" else "")
    return p + _genotype_problems(genotype, cfg.data.resolution)


METHOD = register(Method(
    name="search", help="alphaGAN architecture search of G by the duality gap, then retraining of the genotype",
    plan_module="tfgan_eff.search.plan", sections={"search": section, "retrain": retrain_section}, preset=preset,
    smoke=smoke, checks=checks,
    generators={"genotype": "tfgan_eff.search.genotype_generator:build_genotype_generator"}))
