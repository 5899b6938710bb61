"""`train_gan`: one resumable GAN run in a work dir (build, restore, fit with samples and checkpoints).

Evaluation at the end and export are steps of the experiment executor (training/experiment.py).
"""

import json
import os
import time

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from tfgan_eff.data import pipeline, sources
from tfgan_eff.errors import UserError
from tfgan_eff.files import read_json, write_json
from tfgan_eff.models import registry
from tfgan_eff.models.ema import copy_weights
from tfgan_eff.training import callbacks, checkpoint
from tfgan_eff.training.evaluator import PeriodicEvaluator
from tfgan_eff.training.strategy import get_strategy, worker_workdir
from tfgan_eff.training.train_clock import TrainClock
from tfgan_eff.training.trainer import GANTrainer


def count_params(model):
    """Number of trainable parameters."""
    return int(sum(np.prod(v.shape) for v in model.trainable_variables))


def load_data(cfg):
    """Loads the configured images and fills cfg.data.num_classes for conditional runs; returns (images, labels)."""
    images, labels = sources.load_images(cfg.data)
    if cfg.data.conditional:
        with cfg.unlocked():
            cfg.data.num_classes = int(labels.max()) + 1
    return images, labels


def batch_spec(cfg):
    """The global batch sizes of one training step."""
    return pipeline.BatchSpec(
        batch_size=cfg.train.batch_size, g_batch_size=cfg.train.g_batch_size or cfg.train.batch_size,
        n_critic=cfg.train.n_critic, latent_dim=cfg.model.latent_dim,
        num_classes=cfg.data.num_classes if cfg.data.conditional else 0, seed=cfg.seed)


class Run:
    """The objects of one run: models, trainer, checkpointer, all built inside the strategy scope."""

    def __init__(self, cfg, workdir, strategy, trainer_factory=None):
        self.cfg, self.workdir, self.strategy = cfg, workdir, strategy
        keras_seed = cfg.seed
        keras.utils.set_random_seed(keras_seed)
        with strategy.scope():
            self.generator = registry.build_generator(cfg)
            self.discriminator = registry.build_discriminator(cfg)
            self.ema_generator = None
            if cfg.train.ema_decay > 0:
                self.ema_generator = registry.build_generator(cfg)
                copy_weights(self.ema_generator, self.generator)
            factory = trainer_factory or GANTrainer
            self.trainer = factory(self.generator, self.discriminator, cfg.train,
                                   ema_generator=self.ema_generator, diffaug=cfg.data.diffaug)
            self.trainer.build_optimizers()
        self.checkpointer = checkpoint.Checkpointer(os.path.join(workdir, "checkpoints"),
                                                    cfg.train.keep_checkpoints, **self.trainer.checkpoint_items())

    @property
    def sampling_generator(self):
        """The generator to sample and export: the EMA copy when there is one."""
        return self.ema_generator or self.generator

    @property
    def step(self):
        return int(self.trainer.step.numpy())

    def restore(self, init_from=""):
        """Resumes from this run's own checkpoint; else, if `init_from` names a checkpoint, starts from its G, D,
        EMA and step (fresh optimizers). The config's learning rates replace the checkpoint's (logged when they
        differ). Returns the step to start at."""
        resumed = self.checkpointer.restore_latest()
        if resumed is not None:
            logging.info("resuming at step %d from %s", self.step, resumed)
        elif init_from:
            items = {k: v for k, v in self.trainer.checkpoint_items().items() if "optimizer" not in k}
            path = checkpoint.restore_from(init_from, **items)
            logging.info("initialised from %s at step %d (optimizers reset)", path, self.step)
        self.trainer.apply_config_learning_rates()
        return self.step


