"""Loading a trained generator for sampling: from a work dir (EMA weights) or an exported SavedModel."""

import numbers
import os

import numpy as np
import tensorflow as tf

from tfgan_eff.config import validate
from tfgan_eff.config.schema import config_from_json
from tfgan_eff.data.pipeline import to_uint8
from tfgan_eff.errors import UserError
from tfgan_eff.export.saved_model import read_export_metadata
from tfgan_eff.files import read_json
from tfgan_eff.models import registry
from tfgan_eff.training.checkpoint import restore_from

SAMPLE_BATCH = 256  # images generated per call in GeneratorSampler.sample


class RunNotFoundError(UserError, FileNotFoundError):
    """A path is not a training run, or its summary.json points outside it."""


def _strictly_inside(path, root):
    real_path, real_root = os.path.realpath(path), os.path.realpath(root)
    return real_path != real_root and os.path.commonpath([real_path, real_root]) == real_root


def find_run_dir(path):
    """The training run under `path`: itself when it has config.json + checkpoints/, else the run named by its
    summary.json's `generator_workdir` (dgl, sparse and search point at their main run). Only a generator_workdir
    inside `path` is followed (symlinks resolved), so a summary.json cannot send readers or writers elsewhere."""
    path = os.fspath(path)
    if os.path.isfile(os.path.join(path, "config.json")) and os.path.isdir(os.path.join(path, "checkpoints")):
        return path
    summary_path = os.path.join(path, "summary.json")
    if os.path.isfile(summary_path):
        try:
            target = read_json(summary_path).get("generator_workdir")
        except (ValueError, AttributeError) as err:
            raise RunNotFoundError(f"{summary_path} is not a JSON object ({err}); rerun the training command to "
                                   "rewrite it") from err
        if target:
            resolved = os.path.join(path, os.fspath(target))  # an absolute target replaces `path`
            if not _strictly_inside(resolved, path):
                raise RunNotFoundError(f"{summary_path} names generator_workdir {target!r}, which is not inside "
                                       f"{path}: only runs inside the work dir are followed")
            return find_run_dir(resolved)
    raise RunNotFoundError(f"{path} is neither a work dir (config.json + checkpoints/), a method work dir whose "
                           "summary.json names generator_workdir, nor a SavedModel")


def _run_config(run_dir):
    """The run's config from its config.json, checked before a generator is built from it."""
    path = os.path.join(run_dir, "config.json")
    try:
        values = read_json(path)
    except OSError as err:
        raise RunNotFoundError(f"cannot read {path}: {err}") from err
    try:
        cfg = config_from_json(values)
        problems = validate.generator_problems(cfg)
    except (ValueError, TypeError, AttributeError) as err:  # not JSON, or a value of the wrong type
        problems = [f"{type(err).__name__}: {err}"]
    if problems:
        raise validate.ConfigError(f"{path} cannot build a generator:\n  - " + "\n  - ".join(problems))
    return cfg


def restore_generator(path, use_ema=True):
    """(Keras generator with the run's latest readable weights, run config) from a work dir or a checkpoint prefix.

    Training's restore path: the newest readable checkpoint file, whatever the index file says."""
    path = os.fspath(path)
    checkpoint_path = path
    if not os.path.isdir(path):  # a checkpoint prefix: <run>/checkpoints/ckpt-N
        run_dir = os.path.dirname(os.path.dirname(path))
    else:
        run_dir = find_run_dir(path)
        checkpoint_path = os.path.join(run_dir, "checkpoints")
    cfg = _run_config(run_dir)
    cfg.train.precision = "float32"  # serve in float32: variables are float32 whatever the run trained in
    generator = registry.build_generator(cfg)
    name = "ema_generator" if use_ema and cfg.train.ema_decay > 0 else "generator"
    restore_from(checkpoint_path, **{name: generator})
    return generator, cfg


class GeneratorSampler:
    """`.sample(n, seed=0, labels=None)` -> uint8 images [n, H, W, C] from a Keras generator or a SavedModel."""

    def __init__(self, fn, latent_dim, num_classes, resolution, channels):
        self._fn = fn
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.resolution, self.channels = resolution, channels

    def generate(self, z, labels=None):
        """Float images in [-1, 1] for explicit z (and labels)."""
        return np.asarray(self._fn(np.asarray(z, np.float32), labels))

    def sample(self, n, seed=0, labels=None, batch_size=SAMPLE_BATCH):
        """n uint8 images [n, H, W, C] from z ~ N(0, 1) drawn with `seed` (labels drawn too when conditional and not
        given). n = 0 gives an empty array; n is generated `batch_size` images at a time, each batch's z (then
        labels) drawn in turn from one generator seeded with `seed`, so memory stays bounded for any n."""
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if labels is not None:
            if not self.num_classes:
                raise ValueError("this generator is unconditional: do not pass labels")
            labels = np.asarray(labels, np.int32)
            if labels.shape != (n,) or labels.min(initial=0) < 0 or labels.max(initial=0) >= self.num_classes:
                raise ValueError(f"labels must be {n} class ids in [0, {self.num_classes}), got shape {labels.shape}")
        rng = np.random.default_rng(seed)
        out = np.empty((int(n), self.resolution, self.resolution, self.channels), np.uint8)
        for start in range(0, n, batch_size):
            size = min(batch_size, n - start)
            z = rng.standard_normal((size, self.latent_dim)).astype(np.float32)
            batch_labels = None
            if self.num_classes:
                batch_labels = (labels[start:start + size] if labels is not None
                                else rng.integers(0, self.num_classes, size).astype(np.int32))
            out[start:start + size] = to_uint8(self.generate(z, batch_labels))
        return out


def load_generator(path):
    """A GeneratorSampler for a work dir (EMA weights), a checkpoint prefix, or an exported SavedModel dir."""
    path = os.fspath(path)
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        meta = read_export_metadata(path)
        serve = tf.saved_model.load(path).signatures["serve"]

        def fn(z, labels):
            kwargs = dict(z=tf.constant(z))
            if meta["num_classes"]:
                kwargs["y"] = tf.constant(labels, tf.int32)
            return serve(**kwargs)["images"].numpy()

        return GeneratorSampler(fn, meta["latent_dim"], meta["num_classes"], meta["resolution"], meta["channels"])
    generator, _ = restore_generator(path)
    return GeneratorSampler(lambda z, labels: generator(z, labels, training=False).numpy(), generator.latent_dim,
                            generator.num_classes, generator.resolution, generator.channels)
