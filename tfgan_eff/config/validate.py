"""Checks a run config before anything is built: unknown keys, wrong types, impossible values, missing paths."""

import difflib
import json
import os

import ml_collections

from tfgan_eff.config import schema


class ConfigError(ValueError):
    """The config cannot run; the message lists every problem and what to pass instead."""


def _flatten(cfg, prefix=""):
    out = {}
    for key, value in cfg.items():
        path = f"{prefix}{key}"
        if isinstance(value, ml_collections.ConfigDict):
            out.update(_flatten(value, path + "."))
        else:
            out[path] = value
    return out


def _key_problems(cfg):
    reference = _flatten(schema.base_config())
    given = _flatten(cfg)
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


def _positive(cfg, keys):
    return [f"{k} must be > 0, got {v}" for k, v in ((k, _get(cfg, k)) for k in keys) if not v > 0]


def _non_negative(cfg, hints):
    """Problems of the keys of `hints` ({dotted key: what 0 means, or ""}) that are negative."""
    return [f"{k} must be >= 0{f' ({hint})' if hint else ''}, got {_get(cfg, k)}" for k, hint in hints.items()
            if not _get(cfg, k) >= 0]


def _get(cfg, dotted):
    value = cfg
    for part in dotted.split("."):
        value = value[part]
    return value


def _choice(value, name, choices):
    return [] if value in choices else [f"{name}={value!r} is not one of {list(choices)}"]


def _value_problems(cfg):
    p = []
    p += _choice(cfg.method, "method", schema.METHODS)
    p += _choice(cfg.train.loss, "train.loss", schema.LOSSES)
    p += _choice(cfg.model.g.arch, "model.g.arch", schema.G_ARCHS)
    p += _choice(cfg.model.d.arch, "model.d.arch", schema.D_ARCHS)
    p += _choice(cfg.train.strategy, "train.strategy", schema.STRATEGIES)
    p += _choice(cfg.train.nan_policy, "train.nan_policy", ("stop", "skip"))
    p += _choice(cfg.train.precision, "train.precision", schema.PRECISIONS)
    p += _choice(cfg.data.channels, "data.channels", (1, 3))
    p += _choice(cfg.data.resolution, "data.resolution", (8, 16, 32, 48, 64, 96, 128))
    p += _choice(cfg.eval.extractor, "eval.extractor", ("offline", "inception"))
    p += _positive(cfg, ["train.steps", "train.batch_size", "train.n_critic", "model.latent_dim", "model.g.ch",
                         "model.d.ch", "model.g.width", "model.d.width", "train.log_every", "train.ckpt_every",
                         "train.sample_every", "train.keep_checkpoints", "eval.num_samples", "eval.batch_size",
                         "train.g_opt.lr", "train.d_opt.lr", "data.num_examples"])
    p += _non_negative(cfg, {"train.g_batch_size": "0 = batch_size", "eval.every": "0 = only at the end"})
    for name in ("g_opt", "d_opt"):
        opt = cfg.train[name]
        if not (0 <= opt.beta1 < 1 and 0 <= opt.beta2 < 1):
            p.append(f"train.{name} betas must be in [0, 1), got ({opt.beta1}, {opt.beta2})")
    source = cfg.data.source
    if source.startswith("folder:") and not os.path.isdir(source[7:]):
        p.append(f"data.source folder {source[7:]!r} does not exist")
    elif not (source in ("digits", "shapes") or source.startswith(("tfds:", "folder:"))):
        p.append(f"data.source={source!r}: use digits, shapes, tfds:NAME (with data.tfds_data_dir) or folder:PATH")
    if cfg.data.tfds_data_dir and not os.path.isdir(cfg.data.tfds_data_dir):
        p.append(f"data.tfds_data_dir {cfg.data.tfds_data_dir!r} does not exist")
    if cfg.data.diffaug:
        from tfgan_eff.data.diffaug import parse_policy  # pylint: disable=import-outside-toplevel
        try:
            parse_policy(cfg.data.diffaug)
        except ValueError as err:
            p.append(f"data.diffaug: {err}")
    p += _eval_problems(cfg)
    if cfg.eval.ref_stats and not os.path.isfile(cfg.eval.ref_stats):
        p.append(f"eval.ref_stats {cfg.eval.ref_stats!r} does not exist (make it with tools/compute_ref_stats.py)")
    for mode in filter(None, cfg.export.modes.split(",")):
        p += _choice(mode, "export.modes item", ("float32", "dynamic_int8", "full_int8"))
    if cfg.model.g.arch != "genotype" and cfg.data.conditional and cfg.model.g.arch == "dcgan":
        p.append("data.conditional=True needs model.g.arch sngan or biggan (DCGAN is unconditional)")
    p += _method_problems(cfg)
    return p


