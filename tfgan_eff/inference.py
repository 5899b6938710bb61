"""Loading a trained generator for sampling: from a work dir (EMA weights) or an exported SavedModel."""

import dataclasses
import numbers
import os
from typing import Any

import numpy as np
import tensorflow as tf
from absl import logging

from tfgan_eff.config import validate
from tfgan_eff.config.schema import config_from_json
from tfgan_eff.data.pipeline import to_uint8
from tfgan_eff.errors import UserError
from tfgan_eff.export.saved_model import SIGNATURE_KEY, NotAGeneratorExportError, read_export_metadata
from tfgan_eff.files import read_json
from tfgan_eff.training.checkpoint import checkpoint_step, checkpoints_in, restore_sampling_generator

SAMPLE_BATCH = 256  # images generated per call in GeneratorSampler.sample / iter_samples
MAX_SAMPLE_BYTES = 2 * 2**30  # the most GeneratorSampler.sample returns in one array; iter_samples has no limit


class RunNotFoundError(UserError, FileNotFoundError):
    """A path is not a training run, or its summary.json points outside it."""


class SampleTooLargeError(UserError, ValueError):
    """GeneratorSampler.sample was asked for more images than it returns in one array."""


def _no_such_run(path):
    """The error for a path that is not a directory nor a checkpoint prefix."""
    problem = "is a file, not a directory" if os.path.exists(path) else "does not exist"
    return RunNotFoundError(f"{path} {problem}: pass a work dir, a checkpoint prefix (RUN_DIR/checkpoints/ckpt-N) "
                            "or an exported SavedModel dir (RUN_DIR/export/saved_model)")


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
    if not os.path.isdir(path):
        raise _no_such_run(path)
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


@dataclasses.dataclass(frozen=True)
class RestoredRun:
    """A run's generator with the weights of one checkpoint, and where they came from."""
    generator: Any  # Keras generator, float32
    cfg: Any  # the run's config (config.json), a ConfigDict
    run_dir: str  # the training run (config.json + checkpoints/)
    checkpoint: str  # path prefix of the checkpoint restored

    @property
    def step(self):
        """The training step of the restored checkpoint (None when its name has none)."""
        return checkpoint_step(self.checkpoint)

    @property
    def source(self):
        """What the generator holds, as eval.json and export reports record it."""
        return {"step": self.step, "checkpoint": self.checkpoint}


def run_dir_of(path):
    """The training run of a work dir (see find_run_dir) or of a checkpoint prefix (RUN_DIR/checkpoints/ckpt-N);
    RunNotFoundError for anything else."""
    path = os.fspath(path)
    if os.path.isdir(path):
        return find_run_dir(path)
    if os.path.isfile(path + ".index"):
        return os.path.dirname(os.path.dirname(os.path.abspath(path)))
    raise _no_such_run(path)


def _last_step(run_dir):
    """The run's last step: its newest checkpoint file's, or its summary.json's when higher (None if neither)."""
    steps = [checkpoint_step(prefix) for prefix in checkpoints_in(os.path.join(run_dir, "checkpoints"))[:1]]
    try:
        steps.append(int(read_json(os.path.join(run_dir, "summary.json"))["steps"]))
    except (OSError, ValueError, TypeError, KeyError):
        pass  # no (readable) summary: the checkpoints alone say
    return max(steps, default=None)


def restore_run(path, use_ema=True):
    """The generator of a work dir (its newest readable checkpoint, whatever the index file says: training's restore
    path) or of a checkpoint prefix, as a RestoredRun. Logs a warning when a work dir's newest readable checkpoint
    is not the run's last step (a newer one is unreadable or gone)."""
    path = os.fspath(path)
    run_dir = run_dir_of(path)
    newest = os.path.isdir(path)  # a work dir: its newest readable checkpoint, else the prefix asked for
    checkpoint_path = os.path.join(run_dir, "checkpoints") if newest else path
    cfg = _run_config(run_dir)
    cfg.train.precision = "float32"  # what is served: the generator is built in float32
    generator, checkpoint = restore_sampling_generator(cfg, checkpoint_path, use_ema)
    restored = RestoredRun(generator, cfg, run_dir, checkpoint)
    last = _last_step(run_dir) if newest else None
    if last is not None and restored.step < last:
        logging.warning("using step %d (%s), NOT the run's last step %d: the newer checkpoints are unreadable or gone",
                        restored.step, restored.checkpoint, last)
    return restored


def restore_generator(path, use_ema=True):
    """(Keras generator, run config) of `path` as restore_run restores them."""
    restored = restore_run(path, use_ema)
    return restored.generator, restored.cfg


