"""Keras callbacks of a GAN run: progress, TensorBoard scalars, sample grids, checkpoints, periodic evaluation."""

import math
import os
import time

import keras
import numpy as np
import tensorflow as tf
from absl import logging
from PIL import Image

from tfgan_eff.data.pipeline import to_uint8
from tfgan_eff.files import atomic_write


def image_grid(images, columns=8, pad=2):
    """uint8 [N, H, W, C] -> one uint8 grid image with `pad` mid-grey pixels between cells."""
    n, h, w, c = images.shape
    rows = math.ceil(n / columns)
    grid = np.full((rows * (h + pad) + pad, columns * (w + pad) + pad, c), 128, np.uint8)
    for i, image in enumerate(images):
        r, col = divmod(i, columns)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        grid[top:top + h, left:left + w] = image
    return grid


def save_png(path, image):
    """Writes a uint8 HWC image (1 or 3 channels) as PNG, atomically."""
    atomic_write(path, Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save)


class Progress(keras.callbacks.Callback):
    """Logs a progress bar with steps/s, ETA and the losses every `every` steps, and keeps the mean speed."""

    def __init__(self, start_step, total_steps, every, writer=None):
        super().__init__()
        self.start_step, self.total_steps, self.every, self.writer = start_step, total_steps, every, writer
        self.steps_per_second = 0.0

    def on_train_begin(self, logs=None):
        self._t0 = self._last_time = time.time()
        self._last_step = self.start_step

    def on_train_batch_end(self, batch, logs=None):
        step = self.start_step + batch + 1
        if step % self.every and step != self.total_steps:
            return
        now = time.time()
        rate = (step - self._last_step) / max(now - self._last_time, 1e-9)
        self._last_time, self._last_step = now, step
        eta = (self.total_steps - step) / max(rate, 1e-9)
        filled = int(20 * step / self.total_steps)
        values = {k: float(np.mean(v)) for k, v in (logs or {}).items()}
        logging.info("[%s%s] %d/%d  %.2f steps/s  ETA %dm%02ds  %s", "#" * filled, "." * (20 - filled), step,
                     self.total_steps, rate, eta // 60, eta % 60,
                     "  ".join(f"{k} {v:.4f}" for k, v in sorted(values.items())))
        if self.writer is not None:
            with self.writer.as_default(step=step):
                for k, v in values.items():
                    tf.summary.scalar(f"train/{k}", v)
                tf.summary.scalar("train/steps_per_second", rate)

    def on_train_end(self, logs=None):
        done = self._last_step - self.start_step
        self.steps_per_second = done / max(time.time() - self._t0, 1e-9)


class StepCallback(keras.callbacks.Callback):
    """Calls `fn(step)` every `every` steps and at the last step."""

    def __init__(self, start_step, total_steps, every, fn):
        super().__init__()
        self.start_step, self.total_steps, self.every, self.fn = start_step, total_steps, every, fn

    def on_train_batch_end(self, batch, logs=None):
        step = self.start_step + batch + 1
        if (self.every and step % self.every == 0) or step == self.total_steps:
            self.fn(step)


def sample_writer(workdir, generator, fixed_z, fixed_labels, writer=None):
    """Returns fn(step) that writes `samples/step_XXXXXXX.png` (and a TensorBoard image) from fixed noise."""

    def write(step):
        images = to_uint8(generator(fixed_z, fixed_labels, training=False))
        path = os.path.join(workdir, "samples", f"step_{step:07d}.png")
        save_png(path, image_grid(images))
        if writer is not None:
            with writer.as_default(step=step):
                tf.summary.image("samples", image_grid(images)[None], max_outputs=1)
        return path

    return write
