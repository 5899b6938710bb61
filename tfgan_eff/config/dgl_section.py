"""Config keys of DGL-GAN (`--method=dgl`), see specs/dgl.md."""

import ml_collections


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
        teacher_diffaug=False,    # True: D_T judges the DiffAugment-ed fake D_S saw (the official code: un-augmented)
        baselines="plain",        # comma list of plain, l1, boost (full-width G, official StyleGAN2 boost term)
        l1_weight=1.0,            # weight of the L1 output-distillation baseline
    ))


def preset(c):
    """Turns a baseline config into this method's default run (what `--method=dgl` runs).

    Sized for <= 15 min on 2 CPU cores end to end (teacher + student stage 1 + DGL stage 2 + plain baseline,
    evaluation, export; ~750 CPU-seconds): a DCGAN teacher at ch 48 trained 2000 steps (FID ~11 on the offline
    digits classifier, recognisable digits; at 1200 steps it is still ~21 and blurry), and a half-width student G
    (ch 24) against a full-width D_S. Stage 2 starts at step 500 of 2000: over 3 seeds that gave DGL 14.0 +- 0.2 vs
    plain 15.2 +- 0.8 FID, while switching at step 1000 gave no measurable gain (15.1 vs 15.3); lambda 0.5 and 1.0
    were worse (17.4, 37.2).
    """
    c.method, c.name = "dgl", "dgl_digits"
    c.model.g.ch = 48
    c.model.d.ch = 48
    c.train.steps = 2000
    c.dgl.update(teacher_steps=2000, student_g_width=0.5, student_d_width=1.0, lambda_teacher=0.1,
                 switch_fraction=0.25, switch_step=-1, baselines="plain")
    return c
