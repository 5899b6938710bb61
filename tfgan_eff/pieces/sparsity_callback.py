"""The Keras callback that runs STU-GAN's mask updates during `fit` and records the sparsity diagnostics.

Every `update_every` G steps: the balance ratio of the G step that ends at the boundary is read in
on_train_batch_end; the prune-and-regrow update runs in on_train_batch_begin of the next step. The update sits at
the start of a step (not the end of the previous one) because the checkpoint callback runs before the extra
callbacks at a step's end: a checkpoint written at a boundary then holds the masks from before the update, and a
run resumed from it performs that update first, exactly like an uninterrupted run.

Each boundary appends one record to <workdir>/sparse_diagnostics.jsonl and to TensorBoard (<workdir>/tb):
per-layer and overall density of G and D, exploration rate (fraction of weights ever active), balance ratio BR,
the drop fraction p_t and the update's wall time, and for each exploring network how the weights grown at the
previous update fared (`regrowth_summary`: the share dropped again, their magnitude relative to the other active
weights). The previous update's grown positions live in memory only: the first update after a resume records None.
"""

import json
import math
import os
import time

import keras
import numpy as np
import tensorflow as tf

from tfgan_eff.pieces.sparse_diagnostics import regrowth_summary, sparsity_summary
from tfgan_eff.pieces.sparse_weights import SparseWeights
from tfgan_eff.training.loop import batch_spec

DIAGNOSTICS_FILE = "sparse_diagnostics.jsonl"


def read_diagnostics(workdir):
    """The diagnostics records of a run, one per boundary step (the last written wins after a resume)."""
    path = os.path.join(workdir, DIAGNOSTICS_FILE)
    if not os.path.exists(path):
        return []
    by_step = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                by_step[record["step"]] = record
    return [by_step[step] for step in sorted(by_step)]


def _finite_or_none(value):
    return value if value is not None and math.isfinite(value) else None


class SparsityCallback(keras.callbacks.Callback):
    """Runs the mask updates of a SparseWeights piece every `sparse.update_every` G steps and records diagnostics.

    Args:
      sparse: the SparseWeights piece of a built trainer.
      update_fn: fn(step) -> p_t from `sparse.mask_update_function` (None when the masks are static).
      start_step: G steps done before this `fit`.
      workdir: the run's work dir (diagnostics file and TensorBoard dir).
    """

    def __init__(self, sparse, update_fn, start_step, workdir):
        super().__init__()
        self.sparse, self.update_fn, self.start_step, self.workdir = sparse, update_fn, start_step, workdir
        self.every = sparse.update_every
        self.writer = tf.summary.create_file_writer(os.path.join(workdir, "tb"))
        self._pending = None  # (step, BR) measured at a boundary, recorded with that boundary's update
        self._grown = {}  # prefix -> boolean positions the last update grew

    def on_train_batch_begin(self, batch, logs=None):
        step = self.start_step + batch
        if step == 0 or step % self.every:
            return
        drop_fraction, seconds, regrowth = None, None, {}
        if self.update_fn is not None:
            before = {prefix: (_bool_masks(masks), [np.abs(k.numpy()) for k in masks.kernels])
                      for prefix, masks in self._explored()}
            start = time.perf_counter()
            drop_fraction = self.update_fn(step)
            seconds = time.perf_counter() - start
            regrowth = self._regrowth(before)
        self._record(step, drop_fraction, seconds, regrowth)

    def on_train_batch_end(self, batch, logs=None):
        step = self.start_step + batch + 1
        if step % self.every == 0:
            self._pending = (step, self.sparse.balance_ratio())

    def on_train_end(self, logs=None):
        if self._pending is not None:  # the last boundary had no next step, so no update
            self._record(self._pending[0], None, None)

    def _explored(self):
        """[(prefix, MaskSet)] of the networks whose masks the updates change."""
        updaters = (("g", self.sparse.g_updater), ("d", self.sparse.d_updater))
        return [(prefix, updater.mask_set) for prefix, updater in updaters if updater is not None]

    def _regrowth(self, before):
        """{prefix/key: value} of `regrowth_summary` for the update just run, from `before` = {prefix: (masks,
        |kernels|)} read just before it; remembers the positions it grew for the next update."""
        out = {}
        for prefix, masks in self._explored():
            masks_before, magnitudes = before[prefix]
            masks_after = _bool_masks(masks)
            summary = regrowth_summary(masks_before, masks_after, magnitudes, self._grown.get(prefix))
            out.update({f"{prefix}/{key}": value for key, value in summary.items()})
            self._grown[prefix] = [a & ~b for b, a in zip(masks_before, masks_after)]
        return out

    def _record(self, step, drop_fraction, seconds, regrowth=None):
        br = self._pending[1] if self._pending is not None and self._pending[0] == step else None
        self._pending = None
        record = {"step": step, "drop_fraction": drop_fraction, "update_seconds": seconds,
                  "balance_ratio": _finite_or_none(br), **(regrowth or {})}
        for prefix, masks in (("g", self.sparse.g_masks), ("d", self.sparse.d_masks)):
            if masks is not None:
                record.update({f"{prefix}/{key}": value for key, value in sparsity_summary(masks).items()})
        with open(os.path.join(self.workdir, DIAGNOSTICS_FILE), "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        with self.writer.as_default(step=step):
            for key, value in record.items():
                if key != "step" and value is not None:
                    tf.summary.scalar(f"sparse/{key}", value)
        self.writer.flush()


def _bool_masks(mask_set):
    return [m.numpy() > 0.5 for m in mask_set.masks]


def sparsity_callback(run):
    """`train_gan(extra_callbacks=[sparsity_callback])`: the SparsityCallback of a run whose trainer has a
    SparseWeights piece."""
    sparse, cfg = run.trainer.piece(SparseWeights), run.cfg
    update_fn = None
    if sparse.explores:
        image_shape = (cfg.data.resolution, cfg.data.resolution, cfg.data.channels)
        update_fn = sparse.mask_update_function(run.trainer, run.strategy, batch_spec(cfg), image_shape)
    return SparsityCallback(sparse, update_fn, run.step, run.workdir)
