"""Run in a subprocess: 2 DGL steps on 1 device vs MirroredStrategy on 2 logical CPUs; prints the max weight diff."""

import functools
import json
import sys

import keras
import numpy as np
import tensorflow as tf

from tfgan_eff.training.strategy import split_cpu

split_cpu(2)

from tfgan_eff.config import presets
from tfgan_eff.pieces.guidance import TeacherGuidance
from tfgan_eff.pieces.teacher import load_teacher
from tfgan_eff.training.loop import train_gan
from tfgan_eff.training.trainer import GANTrainer


def tiny_cfg(steps):
    """The dgl smoke preset at batch 4 with DiffAugment, for `steps` steps."""
    cfg = presets.smoke(presets.get("dgl"))
    cfg.train.update(steps=steps, n_critic=2, batch_size=4, g_batch_size=4)
    cfg.data.diffaug = "color,translation,cutout"
    cfg.eval.at_end = False
    cfg.export.enabled = False
    return cfg


class _LastLogs(keras.callbacks.Callback):
    def __init__(self, out):
        super().__init__()
        self.out = out

    def on_train_batch_end(self, batch, logs=None):
        self.out["teacher_term"] = float(np.sum(logs["teacher_term"]))
        self.out["teacher_loss"] = float(np.sum(logs["teacher_loss"]))


def weights_after(strategy, teacher_dir, workdir, out):
    """Trains the DGL student 2 steps under `strategy`; returns the weights of G, D, the G EMA and the teacher D
    (the last logs go to `out`)."""
    teacher = load_teacher(teacher_dir, strategy)
    factory = functools.partial(GANTrainer, pieces=(TeacherGuidance(teacher.discriminator, weight=0.5),))
    cfg = tiny_cfg(2)
    cfg.model.g.width = 0.5
    run, _ = train_gan(cfg, workdir, strategy, trainer_factory=factory, extra_callbacks=(lambda r: _LastLogs(out),))
    models = (run.generator, run.discriminator, run.ema_generator, teacher.discriminator)
    return [v.numpy() for m in models for v in m.weights]


def main(tmp):
    train_gan(tiny_cfg(2), f"{tmp}/teacher")
    one_logs, two_logs = {}, {}
    single = weights_after(tf.distribute.OneDeviceStrategy("/cpu:0"), f"{tmp}/teacher", f"{tmp}/one", one_logs)
    mirrored = weights_after(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]), f"{tmp}/teacher", f"{tmp}/two",
                             two_logs)
    diffs = [float(abs(a - b).max()) for a, b in zip(single, mirrored)]
    log_diff = max(abs(value - two_logs[k]) for k, value in one_logs.items())
    print(json.dumps({"max_diff": max(diffs), "n": len(diffs), "log_diff": log_diff, **one_logs}))


if __name__ == "__main__":
    main(*sys.argv[1:])
