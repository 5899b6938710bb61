"""Loads a trained teacher (G_T, D_T) from a train_gan work dir or a checkpoint, or a teacher D alone from a
SavedModel directory or a `.keras` file, and freezes D_T for real.

A work-dir teacher is rebuilt from the config its run was trained with (`<workdir>/config.json`) and restored with
`tfgan_eff.training.checkpoint.restore_from`; the EMA generator is the teacher G when the checkpoint has one.
A file teacher is a discriminator only (no G_T): it is wrapped to be called like this package's discriminators and
refused unless it takes this run's images (resolution, channels) and labels (classes). `TeacherSource` loads a run's
teacher once, when first needed, and refuses one whose data settings do not match the student's.
"""

import dataclasses
import functools
import os
import zipfile
from typing import Any

import keras
import ml_collections
import numpy as np
import tensorflow as tf
from absl import logging

from tfgan_eff.config.schema import config_from_json
from tfgan_eff.errors import UserError
from tfgan_eff.files import read_json
from tfgan_eff.models import registry
from tfgan_eff.models.base import Discriminator
from tfgan_eff.pieces.keys import TEACHER_SOURCES, discriminator_format, missing_teacher, teacher_exists
from tfgan_eff.training.checkpoint import CheckpointMismatchError, checkpoints_in, restore_from
from tfgan_eff.training.experiment import SubRunResult
from tfgan_eff.training.loop import count_params


class TeacherError(UserError, ValueError):
    """The teacher path holds no usable teacher, or its checkpoint does not match the rebuilt models."""


@dataclasses.dataclass
class Teacher:
    """A restored teacher: `generator` (the EMA copy when the checkpoint has one; None for a discriminator file) and a
    frozen `discriminator`."""
    generator: Any  # a Keras generator, or None
    discriminator: Any  # a frozen Keras discriminator (or a FileDiscriminator)
    cfg: ml_collections.ConfigDict
    checkpoint: str
    has_ema: bool


def freeze(model):
    """Makes every variable of `model` non-trainable (so no optimizer or tape picks it up); returns `model`.

    Callers must also call it with training=False: that keeps BN statistics and spectral-norm vectors fixed.
    """
    model.trainable = False
    return model


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


class FileDiscriminator(keras.layers.Layer):
    """A discriminator loaded from a file, called like this package's: (images, labels=None, training) -> logits [B].

    `fn` takes a dict {input key: tensor} and returns the logits ([B] or [B, 1]); `image_key` / `label_key` say which
    input is which (label_key None: unconditional). It always runs in inference mode.
    """

    def __init__(self, fn, image_key, label_key, model=None, saved_model=None, **kwargs):
        super().__init__(**kwargs)
        self.fn, self.image_key, self.label_key = fn, image_key, label_key
        self.model = model  # the Keras model behind fn (tracked, so freezing it freezes its weights), or None
        self.saved_model = saved_model  # the restored SavedModel behind fn (kept alive with the layer), or None

    def call(self, images, labels=None, training=False):
        del training  # a teacher is only ever evaluated
        inputs = {self.image_key: tf.cast(images, tf.float32)}
        if self.label_key is not None:
            inputs[self.label_key] = tf.cast(labels, tf.int32)
        return tf.reshape(tf.cast(self.fn(inputs), tf.float32), [-1])


