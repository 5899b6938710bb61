"""Run in a subprocess: 2 steps of a compression student (teacher guidance + sparse weights with a mask update
between the steps) on 1 device vs MirroredStrategy on 2 logical CPUs; prints the max weight diff."""

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
from tfgan_eff.models import registry  # noqa: E402
from tfgan_eff.pieces.sparse_weights import SparseWeights  # noqa: E402
from tfgan_eff.pieces.sparsity_callback import sparsity_callback  # noqa: E402
from tfgan_eff.training.loop import train_gan  # noqa: E402


class _LastLogs(keras.callbacks.Callback):
    def __init__(self, out):
        super().__init__()
        self.out = out

    def on_train_batch_end(self, batch, logs=None):
        self.out["teacher_term"] = float(np.sum(logs["teacher_term"]))


def run(strategy, workdir, out):
    """The smoke compression student (G density 0.5, dynamic_g, a mask update every step) trained 2 steps with a
    fixed random teacher D; returns (weights of G, D and EMA, G's masks)."""
    cfg = presets.smoke(presets.get("compress"))
    cfg.train.steps = 2
    cfg.sparse.update_every = 1
    cfg.compress.update(g_density=0.5, sparse_mode="dynamic_g")
    cfg.eval.at_end = False
    cfg.export.enabled = False
    with strategy.scope():
        keras.utils.set_random_seed(7)
        teacher = registry.build_discriminator(cfg)
    source = types.SimpleNamespace(teacher=types.SimpleNamespace(discriminator=teacher))
    factory = functools.partial(student_trainer, source=source, cfg=cfg, switch=0, guided=True)
    run_, _ = train_gan(cfg, workdir, strategy, trainer_factory=factory,
                        extra_callbacks=(sparsity_callback, lambda r: _LastLogs(out)))
    models = (run_.generator, run_.discriminator, run_.ema_generator)
    masks = run_.trainer.piece(SparseWeights).g_masks.masks
    return [v.numpy() for m in models for v in m.weights], [m.numpy() for m in masks]


def main(tmp):
    logs_one, logs_two = {}, {}
    one, masks_one = run(tf.distribute.OneDeviceStrategy("/cpu:0"), f"{tmp}/one", logs_one)
    two, masks_two = run(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]), f"{tmp}/two", logs_two)
    print(json.dumps({"max_diff": max(float(abs(a - b).max()) for a, b in zip(one, two)),
                      "masks_equal": all(np.array_equal(a, b) for a, b in zip(masks_one, masks_two)),
                      "teacher_term": logs_one["teacher_term"],
                      "log_diff": abs(logs_one["teacher_term"] - logs_two["teacher_term"])}))


if __name__ == "__main__":
    main(*sys.argv[1:])
