"""Checkpoints that resume exactly, refuse foreign architectures, and fall back past a corrupted latest file.

Training (Checkpointer), load_generator / evaluate / export and teachers (restore_from) share one restore path: the
checkpoint files present, newest first, whatever the `checkpoint` index file says (it may be missing, garbled or
empty); an unreadable checkpoint is reported by name and the previous one is tried; none readable is an error.
"""

import glob
import os
import re
import shutil
import tempfile

import numpy as np
import tensorflow as tf
from absl import logging

from tfgan_eff.errors import UserError
from tfgan_eff.files import write_text
from tfgan_eff.models import registry

INDEX = "checkpoint"  # tf.train.CheckpointManager's index file
_STAGING = ".saving-"  # staging dirs of saves in progress
_CKPT_FILE = re.compile(r"^(?P<prefix>.+-(?P<number>\d+))\.index$")
# What a truncated or corrupted checkpoint raises on restore (a truncated data file surfaces as IndexError).
_UNREADABLE = (tf.errors.OpError, IndexError, OSError)


class CheckpointMismatchError(UserError, ValueError):
    """The checkpoint was written by another architecture or config; nothing was restored partially."""


class NoReadableCheckpointError(UserError, FileNotFoundError):
    """A checkpoint dir (or prefix) holds no checkpoint that can be read."""


def _index_readable(directory):
    """Whether TF can read the index file of `directory` (False when it is missing)."""
    try:
        # An empty index raises ValueError, a binary one UnicodeDecodeError; garbled text gives None with a warning.
        return tf.train.get_checkpoint_state(directory) is not None
    except (ValueError, tf.errors.OpError):
        return False


def checkpoint_step(prefix):
    """The step in a checkpoint prefix's name (`.../ckpt-400` -> 400; Checkpointer names checkpoints by step), or
    None for a name without one."""
    found = _CKPT_FILE.match(os.path.basename(prefix) + ".index")
    return int(found["number"]) if found else None


def checkpoints_in(directory):
    """Path prefixes of the checkpoints in `directory` (every `<name>-N.index` file present, whatever the index file
    lists), newest (highest N) first."""
    if not os.path.isdir(directory):
        return []
    found = {os.path.join(directory, m["prefix"]): int(m["number"])
             for m in map(_CKPT_FILE.match, os.listdir(directory)) if m}
    return sorted(found, key=lambda p: (found[p], p), reverse=True)


def resume_point(workdir):
    """(run dir, its newest checkpoint prefix or None) of the run under `workdir` that a rerun of the training
    command continues: of the run dirs (holding a config.json) in `workdir` and below, the one written last (its
    config.json, rewritten whenever it starts, or its newest checkpoint). `best/` and other workers' copies are not
    runs."""
    found = []
    for folder, subdirs, names in os.walk(workdir):
        subdirs[:] = [d for d in subdirs if d not in ("best", "workers", "checkpoints")]
        if "config.json" in names:
            newest = next(iter(checkpoints_in(os.path.join(folder, "checkpoints"))), None)
            stamps = [os.path.join(folder, "config.json")] + ([newest + ".index"] if newest else [])
            found.append((max(map(os.path.getmtime, stamps)), folder, newest))
    if not found:
        return workdir, None
    _, run_dir, newest = max(found, key=lambda entry: entry[0])
    return run_dir, newest


def _restore_newest_readable(candidates, restore_one, where):
    """Calls `restore_one(path)` on each candidate, newest first, until one is readable; returns its path.

    A CheckpointMismatchError (a readable checkpoint of another model) is raised at once: an older one would not
    match either.
    """
    for path in candidates:
        try:
            restore_one(path)
            return path
        except _UNREADABLE as err:
            logging.error("checkpoint %s is unreadable (%s): %s; trying the previous one", path,
                          type(err).__name__, str(err).splitlines()[0] if str(err) else "")
    tried = f"tried {', '.join(map(os.path.basename, candidates))}" if candidates else "no checkpoint files"
    raise NoReadableCheckpointError(f"no readable checkpoint in {where} ({tried}). Nothing was overwritten: pass "
                                    "another --workdir, or move the checkpoints away to start over")


