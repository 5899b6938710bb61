"""Run in a subprocess: 2 G steps on 1 device vs MirroredStrategy on 2 logical CPUs; prints the max weight diff."""

import json
import sys

import tensorflow as tf

from tfgan_eff.training.strategy import split_cpu

split_cpu(2)

from tfgan_eff.config import presets  # pylint: disable=wrong-import-position
from tfgan_eff.training.loop import train_gan  # pylint: disable=wrong-import-position


def weights_after(strategy, workdir, g_arch, loss):
    cfg = presets.smoke(presets.baseline())
    cfg.model.g.arch = g_arch
    cfg.model.d.arch = "sngan" if g_arch == "sngan" else "dcgan"
    cfg.train.update(steps=2, n_critic=2, loss=loss, batch_size=4, g_batch_size=4)
    cfg.data.diffaug = "color,translation,cutout"
    cfg.eval.at_end = False
    cfg.export.enabled = False
    run, _ = train_gan(cfg, workdir, strategy)
    return [v.numpy() for v in run.generator.weights + run.discriminator.weights + run.ema_generator.weights]


def main(tmp, g_arch, loss):
    single = weights_after(tf.distribute.OneDeviceStrategy("/cpu:0"), f"{tmp}/one", g_arch, loss)
    mirrored = weights_after(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]), f"{tmp}/two", g_arch, loss)
    diffs = [float(abs(a - b).max()) for a, b in zip(single, mirrored)]
    moved = max(float(abs(a).max()) for a in single)
    print(json.dumps({"max_diff": max(diffs), "n": len(diffs), "max_abs": moved}))


if __name__ == "__main__":
    main(*sys.argv[1:])
