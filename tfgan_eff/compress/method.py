"""Registers compression (`--method=compress`): its config section, preset, smoke shrink and checks.

The sub-runs (teacher, each student's stage 1 and teacher-guided stage 2, export) and the table are in
compress/plan.py.
"""

import os

import ml_collections

from tfgan_eff.config.checks import choice, fraction, non_negative
from tfgan_eff.config.registry import Method, methods, register
from tfgan_eff.lists import comma_list
from tfgan_eff.pieces.keys import GENERATOR_FILES, SPARSE_MODES, model_file_format, teacher_problems

EXPORT_MODES = "float32,dynamic_int8,full_int8"
STUDENT_INITS = ("scratch", "teacher")
GENOTYPE_ARCH = "genotype"  # model.g.arch of the compress.genotype student (a generator --method=search registers)


def section():
    """Compression keys: teacher source, the student variants, sparsity and the teacher guidance."""
    return ml_collections.ConfigDict(dict(
        # Trained teacher: a train_gan work dir (or checkpoint), or a teacher D as a SavedModel dir or .keras file;
        # empty = train one in <workdir>/teacher.
        teacher_workdir="",
        # With a teacher D file: the teacher G as a SavedModel dir (RUN_DIR/export/saved_model) or .keras file, for
        # the teacher row and student_init='teacher'; empty = no teacher row.
        teacher_generator="",
        teacher_steps=0,          # steps of the teacher run trained here (0 = train.steps)
        g_widths="0.25",          # comma list: one student per G width relative to the teacher's G
        genotype="",              # and one more student: a genotype JSON written by --method=search (or a published
        #                           name); its channels are model.g.ch x model.g.width
        d_width=1.0,              # the students' own D width relative to the teacher's D
        student_init="teacher",   # teacher: the g<width> students start from the teacher G's channels with the
        #                           largest BN |gamma| (a DCGAN G; the genotype student starts from random weights);
        #                           scratch: from random weights
        g_density=1.0,            # < 1: sparse student G (STU-GAN masks; sparse.distribution / update_every /
        d_density=1.0,            # drop_fraction(_end) / reset_optimizer_state apply as in --method=sparse)
        sparse_mode="dynamic_g",  # static | dynamic_g | dynamic_gd | dynamic_d (when a density is < 1)
        lambda_teacher=0.1,       # DGL-GAN's weight of the frozen teacher D's term in stage 2
        switch_fraction=0.25,     # stage 2 starts at this fraction of train.steps ...
        switch_step=-1,           # ... or at this step when >= 0
        teacher_diffaug=False,    # True: D_T judges the DiffAugment-ed fake D_S saw
    ))


def preset(c):
    """Turns a baseline config into this method's default run (what `--method=compress` runs): the DGL preset's
    teacher (DCGAN ch 48, 2000 steps) and a quarter-width student started from the teacher G's channels, through both
    stages, exported in all three modes (its measured costs and FIDs: docs/methods/compress.md)."""
    c.method, c.name = "compress", "compress_digits"
    c.model.g.ch = 48
    c.model.d.ch = 48
    c.train.steps = 2000
    c.export.modes = EXPORT_MODES
    c.compress.update(teacher_steps=2000, g_widths="0.25", student_init="teacher", d_width=1.0, lambda_teacher=0.1,
                      switch_fraction=0.25, switch_step=-1)
    return c


def smoke(c):
    """The compression keys of `--smoke`: a 4-step teacher, stage 2 from step 2, every export mode (tiny models
    convert in seconds), a sparse-student mask update every 2 steps."""
    c.compress.update(teacher_steps=4, switch_step=2)
    if c.method == "compress":
        c.export.modes = EXPORT_MODES
    return c


def widths(cfg):
    """The student G widths as floats."""
    return [float(w) for w in comma_list(cfg.compress.g_widths)]


def genotype_problems(cfg):
    """Problems of the compress.genotype student: the checks of the method that registers its G architecture, run on
    the student's model.g (they refuse a genotype that is neither a JSON file nor a published name)."""
    if not cfg.compress.genotype:
        return []
    student = cfg.copy_and_resolve_references()
    student.model.g.update(arch=GENOTYPE_ARCH, genotype=cfg.compress.genotype)
    p = []
    for owner in (m for m in methods() if GENOTYPE_ARCH in m.generators):
        reported = set(owner.checks(cfg))  # already listed by validate (a genotype teacher)
        p += [f"compress.genotype student: {x}" for x in owner.checks(student) if x not in reported]
    return p