class Checkpointer:
    """Saves and restores one set of objects as `<directory>/ckpt-<step>` checkpoints, keeping the newest few.

    Saves are atomic: TF writes a checkpoint's merged `.index` file in place (a run killed meanwhile leaves a
    truncated one), so each checkpoint is written in a staging dir inside `directory` and moved in, data files first
    and the `.index` last: a checkpoint exists once its `.index` does. The `checkpoint` index file (for
    tf.train.latest_checkpoint) is rewritten atomically after each save; an unreadable one is kept as
    `checkpoint.unreadable`. Staging dirs left by a killed save are removed on start; older checkpoints are never
    deleted for either.
    """

    def __init__(self, directory, max_to_keep=3, **objects):
        self.directory, self.max_to_keep = directory, max_to_keep
        index = os.path.join(directory, INDEX)
        if os.path.exists(index) and not _index_readable(directory):
            os.replace(index, index + ".unreadable")
            logging.warning("checkpoint index %s is unreadable: kept as %s.unreadable; resuming from the checkpoint "
                            "files present", index, index)
        for name in os.listdir(directory) if os.path.isdir(directory) else []:
            if name.startswith(_STAGING):
                shutil.rmtree(os.path.join(directory, name))
                logging.info("removed %s: a save that was interrupted before it was published", name)
        self.checkpoint = tf.train.Checkpoint(**objects)
        self._latest = None

    @property
    def latest(self):
        """Path prefix of the checkpoint this run last saved or restored, or None."""
        return self._latest

    @property
    def checkpoints(self):
        """Path prefixes of the checkpoints in the directory, newest (highest step) first."""
        return checkpoints_in(self.directory)

    def save(self, step):
        """Writes checkpoint `ckpt-<step>` atomically (replacing one of the same step), deletes all but the newest
        `max_to_keep`; returns its path prefix."""
        name = f"ckpt-{int(step)}"
        prefix = os.path.join(self.directory, name)
        os.makedirs(self.directory, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=_STAGING, dir=self.directory)
        # Counts saves, as tf.train.CheckpointManager did (a tf.Variable behind TF's NoDependency wrapper).
        self.checkpoint.save_counter.assign_add(1)  # pylint: disable=no-member
        self.checkpoint.write(os.path.join(staging, name))
        _remove(prefix)  # an older checkpoint of this step: unpublished before its data files are replaced
        for file in sorted(os.listdir(staging), key=lambda f: f.endswith(".index")):
            os.replace(os.path.join(staging, file), os.path.join(self.directory, file))
        shutil.rmtree(staging)
        self._latest = prefix
        older = [p for p in self.checkpoints if p != prefix]
        for path in older[self.max_to_keep - 1:]:
            _remove(path)
        kept = [prefix] + older[:self.max_to_keep - 1]
        _write_index(self.directory, [os.path.basename(p) for p in kept[::-1]])
        return prefix

    def _restore_one(self, path):
        try:
            self.checkpoint.restore(path).assert_consumed()
        except (AssertionError, ValueError) as err:
            raise CheckpointMismatchError(
                f"checkpoint {path} does not match this model (another architecture or config?): {err}. "
                "Use a new --workdir, or the config the checkpoint was written with.") from err

    def restore_latest(self):
        """Restores the newest readable checkpoint; returns its path, or None when the directory holds none.

        Raises NoReadableCheckpointError when there are checkpoints but none is readable (never starts over).
        """
        candidates = self.checkpoints
        if not candidates:
            return None
        self._latest = _restore_newest_readable(candidates, self._restore_one, self.directory)
        return self._latest


def _write_index(directory, names):
    """Atomically writes the `checkpoint` index file (a CheckpointState text proto) listing `names`, oldest first
    and the last as the latest, relative to `directory` as tf.train.CheckpointManager writes them."""
    lines = [f'model_checkpoint_path: "{names[-1]}"', *(f'all_model_checkpoint_paths: "{n}"' for n in names)]
    write_text(os.path.join(directory, INDEX), "\n".join(lines) + "\n")


def _remove(prefix):
    """Deletes a checkpoint's files, its `.index` first (so it is never seen half deleted)."""
    for path in [prefix + ".index", *glob.glob(glob.escape(prefix) + ".data-*")]:
        if os.path.exists(path):
            os.remove(path)


def apply_learning_rates(configured):
    """After a restore, sets each optimizer's learning rate to its configured value ({config key: (optimizer, lr)}):
    a checkpoint brings back the learning rate it was saved with (Adam's betas and epsilon are not saved; they always
    come from the config). Logs and returns {config key: (checkpoint value, config value)} of those that changed."""
    changed = {}
    for key, (optimizer, lr) in configured.items():
        current = float(optimizer.learning_rate.numpy())
        if current != float(np.float32(lr)):
            optimizer.learning_rate.assign(lr)
            changed[key] = (current, lr)
            logging.warning("%s changed on resume: %g (checkpoint) -> %g (config); training goes on with %g", key,
                            current, lr, lr)
    return changed


def restore_from(path, **objects):
    """Restores `objects` from the checkpoint at `path` (a prefix, or a directory: its newest readable checkpoint).

    Only the named objects are read (other objects in the file are ignored); their variables must all match.
    Returns the checkpoint's path prefix.
    """

    def restore_one(prefix):
        status = tf.train.Checkpoint(**objects).restore(prefix)
        try:
            status.assert_existing_objects_matched().expect_partial()  # the rest of the file is ignored on purpose
        except AssertionError as err:
            raise CheckpointMismatchError(
                f"checkpoint {prefix} does not match the model being restored: {err}") from err

    candidates = checkpoints_in(path) if os.path.isdir(path) else [path]
    return _restore_newest_readable(candidates, restore_one, path)


def restore_sampling_generator(cfg, path, use_ema=True):
    """(generator, checkpoint prefix): cfg's generator, built in float32 (its variables are float32 whatever the run
    trained in), with the weights a run samples from (the EMA copy's when the run keeps one and `use_ema`) restored
    from `path` as `restore_from` does. `cfg` is not changed."""
    cfg = cfg.copy_and_resolve_references()
    cfg.train.precision = "float32"
    generator = registry.build_generator(cfg)
    name = "ema_generator" if use_ema and cfg.train.ema_decay > 0 else "generator"
    return generator, restore_from(path, **{name: generator})
