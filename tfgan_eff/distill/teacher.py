"""Loads a trained teacher (G_T, D_T) from a train_gan work dir or a checkpoint, and freezes D_T for real.

A teacher is rebuilt from the config its run was trained with (`<workdir>/config.json`) and restored with
`tfgan_eff.training.checkpoint.restore_from`; the EMA generator is the teacher G when the checkpoint has one.
"""

import dataclasses
import os

import ml_collections
import tensorflow as tf
from absl import logging

from tfgan_eff.config.schema import config_from_json
from tfgan_eff.errors import UserError
from tfgan_eff.models import registry
from tfgan_eff.training.checkpoint import CheckpointMismatchError, checkpoints_in, restore_from
from tfgan_eff.training.workdir import read_json


class TeacherError(UserError, ValueError):
    """The teacher path holds no usable teacher, or its checkpoint does not match the rebuilt models."""


@dataclasses.dataclass
class Teacher:
    """A restored teacher: `generator` (the EMA copy when the checkpoint has one) and a frozen `discriminator`."""
    generator: object
    discriminator: object
    cfg: ml_collections.ConfigDict
    checkpoint: str
    has_ema: bool


def freeze(model):
    """Makes every variable of `model` non-trainable (so no optimizer or tape picks it up); returns `model`.

    Callers must also call it with training=False: that keeps BN statistics and spectral-norm vectors fixed.
    """
    model.trainable = False
    return model


def locate(path):
    """(checkpoint prefix, config.json path or None) of a teacher given as a work dir, a checkpoint dir or a
    checkpoint prefix."""
    if not path or not (os.path.exists(path) or os.path.exists(path + ".index")):
        raise TeacherError(f"teacher {path!r} does not exist: pass --config.dgl.teacher_workdir=DIR with a work dir "
                           "written by train_gan (config.json + checkpoints/) or a checkpoint path, or leave it empty "
                           "to train a teacher first")
    path = os.path.abspath(path[:-len(".index")] if path.endswith(".index") else path)
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


def teacher_config(path, fallback_cfg=None, num_classes=0):
    """The config the teacher at `path` was trained with (its run's config.json), else a copy of `fallback_cfg`.

    `num_classes` fills data.num_classes of a conditional teacher (config.json is written before the data sets it).
    """
    return _config(locate(path)[1], path, fallback_cfg, num_classes)


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


def load_teacher(path, strategy=None, fallback_cfg=None, num_classes=0):
    """Rebuilds and restores the teacher at `path`; D_T comes back frozen.

    Args:
      path: a train_gan work dir, its checkpoints/ dir, or a checkpoint prefix.
      strategy: build the variables in this strategy's scope (the one the student trains under).
      fallback_cfg: the config to build with when `path` has no config.json (a bare checkpoint).
      num_classes: classes of a conditional teacher's data.

    Raises:
      TeacherError: missing path or checkpoint, or a checkpoint that does not match the rebuilt models.
    """
    prefix, config_path = locate(path)
    cfg = _config(config_path, path, fallback_cfg, num_classes)
    has_ema = _has_ema(prefix)
    strategy = strategy or tf.distribute.get_strategy()
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
