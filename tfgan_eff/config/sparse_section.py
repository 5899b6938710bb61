"""Config keys of STU-GAN (`--method=sparse`), see specs/stugan.md."""

import ml_collections


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
    ))


def preset(c):
    """Turns a baseline config into this method's default run (what `--method=sparse` runs).

    Digits at 32 px, d_G=0.2 / d_D=0.3, dynamic G (Delta_T 25: 2.5 % of training, the ratio of the official runs,
    500 of 125k BigGAN / 1000 of 50k SNGAN), with dense and static-mask comparison runs of the same architecture and
    steps. The baseline DCGAN pair is narrowed (ch 32) and shortened (1000 steps) so that all three runs with
    evaluation and export fit in 15 minutes on 2 CPU cores (measured: 8.3 min on 2 cores shared with other jobs,
    with Delta_T 100).
    """
    c.method, c.name = "sparse", "sparse_digits"
    c.model.g.ch = 32
    c.model.d.ch = 32
    c.train.update(steps=1000, ckpt_every=250, sample_every=500)
    c.sparse.update(g_density=0.2, d_density=0.3, distribution="erk", mode="dynamic_g", update_every=25,
                    comparisons="dense,static")
    return c
