"""Checks a run config before anything is built: unknown keys, wrong types, impossible values, missing paths."""

import difflib
import math
import os

from tfgan_eff.config import registry, schema
from tfgan_eff.config.checks import choice, non_negative, positive
from tfgan_eff.data.names import OFFLINE_DATASETS, folder_problem, parse_policy
from tfgan_eff.errors import UserError
from tfgan_eff.lists import comma_list
from tfgan_eff.nested import flatten

RESOLUTIONS = (8, 16, 32, 48, 64, 96, 128)  # data.resolution values the model builders support
# A loaded run's generator base width above this is refused before building (the shipped configs use <= 256; layers
# are up to 16x wider, so 4096 already means a multi-GB generator).
MAX_G_BASE_CHANNELS = 4096


class ConfigError(UserError, ValueError):
    """The config cannot run; the message lists every problem and what to pass instead."""


def _key_problems(cfg):
    reference = flatten(schema.base_config())
    given = flatten(cfg)
    problems = []
    for key in sorted(set(given) - set(reference)):
        close = difflib.get_close_matches(key, reference, n=3)
        problems.append(f"unknown key {key!r}" + (f"; did you mean {', '.join(close)}?" if close else ""))
    for key in sorted(set(given) & set(reference)):
        want, got = type(reference[key]), type(given[key])
        if got is not want and not (want is float and got is int):
            problems.append(f"{key} must be {want.__name__}, got {got.__name__} {given[key]!r}")
    for key in sorted(set(reference) - set(given)):
        problems.append(f"missing key {key!r} (build configs on tfgan_eff.config.schema.base_config())")
    return problems


def _non_finite(cfg):
    """Every float key must be a finite number (lr=inf or nan would pass the range checks or train to NaN)."""
    return [f"{k} must be a finite number, got {v}" for k, v in flatten(cfg).items()
            if isinstance(v, float) and not math.isfinite(v)]


def _value_problems(cfg):
    p = _non_finite(cfg)
    p += choice(cfg.method, "method", registry.names())
    p += choice(cfg.train.loss, "train.loss", schema.LOSSES)
    p += choice(cfg.model.g.arch, "model.g.arch", schema.generator_archs())
    p += choice(cfg.model.d.arch, "model.d.arch", schema.D_ARCHS)
    p += choice(cfg.train.strategy, "train.strategy", schema.STRATEGIES)
    p += choice(cfg.train.nan_policy, "train.nan_policy", ("stop", "skip"))
    p += choice(cfg.train.precision, "train.precision", schema.PRECISIONS)
    p += choice(cfg.data.channels, "data.channels", (1, 3))
    p += choice(cfg.data.resolution, "data.resolution", RESOLUTIONS)
    p += choice(cfg.eval.extractor, "eval.extractor", ("offline", "inception"))
    p += positive(cfg, ["train.steps", "train.batch_size", "train.n_critic", "model.latent_dim", "model.g.ch",
                        "model.d.ch", "model.g.width", "model.d.width", "train.log_every", "train.ckpt_every",
                        "train.sample_every", "train.keep_checkpoints", "eval.num_samples", "eval.batch_size",
                        "train.g_opt.lr", "train.d_opt.lr", "data.num_examples", "train.jobs"])
    if cfg.train.jobs > 1 and cfg.train.strategy not in ("auto", "cpu"):
        p.append(f"train.jobs={cfg.train.jobs} runs each sub-run in a process of its own on one device; "
                 f"train.strategy={cfg.train.strategy!r} spreads one run over devices: use one of the two")
    p += non_negative(cfg, {"train.g_batch_size": "0 = batch_size", "eval.every": "0 = only at the end",
                            "train.max_skipped_in_row": "0 = never stop",
                            "train.intra_op_threads": "0 = TensorFlow's default",
                            "train.inter_op_threads": "0 = TensorFlow's default"})
    for name in ("g_opt", "d_opt"):
        opt = cfg.train[name]
        if not (0 <= opt.beta1 < 1 and 0 <= opt.beta2 < 1):
            p.append(f"train.{name} betas must be in [0, 1), got ({opt.beta1}, {opt.beta2})")
    p += source_problems(cfg.data.source)
    if cfg.data.tfds_data_dir and not os.path.isdir(cfg.data.tfds_data_dir):
        p.append(f"data.tfds_data_dir {cfg.data.tfds_data_dir!r} does not exist")
    if cfg.data.diffaug:
        try:
            parse_policy(cfg.data.diffaug)
        except ValueError as err:
            p.append(f"data.diffaug: {err}")
    p += _eval_problems(cfg)
    if cfg.eval.ref_stats and not os.path.isfile(cfg.eval.ref_stats):
        p.append(f"eval.ref_stats {cfg.eval.ref_stats!r} does not exist (make it with tools/compute_ref_stats.py)")
    for mode in comma_list(cfg.export.modes):
        p += choice(mode, "export.modes item", schema.EXPORT_MODES)
    if cfg.export.enabled and not comma_list(cfg.export.modes):
        p.append(f"export.modes is empty: list one or more of {', '.join(schema.EXPORT_MODES)}, "
                 "or set export.enabled=False")
    for metric in comma_list(cfg.eval.metrics):
        p += choice(metric, "eval.metrics item", schema.EVAL_METRICS)
    if cfg.data.conditional and cfg.model.g.arch == "dcgan":
        p.append("data.conditional=True needs model.g.arch sngan or biggan (DCGAN is unconditional)")
    for method in registry.methods():
        p += method.checks(cfg)
    return p


