"""The reproduction's scales: how long each method's runs train, with every schedule derived from the steps.

A scale multiplies the presets' step counts by `factor`; every schedule that is a fraction of training keeps its
fraction (STU-GAN's mask update every 2.5 % of the steps, DGL's stage switch, the search's learning-rate halving
round, checkpoints for the FID curves). EMA decays stay: they are averaging horizons, not fractions of training.
"""

import dataclasses

from tfgan_eff.config import presets


@dataclasses.dataclass(frozen=True)
class Scale:
    """A reproduction scale.

    Attributes:
      name: its --scale name (and the results folder's suffix).
      factor: multiple of the presets' step counts (G steps, teacher steps, retraining steps), rounded.
      search_rounds: alphaGAN search rounds (0 = the preset's 30).
      retrain_steps: G steps of the search part's retrainings (derived, random and SNGAN Gs; 0 = factor x the
        preset's 1,200).
      smoke: toy sizes (presets.smoke): a sanity run of the machinery, not a measurement.
      summary: one line for the report's protocol.
    """
    name: str
    factor: float = 1
    search_rounds: int = 0
    retrain_steps: int = 0
    smoke: bool = False
    summary: str = ""


SCALES = {s.name: s for s in (
    Scale("quick", smoke=True, summary="toy sizes (presets.smoke: 16 px, widths <= 8, 4 steps, 32 eval samples)"),
    Scale("short", factor=0.2, search_rounds=6, summary="a fifth of the presets' steps (and 6 search rounds): the "
          "machinery at the presets' model sizes in minutes, not a measurement of the claims"),
    Scale("preset", summary="the methods' presets as `--method=X` runs them (export off)"),
    # 10x the presets' steps; the search runs the paper's 99 rounds (3.3x the preset's 30).
    Scale("long", factor=10, search_rounds=99, summary="10x the presets' steps, every schedule scaled with them"),
)}
CURVE_POINTS = 8  # FID points along every run (checkpoints every steps / CURVE_POINTS)


def get(name):
    """The scale called `name`; a ValueError lists the choices."""
    if name not in SCALES:
        raise ValueError(f"unknown scale {name!r}; choose from {sorted(SCALES)}")
    return SCALES[name]


def method_config(method, seed, scale, curve_points=CURVE_POINTS):
    """The preset of `method` for `seed` at `scale`: steps and step schedules scaled, export off (the benchmark
    measures it), a checkpoint every steps / curve_points kept for the FID curves."""
    cfg = presets.get(method)
    cfg.seed = seed
    if scale.smoke:
        presets.smoke(cfg)
        cfg.search.update(batch_size=8, rounds=2)  # two rounds, so there is a trend to draw
    rounds = scale.search_rounds or cfg.search.rounds
    # The learning-rate halving keeps its fraction of the rounds (the preset: round 10 of 30).
    cfg.search.worst_lr_halve_round = int(round(cfg.search.worst_lr_halve_round * rounds / cfg.search.rounds))
    cfg.search.rounds = rounds

    def scaled(steps):
        return int(round(steps * scale.factor))

    cfg.train.update(steps=scaled(cfg.train.steps), log_every=max(1, scaled(cfg.train.log_every)),
                     ema_start=scaled(cfg.train.ema_start), sample_every=max(1, scaled(cfg.train.sample_every)))
    cfg.dgl.update(teacher_steps=scaled(cfg.dgl.teacher_steps), finetune_steps=scaled(cfg.dgl.finetune_steps))
    if cfg.dgl.switch_step >= 0:  # else switch_fraction, a fraction already
        cfg.dgl.switch_step = scaled(cfg.dgl.switch_step)
    cfg.sparse.update(update_every=max(1, scaled(cfg.sparse.update_every)),
                      finetune_steps=scaled(cfg.sparse.finetune_steps))
    cfg.retrain.steps = scaled(cfg.retrain.steps)
    if method == "search" and scale.retrain_steps:  # every retraining of the part trains for train.steps
        cfg.train.steps, cfg.retrain.steps = scale.retrain_steps, 0
    cfg.export.enabled = False
    set_curve_points(cfg, curve_points)
    return cfg


def set_curve_points(cfg, curve_points):
    """Keeps a checkpoint every train.steps / curve_points steps, each a point of the run's FID curve (eval.curve)."""
    cfg.eval.curve = True
    cfg.train.update(keep_checkpoints=1000, ckpt_every=max(1, (cfg.retrain.steps or cfg.train.steps) // curve_points))


def steps_table(scale):
    """{what: count} of one scale, for the report and the docs."""
    table = {}
    for method in ("dgl", "sparse", "search"):
        cfg = method_config(method, 0, scale)
        if method == "dgl":
            table.update(dgl_teacher_steps=cfg.dgl.teacher_steps or cfg.train.steps, dgl_student_steps=cfg.train.steps,
                         dgl_switch_fraction=cfg.dgl.switch_fraction)
        elif method == "sparse":
            table.update(sparse_steps=cfg.train.steps, sparse_update_every=cfg.sparse.update_every)
        else:
            table.update(search_rounds=cfg.search.rounds, retrain_steps=cfg.retrain.steps or cfg.train.steps)
    return table