def _eval_problems(cfg):
    """The feature extractor must exist for the data, but only when something evaluates (at the end or every N)."""
    if not (cfg.eval.at_end or cfg.eval.every):
        return []
    from tfgan_eff.data.offline import OFFLINE_DATASETS  # pylint: disable=import-outside-toplevel
    inception = "--config.eval.inception_weights=/path/to/inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
    if cfg.eval.extractor == "inception" and not os.path.isfile(cfg.eval.inception_weights):
        return [f"eval.extractor=inception needs a local InceptionV3 weights file: {inception}"]
    if cfg.eval.extractor == "offline" and cfg.data.source not in OFFLINE_DATASETS:
        return [f"eval.extractor=offline has classifiers for {', '.join(OFFLINE_DATASETS)} only; for "
                f"data.source={cfg.data.source!r} pass --config.eval.extractor=inception {inception} "
                "(or --config.eval.at_end=False)"]
    return []


def _method_problems(cfg):
    p = []
    dgl = cfg.dgl
    if cfg.method == "dgl":
        if dgl.teacher_workdir and not os.path.exists(dgl.teacher_workdir):
            p.append(f"dgl.teacher_workdir {dgl.teacher_workdir!r} does not exist (omit it to train a teacher)")
        if not 0 < dgl.student_g_width <= 1 or not 0 < dgl.student_d_width <= 1:
            p.append("dgl.student_g_width and dgl.student_d_width must be in (0, 1]")
        p += _non_negative(cfg, {"dgl.lambda_teacher": "", "dgl.l1_weight": "",
                                 "dgl.teacher_steps": "0 = train.steps"})
        if not 0 <= dgl.switch_fraction < 1:
            p.append(f"dgl.switch_fraction must be in [0, 1), got {dgl.switch_fraction}")
        if dgl.switch_step >= cfg.train.steps:
            p.append(f"dgl.switch_step={dgl.switch_step} must be < train.steps={cfg.train.steps}")
        for name in filter(None, dgl.baselines.split(",")):
            p += _choice(name, "dgl.baselines item", ("plain", "l1", "boost"))
    if cfg.method == "sparse":
        p += _sparse_problems(cfg)
    if cfg.method == "search" or cfg.model.g.arch == "genotype":
        p += _choice(cfg.search.preset, "search.preset", ("s", "l"))
        p += _choice(cfg.search.op_set, "search.op_set", _op_sets())
        p += _choice(cfg.model.g.kernel_init, "model.g.kernel_init", ("glorot_uniform", "he_uniform"))
        for key in ("data.resolution", "search.resolution"):
            if _get(cfg, key) % 8 or _get(cfg, key) < 0:
                p.append(f"alphaGAN's 3 cells need {key} divisible by 8, got {_get(cfg, key)}")
        if not (cfg.search.d_width > 0 and cfg.search.batch_size > 0 and cfg.search.ch > 0):
            p.append("search.d_width, search.batch_size and search.ch must be > 0")
    genotype = cfg.retrain.genotype or (cfg.model.g.genotype if cfg.model.g.arch == "genotype" else "")
    if genotype and genotype not in ("alphagan_l", "alphagan_s"):
        if not os.path.isfile(genotype):
            p.append(f"genotype {genotype!r} is neither a JSON file nor a published name (alphagan_l, alphagan_s)")
        else:
            try:
                with open(genotype, encoding="utf-8") as f:
                    json.load(f)
            except ValueError as err:
                p.append(f"genotype {genotype!r} is not valid JSON: {err}")
    return p


def _op_sets():
    # The candidate ops' names, so that a new op set is valid here without a second list to update.
    from tfgan_eff.search.candidate_ops import OP_SETS  # pylint: disable=import-outside-toplevel
    return OP_SETS


def _sparse_problems(cfg):
    # The runner's names, so that a new mode or comparison kind is valid here without a second list to update.
    from tfgan_eff.sparse.runner import COMPARISONS  # pylint: disable=import-outside-toplevel
    from tfgan_eff.sparse.trainer import MODES  # pylint: disable=import-outside-toplevel
    sparse = cfg.sparse
    p = []
    for key in ("g_density", "d_density"):
        if not 0 < sparse[key] <= 1:
            p.append(f"sparse.{key} must be in (0, 1], got {sparse[key]}")
    for key in ("drop_fraction", "drop_fraction_end"):
        if not 0 <= sparse[key] <= 1:
            p.append(f"sparse.{key} must be in [0, 1], got {sparse[key]}")
    p += _choice(sparse.distribution, "sparse.distribution", ("erk", "uniform"))
    p += _choice(sparse.mode, "sparse.mode", MODES)
    p += _positive(cfg, ["sparse.update_every"])
    p += _non_negative(cfg, {"sparse.finetune_steps": "0 = train.steps"})
    names = [name for name in sparse.comparisons.split(",") if name]
    for name in names:
        p += _choice(name, "sparse.comparisons item", COMPARISONS)
    if sparse.mode in names:
        p.append(f"sparse.comparisons item {sparse.mode!r} repeats sparse.mode; drop it from the list")
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