def _keras_discriminator(path):
    """(FileDiscriminator, {input name: (shape, dtype)}, rows of its label embeddings) of a `.keras` file."""
    try:
        model = keras.saving.load_model(path, compile=False)
    except (ValueError, OSError, KeyError, TypeError, zipfile.BadZipFile) as err:  # empty, damaged or foreign
        raise TeacherError(f"teacher discriminator {path} is not a readable .keras model ({_first_line(err)}): "
                           "pass a file written by model.save(path) with path ending in .keras") from err
    if isinstance(model, Discriminator):  # this package's own D, saved whole: called with its own signature
        return _package_discriminator(model)
    if not getattr(model, "inputs", None):
        raise TeacherError(f"teacher discriminator {path} is a subclassed model with no declared inputs: save a "
                           "functional or Sequential model, or export a SavedModel with model.export(path)")
    specs = {t.name: (tuple(t.shape), str(t.dtype)) for t in model.inputs}
    image_key, label_key = _input_keys(specs, path)
    if label_key is None:
        fn = lambda inputs: model(inputs[image_key], training=False)  # noqa: E731
    else:
        fn = lambda inputs: model([inputs[t.name] for t in model.inputs], training=False)  # noqa: E731
    classes = [layer.input_dim for layer in model._flatten_layers()  # pylint: disable=protected-access
               if isinstance(layer, keras.layers.Embedding)]
    return FileDiscriminator(fn, image_key, label_key, model=model), specs, classes


def _package_discriminator(model):
    """(FileDiscriminator, input specs, rows of its label embeddings) of a tfgan_eff Discriminator."""
    specs = {"images": ((None, model.resolution, model.resolution, model.channels), "float32")}
    if model.num_classes:
        specs["labels"] = ((None,), "int32")
    fn = lambda inputs: model(inputs["images"], inputs.get("labels"), training=False)  # noqa: E731
    return (FileDiscriminator(fn, "images", "labels" if model.num_classes else None, model=model), specs,
            [model.num_classes] if model.num_classes else [])


def _first_line(err):
    return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"


def _saved_model_discriminator(path):
    """(FileDiscriminator, {input name: (shape, dtype)}, rows of its label embeddings) of a SavedModel's serving
    signature."""
    try:
        loaded = tf.saved_model.load(path)
    except (OSError, ValueError, tf.errors.OpError) as err:  # a damaged or foreign saved_model.pb
        raise TeacherError(f"teacher discriminator {path} is not a readable SavedModel ({_first_line(err)}): export "
                           "it with model.export(path)") from err
    names = [n for n in ("serving_default", "serve") if n in loaded.signatures]
    if not names:
        raise TeacherError(f"teacher discriminator {path} has no serving_default or serve signature "
                           f"(it has {sorted(loaded.signatures)}); export it with model.export(path)")
    signature = loaded.signatures[names[0]]
    specs = {k: (tuple(v.shape), v.dtype.name) for k, v in signature.structured_input_signature[1].items()}
    image_key, label_key = _input_keys(specs, path)
    outputs = list(signature.structured_outputs)
    if len(outputs) != 1:
        raise TeacherError(f"teacher discriminator {path} must have one output (the logits), it has {outputs}")

    def fn(inputs):
        return signature(**inputs)[outputs[0]]

    layer = FileDiscriminator(fn, image_key, label_key, saved_model=loaded)
    # Keras names an Embedding's table "embeddings": its rows are the classes a projection D knows.
    return layer, specs, [int(v.shape[0]) for v in signature.variables if "embeddings" in v.name]


def _input_keys(specs, path):
    """(image key, label key or None): the image input is the rank-4 one; at most one other (the labels)."""
    images = [k for k, (shape, _) in specs.items() if len(shape) == 4]
    others = [k for k in specs if k not in images]
    if len(images) != 1 or len(others) > 1:
        raise TeacherError(f"teacher discriminator {path} must take images [B, H, W, C] and optionally integer "
                           f"labels [B]; it takes {_describe(specs)}")
    return images[0], (others[0] if others else None)


def _describe(specs):
    return ", ".join(f"{k}: {list(shape)} {dtype}" for k, (shape, dtype) in specs.items())


