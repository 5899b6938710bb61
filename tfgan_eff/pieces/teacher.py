"""Loads a trained teacher (G_T, D_T) from a train_gan work dir or a checkpoint, or from files (D_T, and optionally
G_T, each a SavedModel directory or a `.keras` file), and freezes D_T for real.

A work-dir teacher is rebuilt from the config its run was trained with (`<workdir>/config.json`) and restored with
`tfgan_eff.training.checkpoint.restore_from`; the EMA generator is the teacher G when the checkpoint has one.
File teachers are read by `teacher_files` and refused unless they fit this run's images (resolution, channels) and
labels (classes). `TeacherSource` loads a run's teacher once, when first needed, and refuses one whose data settings
do not match the student's.
"""

import dataclasses
import functools
import os
from typing import Any

import ml_collections
import tensorflow as tf
from absl import logging

from tfgan_eff.config.schema import config_from_json
from tfgan_eff.files import read_json
from tfgan_eff.models import registry
from tfgan_eff.pieces.keys import (GENERATOR_FILES, TEACHER_SOURCES, missing_teacher, model_file_format,
                                  teacher_exists)
from tfgan_eff.pieces.teacher_files import TeacherError, freeze, load_discriminator_file, load_generator_file
from tfgan_eff.training.checkpoint import CheckpointMismatchError, checkpoints_in, restore_from
from tfgan_eff.training.experiment import SubRunResult
from tfgan_eff.training.loop import count_params


@dataclasses.dataclass
class Teacher:
    """A restored teacher: `generator` (the EMA copy when the checkpoint has one; None for a discriminator file given
    without a generator file) and a frozen `discriminator`."""
    generator: Any  # a Keras generator (or a FileGenerator), or None
    discriminator: Any  # a frozen Keras discriminator (or a FileDiscriminator)
    cfg: ml_collections.ConfigDict
    checkpoint: str
    has_ema: bool


def locate(path, key=""):
    """(checkpoint prefix, config.json path or None) of a teacher given as a work dir, a checkpoint dir or a
    checkpoint prefix; `key` names the config key the path came from in the messages."""
    if not path or not teacher_exists(path):
        raise TeacherError(missing_teacher(path, key))
    path = os.path.abspath(path[:-len(".index")] if path.endswith(".index") else path)
    if os.path.isfile(path) and not os.path.isfile(path + ".index"):
        raise TeacherError(f"teacher {path!r} is a file but neither a checkpoint (ckpt-N with ckpt-N.index beside it) "
                           f"nor a .keras discriminator: pass {TEACHER_SOURCES}")
    if os.path.isdir(os.path.join(path, "checkpoints")):
        ckpt_dir, run_dir = os.path.join(path, "checkpoints"), path
        prefix = next(iter(checkpoints_in(ckpt_dir)), None)
    elif os.path.isdir(path):
        ckpt_dir, run_dir = path, os.path.dirname(path)
        prefix = next(iter(checkpoints_in(ckpt_dir)), None)
    else:
        prefix, run_dir = path, os.path.dirname(os.path.dirname(path))
    if prefix is None:
        raise TeacherError(f"no checkpoint in teacher {path!r} (expected {ckpt_dir}/ckpt-N.index): has its run "
                           "saved one yet?")
    config_path = os.path.join(run_dir, "config.json")
    return prefix, (config_path if os.path.isfile(config_path) else None)


def _has_ema(prefix):
    return any(name.startswith("ema_generator/") for name, _ in tf.train.list_variables(prefix))


def _config(config_path, path, fallback_cfg, num_classes):
    if config_path is not None:
        cfg = config_from_json(read_json(config_path))
    elif fallback_cfg is not None:
        cfg = fallback_cfg.copy_and_resolve_references()
    else:
        raise TeacherError(f"teacher {path!r} has no config.json next to its checkpoints; pass the teacher's run "
                           "work dir instead of a bare checkpoint")
    if cfg.data.conditional and not cfg.data.num_classes:
        cfg.data.num_classes = num_classes
    return cfg