class GeneratorSampler:
    """`.sample(n, seed=0, labels=None)` -> uint8 images [n, H, W, C] from a Keras generator or a SavedModel;
    `.iter_samples(...)`: the same images batch by batch, for any n. `source` says what the generator holds
    ({"step": N, "checkpoint": prefix} when known; a SavedModel's also names it)."""

    def __init__(self, fn, latent_dim, num_classes, resolution, channels, source=None):
        self._fn = fn
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.resolution, self.channels = resolution, channels
        self.source = source

    def generate(self, z, labels=None):
        """Float images in [-1, 1] for explicit z (and labels)."""
        return np.asarray(self._fn(np.asarray(z, np.float32), labels))

    def iter_samples(self, n, seed=0, labels=None, batch_size=SAMPLE_BATCH):
        """Yields n uint8 images as batches [<= batch_size, H, W, C] from z ~ N(0, 1) drawn with `seed` (labels drawn
        too when conditional and not given): each batch's z (then labels) drawn in turn from one generator seeded
        with `seed`. Memory stays at one batch for any n. Arguments are checked at the call, before the first
        batch."""
        labels = self._checked(n, labels, batch_size)
        return self._batches(n, np.random.default_rng(seed), labels, batch_size)

    def sample(self, n, seed=0, labels=None, batch_size=SAMPLE_BATCH):
        """The images of iter_samples(n, seed, labels, batch_size) in one uint8 array [n, H, W, C] (n = 0: an empty
        one).

        At most MAX_SAMPLE_BYTES (2 GiB) of images: a larger n raises SampleTooLargeError before generating
        anything; iterate over iter_samples for those."""
        labels = self._checked(n, labels, batch_size)
        size = int(n) * self.resolution * self.resolution * self.channels
        if size > MAX_SAMPLE_BYTES:
            raise SampleTooLargeError(
                f"sample({n}) would return {size / 2**30:.1f} GiB of images in one array, over the "
                f"{MAX_SAMPLE_BYTES / 2**30:g} GiB sample() allows: iterate over iter_samples({n}, seed=...) to get "
                f"the same images {batch_size} at a time")
        out = np.empty((int(n), self.resolution, self.resolution, self.channels), np.uint8)
        start = 0
        for batch in self._batches(n, np.random.default_rng(seed), labels, batch_size):
            out[start:start + len(batch)] = batch
            start += len(batch)
        return out

    def _checked(self, n, labels, batch_size):
        """Raises ValueError for a bad n, batch_size or labels; returns labels as int32 (or None)."""
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if labels is None:
            return None
        if not self.num_classes:
            raise ValueError("this generator is unconditional: do not pass labels")
        labels = np.asarray(labels, np.int32)
        if labels.shape != (n,) or labels.min(initial=0) < 0 or labels.max(initial=0) >= self.num_classes:
            raise ValueError(f"labels must be {n} class ids in [0, {self.num_classes}), got shape {labels.shape}")
        return labels

    def _batches(self, n, rng, labels, batch_size):
        for start in range(0, n, batch_size):
            size = min(batch_size, n - start)
            z = rng.standard_normal((size, self.latent_dim)).astype(np.float32)
            batch_labels = None
            if self.num_classes:
                batch_labels = (labels[start:start + size] if labels is not None
                                else rng.integers(0, self.num_classes, size).astype(np.int32))
            yield to_uint8(self.generate(z, batch_labels))


def _saved_model_sampler(path):
    """A GeneratorSampler over the `serve` signature of a SavedModel written by tfgan_eff's export."""
    meta = read_export_metadata(path)
    try:
        serve = tf.saved_model.load(path).signatures[SIGNATURE_KEY]
    except (OSError, ValueError, KeyError, tf.errors.OpError) as err:  # damaged, or no serve signature
        raise NotAGeneratorExportError(path, f"it cannot be loaded: {type(err).__name__}: "
                                             f"{' '.join(str(err).split())[:200]}") from err

    def fn(z, labels):
        kwargs = dict(z=tf.constant(z))
        if meta["num_classes"]:
            kwargs["y"] = tf.constant(labels, tf.int32)
        return serve(**kwargs)["images"].numpy()

    return GeneratorSampler(fn, meta["latent_dim"], meta["num_classes"], meta["resolution"], meta["channels"],
                            source={"saved_model": os.path.abspath(path), **meta.get("source", {})})


def load_generator(path):
    """A GeneratorSampler for a work dir (EMA weights), a checkpoint prefix, or an exported SavedModel dir.

    A path that is none of these raises RunNotFoundError, a SavedModel not exported by tfgan_eff (another model's,
    or a damaged one) NotAGeneratorExportError; both are UserErrors whose message says what to pass."""
    path = os.fspath(path)
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return _saved_model_sampler(path)
    restored = restore_run(path)
    generator = restored.generator
    return GeneratorSampler(lambda z, labels: generator(z, labels, training=False).numpy(), generator.latent_dim,
                            generator.num_classes, generator.resolution, generator.channels, source=restored.source)
