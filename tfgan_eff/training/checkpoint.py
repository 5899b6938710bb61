"""Checkpoints that resume exactly, refuse foreign architectures, and fall back past a corrupted latest file."""

import os

import tensorflow as tf
from absl import logging


class CheckpointMismatchError(ValueError):
    """The checkpoint was written by another architecture or config; nothing was restored partially."""


class Checkpointer:
    """Wraps tf.train.CheckpointManager for one set of objects in `<directory>`.

    TF writes each checkpoint under a temporary name and publishes it by rename, and updates the `checkpoint` index
    last, so a run killed mid-write leaves the previous checkpoint as the latest.
    """

    def __init__(self, directory, max_to_keep=3, **objects):
        self.directory = directory
        self.checkpoint = tf.train.Checkpoint(**objects)
        self.manager = tf.train.CheckpointManager(self.checkpoint, directory, max_to_keep=max_to_keep)

    @property
    def latest(self):
        """Path prefix of the newest checkpoint, or None."""
        return self.manager.latest_checkpoint

    def save(self, step):
        """Writes a checkpoint numbered `step`; returns its path prefix."""
        return self.manager.save(checkpoint_number=int(step))

    def _restore_one(self, path):
        try:
            self.checkpoint.restore(path).assert_consumed()
        except (AssertionError, ValueError) as err:
            raise CheckpointMismatchError(
                f"checkpoint {path} does not match this model (another architecture or config?): {err}. "
                "Use a new --workdir, or the config the checkpoint was written with.") from err

    def restore_latest(self):
        """Restores the newest readable checkpoint; returns its path or None when there is none.

        A truncated or corrupted checkpoint is reported by name and the previous one is tried.
        """
        candidates = list(reversed(self.manager.checkpoints))
        for path in candidates:
            try:
                self._restore_one(path)
                logging.info("restored %s", path)
                return path
            except (tf.errors.OpError, IndexError, OSError) as err:  # truncated files surface as IndexError
                logging.error("checkpoint %s is unreadable (%s): %s; trying the previous one", path,
                              type(err).__name__, str(err).splitlines()[0])
        if candidates:
            raise CheckpointMismatchError(f"no readable checkpoint in {self.directory} (tried {candidates})")
        return None


def restore_from(path, **objects):
    """Restores `objects` from the checkpoint at `path` (a prefix or a directory with a `checkpoint` index).

    Only the named objects are read (other objects in the file are ignored); their variables must all match.
    """
    if os.path.isdir(path):
        latest = tf.train.latest_checkpoint(path)
        if latest is None:
            raise FileNotFoundError(f"no checkpoint in {path}")
        path = latest
    status = tf.train.Checkpoint(**objects).restore(path)
    try:
        status.assert_existing_objects_matched().expect_partial()  # the rest of the file is ignored on purpose
    except AssertionError as err:
        raise CheckpointMismatchError(f"checkpoint {path} does not match the model being restored: {err}") from err
    return path