def _load_discriminator_file(path, kind, cfg, strategy):
    """The frozen FileDiscriminator at `path`, refused unless it takes `cfg`'s images and labels."""
    r, c = cfg.data.resolution, cfg.data.channels
    k = cfg.data.num_classes if cfg.data.conditional else 0
    want = f"{r}x{r}x{c} images" + (f" and int labels of {k} classes" if k else " and no labels")

    def refuse(got):
        raise TeacherError(f"teacher discriminator {path} does not fit this run: it takes {got}; expected {want}")

    with strategy.scope():
        layer, specs, classes = (_keras_discriminator if kind == "keras" else _saved_model_discriminator)(path)
    shape = specs[layer.image_key][0]
    if any(got is not None and got != need for got, need in zip(shape[1:], (r, r, c))) or \
            (layer.label_key is not None) != bool(k):
        refuse(_describe(specs))
    if k and classes and classes != [k] * len(classes):
        refuse(f"label embeddings of {sorted(set(classes))} classes")
    images = np.zeros((2, r, r, c), np.float32)
    cannot = "inputs it cannot evaluate"
    # Then the last class id: a D with fewer classes fails its label lookup.
    probes = [(np.zeros(2, np.int32), cannot), (np.full(2, k - 1, np.int32), f"fewer classes (label {k - 1} fails)")
              ] if k else [(None, cannot)]
    for labels, what in probes:
        try:
            logits = layer.call(images, labels)
        except (ValueError, TypeError, tf.errors.OpError):
            refuse(what)
    if tuple(logits.shape) != (2,):
        refuse(f"outputs of shape {list(logits.shape)} for 2 images (want one logit each)")
    return freeze(layer)


def load_teacher(path, strategy=None, fallback_cfg=None, num_classes=0, key=""):
    """Rebuilds and restores the teacher at `path`; D_T comes back frozen.

    Args:
      path: a train_gan work dir, its checkpoints/ dir, or a checkpoint prefix; or a teacher discriminator alone,
        as a SavedModel directory or a `.keras` file (then `Teacher.generator` is None).
      strategy: build the variables in this strategy's scope (the one the student trains under).
      fallback_cfg: the run's config: built with when `path` has no config.json (a bare checkpoint); the images and
        labels a discriminator file must take.
      num_classes: classes of a conditional teacher's data.
      key: the config key `path` came from (e.g. "compress.teacher_workdir"), named in the messages.

    Raises:
      TeacherError: missing path or checkpoint, a checkpoint that does not match the rebuilt models, or a
        discriminator file that does not take the run's images or labels.
    """
    strategy = strategy or tf.distribute.get_strategy()
    kind = discriminator_format(path) if path else None
    if kind is not None:
        if fallback_cfg is None:
            raise TeacherError(f"teacher discriminator {path}: pass the run's config (fallback_cfg) to check it")
        cfg = _config(None, path, fallback_cfg, num_classes)
        discriminator = _load_discriminator_file(path, kind, cfg, strategy)
        logging.info("teacher discriminator loaded from %s (%s, no teacher generator)", path, kind)
        return Teacher(generator=None, discriminator=discriminator, cfg=cfg, checkpoint=path, has_ema=False)
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

    def __init__(self, cfg, path, key=""):
        self.cfg, self.path, self.key = cfg, path, key  # key: the config key that named `path` ("" = the run's own)

    @functools.cached_property
    def teacher(self):
        """The restored teacher, checked against this run's config."""
        teacher = load_teacher(self.path, fallback_cfg=self.cfg, num_classes=self.cfg.data.num_classes, key=self.key)
        check_compatible(teacher.cfg, self.cfg)
        return teacher

    def evaluation_step(self, cfg, path, strategy, data):
        """A sub-run step (training.experiment.SubRun.step): the external teacher's generator, evaluated and
        exported as a run."""
        del path, data
        with strategy.scope():
            teacher = self.teacher
        return SubRunResult(generator=teacher.generator, summary=dict(
            checkpoint=teacher.checkpoint, steps=cfg.train.steps,
            params=dict(generator=count_params(teacher.generator), discriminator=count_params(teacher.discriminator))))