def inherit_problems(cfg):
    """Problems of compress.student_init='teacher' that the config shows: a teacher without G or with a G whose
    channels cannot be read, a G that is not a plain DCGAN (an external teacher's own G is checked when it loads)."""
    p = []
    comp = cfg.compress
    if model_file_format(comp.teacher_workdir) and not comp.teacher_generator:
        p.append("compress.student_init='teacher' needs the teacher's G, but compress.teacher_workdir is a "
                 "discriminator file: pass --config.compress.teacher_generator=G.keras, a train_gan work dir or "
                 "checkpoint as the teacher, or --config.compress.student_init=scratch")
    if model_file_format(comp.teacher_generator) == "saved_model":
        p.append("compress.student_init='teacher' reads the teacher G's channels, which a SavedModel does not "
                 "keep: pass the G as a .keras file (generator.save('g.keras')) or "
                 "--config.compress.student_init=scratch")
    if cfg.model.g.arch != "dcgan" or cfg.model.g.spectral_norm:
        p.append("compress.student_init='teacher' inherits channels of a DCGAN G without spectral norm, got "
                 f"model.g.arch={cfg.model.g.arch!r}, model.g.spectral_norm={cfg.model.g.spectral_norm}: pass "
                 "--config.compress.student_init=scratch")
    return p


def teacher_generator_problems(comp):
    """Problems of compress.teacher_generator: it goes with a teacher D file and names a SavedModel or .keras file."""
    path = comp.teacher_generator
    if not path:
        return []
    if not os.path.exists(path):
        return [f"compress.teacher_generator {path!r} does not exist: pass {GENERATOR_FILES}"]
    if not model_file_format(path):
        return [f"compress.teacher_generator {path!r} is neither a SavedModel dir nor a .keras file: pass "
                f"{GENERATOR_FILES}"]
    if not model_file_format(comp.teacher_workdir):
        return ["compress.teacher_generator goes with a teacher D file as compress.teacher_workdir (a work dir's "
                "teacher G comes from its checkpoint): pass the D as a SavedModel dir or .keras file, or drop "
                "compress.teacher_generator"]
    return []


def checks(cfg):
    """Problems of the compress section of a `--method=compress` config."""
    if cfg.method != "compress":
        return []
    comp = cfg.compress
    p = teacher_problems(comp.teacher_workdir, "compress.teacher_workdir") + teacher_generator_problems(comp)
    try:
        ws = widths(cfg)
    except ValueError:
        ws = None
        p.append(f"compress.g_widths must be a comma list of numbers in (0, 1], got {comp.g_widths!r}")
    if ws is not None and not all(0 < w <= 1 for w in ws):
        p.append(f"compress.g_widths must be in (0, 1], got {comp.g_widths!r}")
    if ws == [] and not comp.genotype:
        p.append("compress asks for no student: set compress.g_widths or compress.genotype")
    if not 0 < comp.d_width <= 1:
        p.append(f"compress.d_width must be in (0, 1], got {comp.d_width}")
    p += choice(comp.student_init, "compress.student_init", STUDENT_INITS)
    if comp.student_init == "teacher":
        p += inherit_problems(cfg)
    p += fraction(cfg, ["compress.g_density", "compress.d_density"], low_open=True)
    p += choice(comp.sparse_mode, "compress.sparse_mode", SPARSE_MODES)
    p += non_negative(cfg, {"compress.lambda_teacher": "", "compress.teacher_steps": "0 = train.steps"})
    if not 0 <= comp.switch_fraction < 1:
        p.append(f"compress.switch_fraction must be in [0, 1), got {comp.switch_fraction}")
    if comp.switch_step >= cfg.train.steps:
        p.append(f"compress.switch_step={comp.switch_step} must be < train.steps={cfg.train.steps}")
    for explores, key in ((("dynamic_g", "dynamic_gd"), "g_density"), (("dynamic_gd", "dynamic_d"), "d_density")):
        sparse = comp.g_density < 1 or comp.d_density < 1
        if sparse and comp.sparse_mode in explores and comp[key] >= 1:
            p.append(f"compress.sparse_mode={comp.sparse_mode!r} explores a dense network: set compress.{key} < 1 "
                     "or pick another mode")
    return p + genotype_problems(cfg)


METHOD = register(Method(
    name="compress",
    help="a trained GAN -> a small on-device generator: narrow or genotype student, optionally sparse, DGL-guided "
         "by the frozen teacher D, exported to float32 / int8 and verified in LiteRT",
    plan_module="tfgan_eff.compress.plan", sections={"compress": section}, preset=preset, smoke=smoke, checks=checks))
