"""What method registrations need from the pieces without loading TensorFlow (`import tfgan_eff` stays
TensorFlow-free): the sparse modes, the teacher terms, what a teacher path names and the message for a missing one,
when stage 2 starts."""

import os

# How the masks change during training (see sparse_weights.SparseWeights).
SPARSE_MODES = ("static", "dynamic_g", "dynamic_gd", "dynamic_d")
# Teacher terms of guidance.TeacherGuidance: DGL-GAN's D_T term, the official StyleGAN2 boost term, L1 to G_T.
TEACHER_TERMS = ("dgl", "boost", "l1")
# What a teacher path may name (teacher.load_teacher reads each).
TEACHER_SOURCES = ("a work dir written by `python -m tfgan_eff.train` (config.json + checkpoints/), a checkpoint "
                   "prefix (.../checkpoints/ckpt-N), or a teacher discriminator as a SavedModel dir or a .keras file")

# What a teacher G given as a file may be (teacher_files.load_generator_file reads each).
GENERATOR_FILES = ("a SavedModel dir such as RUN_DIR/export/saved_model (python -m tfgan_eff.export writes it) "
                   "or a .keras file written by generator.save(path)")


def teacher_exists(path):
    """Whether a teacher path names something: a file or dir, or a checkpoint prefix (its .index exists)."""
    return os.path.exists(path) or os.path.exists(path + ".index")


def missing_teacher(path, key=""):
    """The one-line message for a teacher path that names nothing; `key` is the config key the path came from (e.g.
    "dgl.teacher_workdir"), empty when the path was passed directly."""
    if not key:
        return f"teacher {path!r} does not exist: pass {TEACHER_SOURCES}"
    return (f"{key} {path!r} does not exist: pass --config.{key}=PATH, PATH being {TEACHER_SOURCES}; or omit it to "
            "train a teacher")


def teacher_problems(path, key):
    """[problem] of a method's teacher key `key` holding `path` (empty = the method trains its own teacher)."""
    return [missing_teacher(path, key)] if path and not teacher_exists(path) else []


def model_file_format(path):
    """"keras" for a `.keras` file, "saved_model" for a SavedModel directory, else None (a work dir or checkpoint):
    how a teacher G or D given as a file is read."""
    if path.endswith(".keras") and os.path.isfile(path):
        return "keras"
    return "saved_model" if os.path.isfile(os.path.join(path, "saved_model.pb")) else None


def switch_step(steps, switch_fraction, switch_at):
    """The first step of a two-stage run's second stage: `switch_at` when >= 0, else round(switch_fraction *
    steps)."""
    return int(switch_at) if switch_at >= 0 else int(round(switch_fraction * steps))
