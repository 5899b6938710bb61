"""Run in a subprocess: 2 G steps on 1 device vs MirroredStrategy on 2 logical CPUs, for each case of a JSON
{case id: [g_arch, loss, precision, n_critic, diffaug, conditional]}; prints JSON {case id: the max weight diff and
how far apart the two updates are relative to the update itself}."""

import json
import sys

import numpy as np
import tensorflow as tf

from tfgan_eff.training.strategy import split_cpu

split_cpu(2)

from tfgan_eff.config import presets
from tfgan_eff.training.loop import Run, train_gan


def _config(g_arch, loss, precision, n_critic, diffaug, conditional):
    cfg = presets.smoke(presets.baseline())
    cfg.data.conditional = bool(conditional)  # labels split across replicas with the images
    cfg.model.g.arch = g_arch
    cfg.model.d.arch = "sngan" if g_arch == "sngan" else "dcgan"
    cfg.train.update(steps=2, n_critic=int(n_critic), loss=loss, batch_size=4, g_batch_size=4, precision=precision)
    cfg.data.diffaug = diffaug
    cfg.eval.at_end = False
    cfg.export.enabled = False
    return cfg


def _weights(run):
    return [v.numpy() for v in run.generator.weights + run.discriminator.weights + run.ema_generator.weights]


def _trained(run):
    return [v.numpy() for v in run.generator.trainable_variables + run.discriminator.trainable_variables]


def compare(mirrored_strategy, tmp, *case):
    """Trains one case on one device and under `mirrored_strategy` from the same start; returns how far apart they
    end."""
    cfg = _config(*case)
    initial = _trained(Run(cfg, f"{tmp}/init", tf.distribute.OneDeviceStrategy("/cpu:0")))
    one = train_gan(cfg, f"{tmp}/one", tf.distribute.OneDeviceStrategy("/cpu:0"))[0]
    two = train_gan(cfg, f"{tmp}/two", mirrored_strategy)[0]
    single, mirrored = _weights(one), _weights(two)
    diffs = [float(abs(a - b).max()) for a, b in zip(single, mirrored)]
    # ||mirrored update - single update|| / ||single update|| over the trained G and D variables
    update = np.concatenate([(s - i).ravel() for s, i in zip(_trained(one), initial)])
    apart = np.concatenate([(m - s).ravel() for m, s in zip(_trained(two), _trained(one))])
    return {"max_diff": max(diffs), "n": len(diffs), "max_abs": max(float(abs(a).max()) for a in single),
            "relative_update_diff": float(np.linalg.norm(apart) / np.linalg.norm(update))}


if __name__ == "__main__":
    tmp_dir, cases = sys.argv[1], json.loads(sys.argv[2])
    # One strategy for all cases: a second MirroredStrategy in a process reuses the first one's collective keys.
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    print(json.dumps({name: compare(strategy, f"{tmp_dir}/{name}", *args) for name, args in cases.items()}))
