"""Run in a subprocess: 2 steps of a compression student (G started from the teacher G's channels, the teacher D's
guidance from a trained teacher run, sparse weights with a mask update after each step, n_critic 2, DiffAugment)
on 1 device vs MirroredStrategy on 2 logical CPUs; prints the max weight and log differences. The student's trainer
is the composition the dgl plan (guidance alone) and the sparse plan (sparse weights alone) use as well."""

import functools
import json
import sys
import types

import keras
import numpy as np
import tensorflow as tf

from tfgan_eff.training.strategy import split_cpu

split_cpu(2)

from tfgan_eff.compress.plan import student_trainer  # noqa: E402
from tfgan_eff.config import presets  # noqa: E402
from tfgan_eff.pieces.sparse_weights import SparseWeights  # noqa: E402
from tfgan_eff.pieces.sparsity_callback import sparsity_callback  # noqa: E402
from tfgan_eff.pieces.teacher import load_teacher  # noqa: E402
from tfgan_eff.training.loop import train_gan  # noqa: E402


class _LastLogs(keras.callbacks.Callback):
    def __init__(self, out):
        super().__init__()
        self.out = out

    def on_train_batch_end(self, batch, logs=None):
        self.out.update({key: float(np.sum(logs[key])) for key in ("teacher_term", "teacher_loss")})


def tiny_cfg():
    """The compress smoke preset for 2 steps at batch 4 with n_critic 2 and DiffAugment, evaluation and export off."""
    cfg = presets.smoke(presets.get("compress"))
    cfg.train.update(steps=2, n_critic=2, batch_size=4, g_batch_size=4)
    cfg.data.diffaug = "color,translation,cutout"
    cfg.eval.at_end = False
    cfg.export.enabled = False
    return cfg


def run(strategy, teacher_dir, workdir, out):
    """The student (G width 0.5 from the teacher G's channels, G density 0.5, dynamic_g, a mask update every step,
    lambda 0.5 from step 0) trained 2 steps under `strategy` against the teacher in `teacher_dir`; returns (weights
    of G, D, EMA and the teacher D, G's masks)."""
    cfg = tiny_cfg()
    cfg.sparse.update_every = 1
    cfg.compress.update(g_density=0.5, sparse_mode="dynamic_g", lambda_teacher=0.5)
    cfg.model.g.width = 0.5
    source = types.SimpleNamespace(teacher=load_teacher(teacher_dir, strategy))
    factory = functools.partial(student_trainer, source=source, cfg=cfg, switch=0, guided=True,
                                inherit=True)
    run_, _ = train_gan(cfg, workdir, strategy, trainer_factory=factory,
                        extra_callbacks=(sparsity_callback, lambda r: _LastLogs(out)))
    models = (run_.generator, run_.discriminator, run_.ema_generator, source.teacher.discriminator)
    masks = run_.trainer.piece(SparseWeights).g_masks.masks
    return [v.numpy() for m in models for v in m.weights], [m.numpy() for m in masks]


def main(tmp):
    teacher_cfg = tiny_cfg()
    teacher_cfg.method = "baseline"
    train_gan(teacher_cfg, f"{tmp}/teacher")
    logs_one, logs_two = {}, {}
    one, masks_one = run(tf.distribute.OneDeviceStrategy("/cpu:0"), f"{tmp}/teacher", f"{tmp}/one", logs_one)
    two, masks_two = run(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]), f"{tmp}/teacher", f"{tmp}/two",
                         logs_two)
    print(json.dumps({"max_diff": max(float(abs(a - b).max()) for a, b in zip(one, two)), "n": len(one),
                      "masks_equal": all(np.array_equal(a, b) for a, b in zip(masks_one, masks_two)),
                      "log_diff": max(abs(value - logs_two[k]) for k, value in logs_one.items()), **logs_one}))


if __name__ == "__main__":
    main(*sys.argv[1:])
