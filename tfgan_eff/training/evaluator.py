"""Evaluates a run's generator with the configured extractor and reference statistics (writes eval.json)."""

import os

import numpy as np
import tensorflow as tf
from absl import logging

from tfgan_eff.data.names import OFFLINE_DATASETS
from tfgan_eff.files import read_json, write_json
from tfgan_eff.lists import comma_list
from tfgan_eff.metrics import extractors
from tfgan_eff.metrics.ref_stats import check_protocol, compute_ref_stats, load_ref_stats, save_ref_stats
from tfgan_eff.metrics.suite import EvalProtocol, evaluate_generator
from tfgan_eff.training.checkpoint import Checkpointer


def data_protocol(cfg):
    """What the reference data is: source, split, resolution and channels."""
    return dict(dataset=cfg.data.source, split=cfg.data.split, resolution=cfg.data.resolution,
                channels=cfg.data.channels)


def build_extractor(cfg):
    """The feature extractor the config asks for (offline classifier for digits/shapes, or local InceptionV3)."""
    if cfg.eval.extractor == "inception":
        return extractors.build_extractor("inception", weights_path=cfg.eval.inception_weights)
    if cfg.data.source not in OFFLINE_DATASETS:
        raise ValueError(f"eval.extractor=offline has classifiers for {OFFLINE_DATASETS} only; for "
                         f"{cfg.data.source!r} pass --config.eval.extractor=inception "
                         "--config.eval.inception_weights=/path/to/inception_v3 weights (.h5)")
    return extractors.build_extractor("offline", dataset=cfg.data.source, resolution=cfg.data.resolution,
                                      channels=cfg.data.channels)


def reference_stats(cfg, extractor, images, workdir):
    """Reference statistics: cfg.eval.ref_stats when given (protocol checked), else computed from the training
    images and cached in <workdir>/ref_stats.npz."""
    protocol = data_protocol(cfg)
    path = cfg.eval.ref_stats or os.path.join(workdir, "ref_stats.npz")
    if os.path.exists(path):
        stats = load_ref_stats(path)
        check_protocol({k: stats.protocol.get(k) for k in protocol}, protocol, what=f"reference statistics {path}")
        check_protocol(stats.protocol.get("extractor", {}), extractor.protocol, what=f"reference statistics {path}")
        return stats
    batches = (images[i:i + cfg.eval.batch_size] for i in range(0, len(images), cfg.eval.batch_size))
    stats = compute_ref_stats(batches, extractor, protocol, seed=cfg.seed)
    save_ref_stats(path, stats)
    return stats


def sampler(generator, seed):
    """fn(n) -> n samples in [-1, 1]; noise (and labels) from a fixed seed so evaluations are repeatable."""
    rng = np.random.default_rng(seed)

    def sample(n):
        z = rng.standard_normal((n, generator.latent_dim)).astype(np.float32)
        labels = rng.integers(0, generator.num_classes, n).astype(np.int32) if generator.num_classes else None
        return generator(z, labels, training=False).numpy()

    return sample


def eval_protocol(cfg):
    """The EvalProtocol of cfg.eval (and cfg.seed)."""
    return EvalProtocol(num_samples=cfg.eval.num_samples, batch_size=cfg.eval.batch_size,
                        metrics=tuple(comma_list(cfg.eval.metrics)), kid_subsets=cfg.eval.kid_subsets, seed=cfg.seed)


def evaluate_run(cfg, generator, images, workdir, name="eval.json", source=None):
    """Computes the configured metrics of `generator`; writes <workdir>/<name>; returns the float metrics.

    `source` says what `generator` holds, e.g. {"step": 400, "checkpoint": ".../ckpt-400"}: the file records it as
    `generator` (null when not given) next to the metrics and their `protocol`."""
    extractor = build_extractor(cfg)
    real = reference_stats(cfg, extractor, images, workdir)
    results = evaluate_generator(sampler(generator, seed=cfg.seed + 12345), extractor, real, eval_protocol(cfg))
    write_json(os.path.join(workdir, name), {**results, "generator": source})
    metrics = {k: v for k, v in results.items() if k != "protocol"}
    logging.info("%s: %s", workdir, "  ".join(f"{k} {v:.4g}" for k, v in metrics.items()))
    if metrics["collapsed"]:
        logging.warning("%s: the generator COLLAPSED: only %.3f of its output variance varies with z (threshold "
                        "%.2f); its samples are close to one image", workdir, metrics["z_share"],
                        results["protocol"]["collapse_threshold"])
    return metrics


class PeriodicEvaluator:
    """fn(step) for a StepCallback: evaluates the sampling generator, logs the metrics to TensorBoard, and keeps the
    checkpoint with the best FID so far in <workdir>/best (with best.json saying which step it is)."""

    def __init__(self, cfg, run, images, workdir, writer):
        self.cfg, self.run, self.images, self.workdir, self.writer = cfg, run, images, workdir, writer
        self.best_path = os.path.join(workdir, "best", "best.json")
        self.best = read_json(self.best_path) if os.path.exists(self.best_path) else {"fid": float("inf")}
        self.checkpointer = Checkpointer(os.path.join(workdir, "best"), 1, **run.trainer.checkpoint_items())

    def __call__(self, step):
        metrics = evaluate_run(self.cfg, self.run.sampling_generator, self.images, self.workdir,
                               name=os.path.join("evals", f"step_{step:07d}.json"), source={"step": int(step)})
        with self.writer.as_default(step=step):
            for key, value in metrics.items():
                tf.summary.scalar(f"eval/{key}", value)
        if metrics.get("fid", float("inf")) < self.best["fid"]:
            self.best = dict(step=int(step), fid=metrics["fid"], checkpoint=self.checkpointer.save(step))
            write_json(self.best_path, self.best)
            logging.info("new best FID %.3f at step %d", metrics["fid"], step)
        return metrics
