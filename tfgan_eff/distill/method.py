"""Registers DGL-GAN (`--method=dgl`): its config section, preset, smoke shrink and checks.

The sub-runs (teacher, stage 1, stage 2, baselines) are in distill/plan.py.
"""

import ml_collections

from tfgan_eff.config.checks import choice, non_negative
from tfgan_eff.config.registry import Method, register
from tfgan_eff.lists import comma_list
from tfgan_eff.pieces.keys import model_file_format, switch_step, teacher_problems

BASELINES = ("plain", "l1", "boost", "from_step_0", "full_width")


def section():
    """DGL-GAN keys: teacher source, student widths, lambda and the stage switch."""
    return ml_collections.ConfigDict(dict(
        # Trained teacher: a train_gan work dir (or checkpoint), or a teacher D alone as a SavedModel dir or .keras
        # file (no G_T: no teacher row, no l1 baseline); empty = train one in <workdir>/teacher.
        teacher_workdir="",
        teacher_steps=0,          # steps of the teacher run trained here (0 = train.steps)
        student_g_width=0.5,      # student G width relative to the teacher's
        student_d_width=1.0,      # student D width relative to the teacher's
        lambda_teacher=0.1,
        switch_fraction=0.5,      # stage 2 starts at this fraction of train.steps ...
        switch_step=-1,           # ... or at this step when >= 0
        # > 0: the fine-tune schedule instead: the student trains all train.steps as stage 1, then stage 2 (and each
        # baseline, e.g. plain) continues from that checkpoint for this many more steps; switch_* are then unused.
        finetune_steps=0,
        teacher_diffaug=False,    # True: D_T judges the DiffAugment-ed fake D_S saw (the official code: un-augmented)
        # comma list of plain, l1, boost (full-width G, official StyleGAN2 boost term), from_step_0 (DGL without
        # stage 1), full_width (DGL and plain with the teacher's widths)
        baselines="plain",
        l1_weight=1.0,            # weight of the L1 output-distillation baseline
    ))


def preset(c):
    """Turns a baseline config into this method's default run (what `--method=dgl` runs).

    Sized for <= 15 min on 2 CPU cores end to end (teacher + student stage 1 + DGL stage 2 + plain baseline,
    evaluation, export): a DCGAN teacher at ch 48 trained 2000 steps (at 1200 steps it is still blurry), and a
    half-width student G (ch 24) against a full-width D_S. Stage 2 starts at a quarter of training: switching at half
    and larger lambdas measured worse (docs/methods/dgl.md has the numbers).
    """
    c.method, c.name = "dgl", "dgl_digits"
    c.model.g.ch = 48
    c.model.d.ch = 48
    c.train.steps = 2000
    c.dgl.update(teacher_steps=2000, student_g_width=0.5, student_d_width=1.0, lambda_teacher=0.1,
                 switch_fraction=0.25, switch_step=-1, baselines="plain")
    return c


def smoke(c):
    """The DGL keys of `--smoke`: a 4-step teacher, stage 2 from step 2."""
    c.dgl.update(teacher_steps=4, switch_step=2)
    return c


def stages(cfg):
    """(first step of stage 2, last step of the students). Within train.steps: stage 2 from dgl.switch_step when
    >= 0, else from round(dgl.switch_fraction * train.steps). Fine-tune schedule (dgl.finetune_steps > 0): from
    train.steps to train.steps + dgl.finetune_steps."""
    if cfg.dgl.finetune_steps:
        return cfg.train.steps, cfg.train.steps + cfg.dgl.finetune_steps
    return switch_step(cfg.train.steps, cfg.dgl.switch_fraction, cfg.dgl.switch_step), cfg.train.steps


def checks(cfg):
    """Problems of the dgl section of a `--method=dgl` config."""
    if cfg.method != "dgl":
        return []
    dgl = cfg.dgl
    p = teacher_problems(dgl.teacher_workdir, "dgl.teacher_workdir")
    if not 0 < dgl.student_g_width <= 1 or not 0 < dgl.student_d_width <= 1:
        p.append("dgl.student_g_width and dgl.student_d_width must be in (0, 1]")
    p += non_negative(cfg, {"dgl.lambda_teacher": "", "dgl.l1_weight": "", "dgl.teacher_steps": "0 = train.steps",
                            "dgl.finetune_steps": "0 = switch within train.steps"})
    if not 0 <= dgl.switch_fraction < 1:
        p.append(f"dgl.switch_fraction must be in [0, 1), got {dgl.switch_fraction}")
    if dgl.switch_step >= cfg.train.steps and not dgl.finetune_steps:
        p.append(f"dgl.switch_step={dgl.switch_step} must be < train.steps={cfg.train.steps}")
    for name in comma_list(dgl.baselines):
        p += choice(name, "dgl.baselines item", BASELINES)
    if "l1" in comma_list(dgl.baselines) and dgl.teacher_workdir and model_file_format(dgl.teacher_workdir):
        p.append(f"dgl.baselines item 'l1' needs a teacher generator, but dgl.teacher_workdir "
                 f"{dgl.teacher_workdir!r} is a discriminator file; drop l1 or pass the teacher's work dir")
    return p


METHOD = register(Method(
    name="dgl", help="DGL-GAN compression: a narrow student G trained against its own D and a frozen teacher D",
    plan_module="tfgan_eff.distill.plan", sections={"dgl": section}, preset=preset, smoke=smoke, checks=checks))