def train_gan(cfg, workdir, strategy=None, *, trainer_factory=None, init_from="", extra_callbacks=(), data=None):
    """Trains (or resumes) the GAN of `cfg` in `workdir` up to cfg.train.steps generator steps.

    Writes config.json, checkpoints, samples, TensorBoard logs (and periodic evaluations when cfg.eval.every);
    `init_from` names a checkpoint that starts a fresh run (see Run.restore); `extra_callbacks` are fns(run) ->
    keras callback; `data` is cfg's (images, labels) when the caller holds them already (then cfg.data.num_classes
    must be filled), else they are loaded here. Returns (run, summary dict of the training).
    """
    started = time.time(), time.process_time()
    strategy = strategy or get_strategy(cfg.train.strategy)
    workdir = worker_workdir(workdir, strategy)
    os.makedirs(workdir, exist_ok=True)
    write_json(os.path.join(workdir, "config.json"), json.loads(cfg.to_json_best_effort()))
    images, labels = data if data is not None else load_data(cfg)
    run = Run(cfg, workdir, strategy, trainer_factory)
    start = run.restore(init_from)
    # The time before this process: from the clock file when it resumes its own checkpoint (not an init_from one).
    clock = TrainClock(workdir, start if run.checkpointer.latest else 0, started)
    total = cfg.train.steps
    logging.info("%s: G %d params, D %d params, step %d/%d", workdir, count_params(run.generator),
                 count_params(run.discriminator), start, total)
    writer = tf.summary.create_file_writer(os.path.join(workdir, "tb"))
    rng = np.random.default_rng(cfg.seed)
    fixed_z = rng.standard_normal((64, cfg.model.latent_dim)).astype(np.float32)
    fixed_labels = (np.arange(64) % cfg.data.num_classes).astype(np.int32) if cfg.data.conditional else None
    write_samples = callbacks.sample_writer(workdir, run.sampling_generator, fixed_z, fixed_labels, writer)
    progress = callbacks.Progress(start, total, cfg.train.log_every, writer)
    if start < total:
        dataset = pipeline.make_dataset(images, labels, batch_spec(cfg), start, strategy)

        def save(step):
            run.checkpointer.save(step)
            clock.mark(step)

        cbs = [progress,
               callbacks.StepCallback(start, total, cfg.train.ckpt_every, save),
               callbacks.StepCallback(start, total, cfg.train.sample_every, write_samples),
               *[make(run) for make in extra_callbacks]]
        if cfg.eval.every:
            cbs.append(callbacks.StepCallback(start, total, cfg.eval.every,
                                              PeriodicEvaluator(cfg, run, images, workdir, writer)))
        try:
            with strategy.scope():
                run.trainer.compile()
                run.trainer.fit(dataset, epochs=1, steps_per_epoch=total - start, callbacks=cbs, verbose=0,
                                shuffle=False)
        except tf.errors.InvalidArgumentError as err:
            if "non-finite" in str(err):
                raise NonFiniteError(workdir, run.checkpointer.latest, err) from err
            raise
    samples = write_samples(run.step)
    summary = dict(
        method=cfg.method, config=cfg.name, workdir=workdir, steps=run.step,
        **clock.summary(), steps_per_s=round(progress.steps_per_second, 3),
        params=dict(generator=count_params(run.generator), discriminator=count_params(run.discriminator)),
        samples=samples, checkpoint=run.checkpointer.latest, skipped_steps=int(run.trainer.skipped_steps.numpy()))
    if os.path.exists(os.path.join(workdir, "best", "best.json")):
        summary["best"] = read_json(os.path.join(workdir, "best", "best.json"))
    return run, summary


class NonFiniteError(UserError, FloatingPointError):
    """Training stopped on a NaN/Inf loss; the last good checkpoint is untouched."""

    def __init__(self, workdir, last_checkpoint, err):
        text = str(err)  # "Graph execution error: ... non-finite G loss : Tensor had NaN values ..."
        reason = (text[text.index("non-finite"):].split("]", maxsplit=1)[0].splitlines()[0] if "non-finite" in text
                  else text)
        super().__init__(f"a loss became NaN/Inf in {workdir} ({reason}). The last good checkpoint is "
                         f"{last_checkpoint or 'none yet'}. Lower the learning rates and rerun (the config's values "
                         "apply on resume), or set --config.train.nan_policy=skip to skip such steps (at most "
                         "train.max_skipped_in_row in a row).")
