"""Loading a trained generator for sampling: from a work dir (EMA weights) or an exported SavedModel."""

import json
import os

import numpy as np
import tensorflow as tf

from tfgan_eff.config.schema import config_from_json
from tfgan_eff.data.pipeline import to_uint8
from tfgan_eff.export.saved_model import read_export_metadata
from tfgan_eff.models import registry
from tfgan_eff.training.checkpoint import restore_from


def find_run_dir(path):
    """The training run under `path`: itself when it has config.json + checkpoints/, else the run named by its
    summary.json's `generator_workdir` (dgl, sparse and search point at their main run)."""
    path = os.fspath(path)
    if os.path.isfile(os.path.join(path, "config.json")) and os.path.isdir(os.path.join(path, "checkpoints")):
        return path
    summary_path = os.path.join(path, "summary.json")
    if os.path.isfile(summary_path):
        with open(summary_path, encoding="utf-8") as f:
            target = json.load(f).get("generator_workdir")
        if target:
            return find_run_dir(target if os.path.isabs(target) else os.path.join(path, target))
    raise FileNotFoundError(f"{path} is neither a work dir (config.json + checkpoints/), a method work dir whose "
                            "summary.json names generator_workdir, nor a SavedModel")


def restore_generator(path, use_ema=True):
    """(Keras generator with the run's latest weights, run config) from a work dir or a checkpoint prefix."""
    path = os.fspath(path)
    checkpoint_path = path
    if not os.path.isdir(path):  # a checkpoint prefix: <run>/checkpoints/ckpt-N
        run_dir = os.path.dirname(os.path.dirname(path))
    else:
        run_dir = find_run_dir(path)
        checkpoint_path = os.path.join(run_dir, "checkpoints")
    with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as f:
        cfg = config_from_json(json.load(f))
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

    def sample(self, n, seed=0, labels=None):
        """n uint8 images from z ~ N(0, 1) drawn with `seed` (labels drawn too when conditional and not given)."""
        rng = np.random.default_rng(seed)
        z = rng.standard_normal((n, self.latent_dim)).astype(np.float32)
        if self.num_classes:
            labels = (np.asarray(labels, np.int32) if labels is not None
                      else rng.integers(0, self.num_classes, n).astype(np.int32))
        elif labels is not None:
            raise ValueError("this generator is unconditional: do not pass labels")
        return to_uint8(self.generate(z, labels))


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
