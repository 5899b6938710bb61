"""Registers STU-GAN (`--method=sparse`; Liu et al., arXiv:2203.02770): its config section, preset, smoke shrink
and checks.

The sparse run and its comparison runs are in sparse/plan.py.
"""

import ml_collections

from tfgan_eff.config.checks import choice, fraction, non_negative, positive
from tfgan_eff.config.registry import Method, register
from tfgan_eff.lists import comma_list
from tfgan_eff.pieces.keys import SPARSE_MODES

COMPARISONS = ("dense", "prune") + SPARSE_MODES  # runs `sparse.comparisons` may add next to the sparse run


def section():
    """STU-GAN keys: densities, mask distribution, exploration mode and schedule, comparison runs."""
    return ml_collections.ConfigDict(dict(
        g_density=0.2,            # d_G: fraction of G's conv-kernel weights kept (Dense/BN/biases stay dense)
        d_density=0.3,            # d_D, the same for D; 1.0 = dense D
        distribution="erk",       # erk | uniform (per-layer densities)
        mode="dynamic_g",         # static | dynamic_g | dynamic_gd (G by gradient + D random) | dynamic_d
        update_every=25,          # Delta_T, in generator steps (official: 500 of 125k / 1000 of 50k; keep <= 2.5 %)
        drop_fraction=0.5,        # p_0 of the cosine schedule
        drop_fraction_end=0.005,
        # True zeroes the Adam moments of regrown weights (RigL); the official STU-GAN code never resets them. A zeroed
        # v with Adam's bias correction by the global step gives a regrown weight first steps of up to
        # (1 - beta1) / sqrt(1 - beta2) x lr (~16 lr at betas 0.5 / 0.999), where kept weights move ~lr.
        reset_optimizer_state=False,
        comparisons="dense,static",  # comma list of dense, prune, and other modes (static, dynamic_gd, ...)
        finetune_steps=0,         # G steps of the "prune" run's finetuning (0 = train.steps)
        prune_step=0,             # the dense run's checkpoint the "prune" run prunes (0 = its last; else a kept step)
        prune_from="",            # a dense run dir to prune instead of this run's "dense" comparison (not trained)
    ))


def preset(c):
    """Turns a baseline config into this method's default run (what `--method=sparse` runs).

    Digits at 32 px, d_G=0.2 / d_D=0.3, dynamic G (Delta_T 25: 2.5 % of training, the ratio of the official runs,
    500 of 125k BigGAN / 1000 of 50k SNGAN), with dense and static-mask comparison runs of the same architecture and
    steps. The baseline DCGAN pair is narrowed (ch 32) and shortened (1000 steps) so that all
    three runs with evaluation and export fit in 15 minutes on 2 CPU cores.
    """
    c.method, c.name = "sparse", "sparse_digits"
    c.model.g.ch = 32
    c.model.d.ch = 32
    c.train.update(steps=1000, ckpt_every=250, sample_every=500)
    c.sparse.update(g_density=0.2, d_density=0.3, distribution="erk", mode="dynamic_g", update_every=25,
                    comparisons="dense,static")
    return c


def smoke(c):
    """The sparse keys of `--smoke`: a mask update every 2 steps."""
    c.sparse.update(update_every=2)
    return c


def checks(cfg):
    """Problems of the sparse section of a `--method=sparse` config."""
    if cfg.method != "sparse":
        return []
    sparse = cfg.sparse
    p = fraction(cfg, ["sparse.g_density", "sparse.d_density"], low_open=True)
    p += fraction(cfg, ["sparse.drop_fraction", "sparse.drop_fraction_end"])
    p += choice(sparse.distribution, "sparse.distribution", ("erk", "uniform"))
    p += choice(sparse.mode, "sparse.mode", SPARSE_MODES)
    p += positive(cfg, ["sparse.update_every"])
    p += non_negative(cfg, {"sparse.finetune_steps": "0 = train.steps", "sparse.prune_step": "0 = the last"})
    names = comma_list(sparse.comparisons)
    if sparse.prune_step > 0 and not sparse.prune_from:
        p += _kept_checkpoint_problems(cfg.train, sparse.prune_step)
    for name in names:
        p += choice(name, "sparse.comparisons item", COMPARISONS)
    if sparse.mode in names:
        p.append(f"sparse.comparisons item {sparse.mode!r} repeats sparse.mode; drop it from the list")
    return p


def _kept_checkpoint_problems(train, step):
    """Why this run's dense comparison would not keep its checkpoint at `step` for the prune run ([] if it does)."""
    if step >= train.steps or step % train.ckpt_every:
        return [f"sparse.prune_step must be a checkpoint step of the dense run below train.steps ({train.steps}), "
                f"i.e. a multiple of train.ckpt_every ({train.ckpt_every}); got {step}"]
    # checkpoints the dense run saves after it: every ckpt_every steps, and at its last step
    newer = (train.steps - step) // train.ckpt_every + (1 if train.steps % train.ckpt_every else 0)
    if newer >= train.keep_checkpoints:
        return [f"the dense run keeps its last train.keep_checkpoints={train.keep_checkpoints} checkpoints, so the "
                f"one at sparse.prune_step={step} is deleted before the prune run starts: set "
                f"train.keep_checkpoints >= {newer + 1}"]
    return []


METHOD = register(Method(
    name="sparse", help="STU-GAN sparse training: ERK masks, prune-and-regrow of G, sparse EMA",
    plan_module="tfgan_eff.sparse.plan", sections={"sparse": section}, preset=preset, smoke=smoke, checks=checks))