def source_problems(source, key="data.source"):
    """Problems of a data source name (`key` names the setting in the messages: a config key or a flag)."""
    if source.startswith("folder:") and not os.path.isdir(source[7:]):
        return [f"{key} folder {source[7:]!r} {folder_problem(source[7:])}"]
    if not (source in OFFLINE_DATASETS or source.startswith(("tfds:", "folder:"))):
        return [f"{key}={source!r}: use digits, shapes, tfds:NAME (with data.tfds_data_dir) or folder:PATH"]
    return []


def _eval_problems(cfg):
    """The feature extractor must exist for the data, but only when something evaluates (at the end or every N)."""
    if not (cfg.eval.at_end or cfg.eval.every):
        return []
    inception = "--config.eval.inception_weights=/path/to/inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
    if cfg.eval.extractor == "inception" and not os.path.isfile(cfg.eval.inception_weights):
        return [f"eval.extractor=inception needs a local InceptionV3 weights file: {inception}"]
    if cfg.eval.extractor == "offline" and cfg.data.source not in OFFLINE_DATASETS:
        return [f"eval.extractor=offline has classifiers for {', '.join(OFFLINE_DATASETS)} only; for "
                f"data.source={cfg.data.source!r} pass --config.eval.extractor=inception {inception} "
                "(or --config.eval.at_end=False)"]
    return []


def generator_problems(cfg):
    """Problems of the keys a generator is built from, in a run config read back from a work dir's config.json
    (data from disk: checked before anything is built)."""
    p = _key_problems(cfg)
    if p:
        return p
    p += [x for x in _non_finite(cfg) if x.startswith("model.")]
    p += choice(cfg.model.g.arch, "model.g.arch", schema.generator_archs())
    p += choice(cfg.data.channels, "data.channels", (1, 3))
    p += choice(cfg.data.resolution, "data.resolution", RESOLUTIONS)
    p += positive(cfg, ["model.latent_dim", "model.g.ch", "model.g.width"])
    p += non_negative(cfg, {"data.num_classes": ""})
    if not p and cfg.model.g.ch * cfg.model.g.width > MAX_G_BASE_CHANNELS:
        p.append(f"model.g.ch * model.g.width = {cfg.model.g.ch * cfg.model.g.width:g} base channels is over "
                 f"{MAX_G_BASE_CHANNELS}: not a config this package trains (config.json edited?)")
    return p


def validate(cfg):
    """Raises ConfigError listing every problem of `cfg`; returns cfg locked when it is valid."""
    problems = _key_problems(cfg)
    if not problems:
        problems = _value_problems(cfg)
    if problems:
        raise ConfigError("invalid config:\n  - " + "\n  - ".join(problems))
    cfg.lock()
    return cfg