def load_teacher(path, strategy=None, fallback_cfg=None, num_classes=0, key="", generator_path=""):
    """Rebuilds and restores the teacher at `path`; D_T comes back frozen.

    Args:
      path: a train_gan work dir, its checkpoints/ dir, or a checkpoint prefix; or a teacher discriminator alone,
        as a SavedModel directory or a `.keras` file (then `Teacher.generator` is `generator_path`'s G, or None).
      strategy: build the variables in this strategy's scope (the one the student trains under).
      fallback_cfg: the run's config: built with when `path` has no config.json (a bare checkpoint); the images and
        labels a discriminator file must take.
      num_classes: classes of a conditional teacher's data.
      key: the config key `path` came from (e.g. "compress.teacher_workdir"), named in the messages.
      generator_path: with a discriminator file as `path`: the teacher G as a SavedModel directory (e.g. the
        `export/saved_model` that `python -m tfgan_eff.export` writes) or a `.keras` file.

    Raises:
      TeacherError: missing path or checkpoint, a checkpoint that does not match the rebuilt models, or a
        discriminator or generator file that does not fit the run's images or labels.
    """
    strategy = strategy or tf.distribute.get_strategy()
    kind = model_file_format(path) if path else None
    if kind is None and generator_path:
        raise TeacherError(f"teacher generator {generator_path} given with teacher {path!r}, which is not a "
                           "discriminator file: a work dir's teacher G comes from its checkpoint")
    if kind is not None:
        return _file_teacher(path, kind, generator_path, strategy, fallback_cfg, num_classes)
    prefix, config_path = locate(path, key)
    cfg = _config(config_path, path, fallback_cfg, num_classes)
    has_ema = _has_ema(prefix)
    with strategy.scope():
        generator = registry.build_generator(cfg)
        discriminator = registry.build_discriminator(cfg)
        objects = dict(generator=generator, discriminator=discriminator)
        if has_ema:
            objects["ema_generator"] = registry.build_generator(cfg)
    try:
        restore_from(prefix, **objects)
    except (CheckpointMismatchError, ValueError, tf.errors.OpError) as err:
        raise TeacherError(f"teacher checkpoint {prefix} does not match the teacher rebuilt from its config "
                           f"(G {cfg.model.g.arch} ch {cfg.model.g.ch} x {cfg.model.g.width}, D {cfg.model.d.arch} ch "
                           f"{cfg.model.d.ch} x {cfg.model.d.width}, "
                           f"{cfg.data.resolution} px): {str(err).splitlines()[0]}") from err
    logging.info("teacher restored from %s (%s generator)", prefix, "EMA" if has_ema else "raw")
    return Teacher(generator=objects.get("ema_generator", generator), discriminator=freeze(discriminator),
                   cfg=cfg, checkpoint=prefix, has_ema=has_ema)


def _file_teacher(path, kind, generator_path, strategy, fallback_cfg, num_classes):
    """The Teacher of a discriminator file (and a generator file when `generator_path` names one)."""
    if fallback_cfg is None:
        raise TeacherError(f"teacher discriminator {path}: pass the run's config (fallback_cfg) to check it")
    cfg = _config(None, path, fallback_cfg, num_classes)
    discriminator = load_discriminator_file(path, kind, cfg.data, strategy)
    generator = None
    if generator_path:
        g_kind = model_file_format(generator_path)
        if g_kind is None:
            raise TeacherError(f"teacher generator {generator_path!r} is neither a SavedModel dir nor a .keras file: "
                               f"pass {GENERATOR_FILES}")
        generator = load_generator_file(generator_path, g_kind, cfg.data, strategy)
    logging.info("teacher discriminator loaded from %s (%s), generator %s", path, kind, generator_path or "none")
    return Teacher(generator=generator, discriminator=discriminator, cfg=cfg, checkpoint=path, has_ema=False)


def check_compatible(teacher_cfg, cfg):
    """Raises TeacherError (one line) unless the teacher was trained on `cfg`'s image resolution, channels and
    classes (its D could not judge the student's images otherwise)."""
    keys = [("data", "resolution"), ("data", "channels"), ("data", "conditional"), ("data", "num_classes")]
    diffs = [f"{a}.{b}: teacher {teacher_cfg[a][b]!r} vs student {cfg[a][b]!r}" for a, b in keys
             if teacher_cfg[a][b] != cfg[a][b]]
    if diffs:
        raise TeacherError("the teacher's discriminator cannot judge this student's images (" + "; ".join(diffs) +
                           "); train the student on the teacher's data settings")


class TeacherSource:
    """The teacher of a run, loaded once when first needed (after its sub-run trained it, if it is the run's own), in
    the scope of the strategy that is current then, and checked against the run's config."""

    def __init__(self, cfg, path, key="", generator_path=""):
        self.cfg, self.path, self.key = cfg, path, key  # key: the config key that named `path` ("" = the run's own)
        self.generator_path = generator_path  # the teacher G's file beside a discriminator file ("" = none)

    @functools.cached_property
    def teacher(self):
        """The restored teacher, checked against this run's config."""
        teacher = load_teacher(self.path, fallback_cfg=self.cfg, num_classes=self.cfg.data.num_classes, key=self.key,
                               generator_path=self.generator_path)
        check_compatible(teacher.cfg, self.cfg)
        return teacher

    def evaluation_step(self, cfg, path, strategy, data):
        """A sub-run step (training.experiment.SubRun.step): the external teacher's generator, evaluated and
        exported as a run."""
        del path, data
        with strategy.scope():
            teacher = self.teacher
        return SubRunResult(generator=teacher.generator, summary=dict(
            checkpoint=self.generator_path or teacher.checkpoint, steps=cfg.train.steps,
            params=dict(generator=count_params(teacher.generator))))  # a frozen D has no trainable parameters
