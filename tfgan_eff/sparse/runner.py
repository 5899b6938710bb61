"""`--method=sparse`: the STU-GAN run and its comparison runs, each resumable in its own sub-work-dir, and one table.

<workdir>/sparse          the sparse run (sparse.mode, masks from sparse.g_density / sparse.d_density)
<workdir>/dense           plain GAN, same architecture, steps and seed
<workdir>/<mode>          the same sparse run with another mode (static, dynamic_gd, dynamic_d, dynamic_g)
<workdir>/prune           the dense run's G and D pruned once by magnitude to d_G / d_D, then finetuned with static
                          masks for sparse.finetune_steps (0 = train.steps); trains the dense run first if needed
<workdir>/ref_stats.npz   the reference statistics every run is evaluated against
<workdir>/summary.json    per-run summaries, the comparison table, an honest note on what sparsity buys, and
                          generator_workdir (the sparse run, for tfgan_eff.inference)
"""

import copy
import functools
import os

import numpy as np
from absl import logging

from tfgan_eff.config.validate import ConfigError
from tfgan_eff.export.pipeline import export_generator
from tfgan_eff.sparse.callbacks import read_diagnostics, sparsity_callback
from tfgan_eff.sparse.masks import conv_layers, has_masks, strip_masks
from tfgan_eff.sparse.trainer import MODES, SparseTrainer
from tfgan_eff.training import checkpoint
from tfgan_eff.training.evaluation import build_extractor, reference_stats
from tfgan_eff.training.loop import load_data, train_gan
from tfgan_eff.training.strategy import get_strategy
from tfgan_eff.training.workdir import write_json

MAIN_RUN = "sparse"
COMPARISONS = ("dense", "prune") + MODES
_CONV_OPS = ("CONV_2D", "TRANSPOSE_CONV")
NOTE = ("Sparsity here is unstructured zeros inside dense kernels. TensorFlow and LiteRT run them with dense "
        "convolutions, so a sparse generator is exactly as slow as the dense one (float32 ms/img). Its files shrink "
        "only through compression (the gzip half of each size) or the TFLite converter's sparse format (the _sparse "
        "columns, where it applied); neither makes inference faster. STU-GAN's savings are FLOPs on paper unless a "
        "sparse kernel library runs the model.")


def run_plan(cfg):
    """[(run name, kind)] in training order: the sparse run, then the comparisons (dense before prune).

    Raises ConfigError for an unknown comparison, one that repeats sparse.mode, or negative finetune_steps.
    """
    names = [name for name in cfg.sparse.comparisons.split(",") if name]
    problems = [f"sparse.comparisons item {name!r} is not one of {list(COMPARISONS)}" for name in names
                if name not in COMPARISONS]
    problems += [f"sparse.comparisons item {name!r} repeats sparse.mode; drop it from the list" for name in names
                 if name == cfg.sparse.mode]
    if cfg.sparse.finetune_steps < 0:
        problems.append(f"sparse.finetune_steps must be >= 0 (0 = train.steps), got {cfg.sparse.finetune_steps}")
    if problems:
        raise ConfigError("invalid config:\n  - " + "\n  - ".join(problems))
    if "prune" in names and "dense" not in names:
        names.append("dense")  # the pruned run starts from the trained dense run
    names.sort(key=lambda name: name == "prune")
    return [(MAIN_RUN, cfg.sparse.mode)] + [(name, name) for name in dict.fromkeys(names)]


def run_config(cfg, name, kind, ref_stats=""):
    """The config of one run: `cfg` with its name, the dense run as a plain GAN, the prune run's finetune steps."""
    sub = copy.deepcopy(cfg)
    with sub.unlocked():
        sub.name = f"{cfg.name}/{name}"
        if kind == "dense":
            sub.method = "baseline"
        if kind == "prune" and cfg.sparse.finetune_steps:
            sub.train.steps = cfg.sparse.finetune_steps
        if ref_stats:
            sub.eval.ref_stats = ref_stats
    return sub


def _pruned_trainer(generator, discriminator, train_cfg, *, dense_dir, sparse_cfg, seed, ema_generator=None,
                    diffaug=""):
    """Loads the dense run's last checkpoint (G, D, EMA), then masks it by magnitude with static masks."""
    items = dict(generator=generator, discriminator=discriminator)
    if ema_generator is not None:
        items["ema_generator"] = ema_generator
    path = checkpoint.restore_from(os.path.join(dense_dir, "checkpoints"), **items)
    logging.info("pruning the dense run %s by magnitude", path)
    return SparseTrainer(generator, discriminator, train_cfg, sparse_cfg=sparse_cfg, mode="static", seed=seed,
                         mask_init="magnitude", ema_generator=ema_generator, diffaug=diffaug)


def trainer_factory(cfg, kind, workdir):
    """train_gan's trainer_factory for a run kind (None = plain GANTrainer for the dense run)."""
    if kind == "dense":
        return None
    if kind == "prune":
        return functools.partial(_pruned_trainer, dense_dir=os.path.join(workdir, "dense"), sparse_cfg=cfg.sparse,
                                 seed=cfg.seed)
    return functools.partial(SparseTrainer, sparse_cfg=cfg.sparse, mode=kind, seed=cfg.seed)


def mask_report(masks):
    """Overall density and exact zero count of a MaskSet (None for a dense network)."""
    if masks is None:
        return {"density": 1.0, "zeros": 0}
    sizes = [int(np.prod(m.shape)) for m in masks.masks]
    nnz = sum(masks.nnz().values())
    return {"density": nnz / sum(sizes), "zeros": sum(sizes) - nnz, "layers": masks.densities()}


def zero_check(g_masks, generator, report):
    """Do the exported kernels keep the zeros of G's masks? Keras: every masked position of the exported
    generator's conv kernels is 0. TFLite: its conv kernels hold at least as many exact zeros."""
    masks = [m.numpy() for m in g_masks.masks]
    kernels = [layer.kernel.numpy() for layer in conv_layers(generator)]
    masked_zeros = int(sum((m == 0).sum() for m in masks))
    check = {"masked_zeros": masked_zeros,
             "keras_keeps_zeros": bool(all(np.all(k[m == 0] == 0) for k, m in zip(kernels, masks)))}
    for key, entry in report["artifacts"].items():
        sparsity = entry.get("kernel_sparsity")
        if sparsity:
            zeros = sum(round(k["zero_fraction"] * k["size"]) for k in sparsity["kernels"] if k["op"] in _CONV_OPS)
            check[f"tflite_{key}_conv_zeros"] = int(zeros)
            check[f"tflite_{key}_keeps_zeros"] = zeros >= masked_zeros
    return check


def export_run(run, workdir, cfg, sparse):
    """Exports the run's sampling generator (masks stripped) with a sparsity report; returns the export summary."""
    generator = run.sampling_generator
    if has_masks(generator):  # no EMA: the live G carries the masks; fold them in (training is over)
        strip_masks(generator)
    modes = tuple(m for m in cfg.export.modes.split(",") if m)
    report = export_generator(generator, os.path.join(workdir, "export"), modes=modes, seed=cfg.seed,
                              sparsity_report=sparse)
    values = [v.numpy() for v in generator.trainable_variables]
    summary = {"report": os.path.join(workdir, "export", "report.json"),
               "g_params": int(sum(v.size for v in values)),
               "g_nonzero_params": int(sum(np.count_nonzero(v) for v in values)),
               "artifacts": {key: {k: entry.get(k) for k in ("size_bytes", "gzip_bytes", "latency_ms_per_image",
                                                             "applied", "error") if k in entry}
                             for key, entry in report["artifacts"].items()}}
    if sparse and run.trainer.g_masks is not None:
        summary["zero_check"] = zero_check(run.trainer.g_masks, generator, report)
    return summary


def train_one(cfg, workdir, name, kind, strategy):
    """Trains (or resumes), evaluates and exports one run in <workdir>/<name>; returns its summary."""
    sub_dir = os.path.join(workdir, name)
    sparse = kind != "dense"
    run, summary = train_gan(cfg, sub_dir, strategy, trainer_factory=trainer_factory(cfg, kind, workdir),
                             export=False, extra_callbacks=[sparsity_callback] if sparse else ())
    summary["kind"] = kind
    if sparse:
        history = read_diagnostics(sub_dir)
        summary["sparsity"] = {"g": mask_report(run.trainer.g_masks), "d": mask_report(run.trainer.d_masks),
                               "final": history[-1] if history else None, "history": history}
    if cfg.export.enabled:
        summary["export"] = export_run(run, sub_dir, cfg, sparse)
    write_json(os.path.join(sub_dir, "summary.json"), summary)
    return summary


def _size_cell(entry):
    """'raw/gzip' in KiB for one export artifact (or why there is no file)."""
    if "error" in entry:
        return "error"
    if entry.get("applied") is False:
        return "not applied"
    return f"{entry['size_bytes'] / 1024:.0f}/{entry['gzip_bytes'] / 1024:.0f}"


def table_row(name, summary):
    """One line of the comparison table (TFLite sizes as 'raw/gzip' KiB; '_sparse' = the converter's sparse
    format, only attempted for sparse runs)."""
    metrics = summary.get("metrics", {})
    sparsity = summary.get("sparsity", {})
    export = summary.get("export", {})
    artifacts = export.get("artifacts", {})
    row = {"run": name, "mode": summary["kind"],
           "d_G": sparsity.get("g", {}).get("density", 1.0), "d_D": sparsity.get("d", {}).get("density", 1.0),
           "FID": metrics.get("fid"), "KID": metrics.get("kid_mean"),
           "G params": export.get("g_params"), "G nnz": export.get("g_nonzero_params")}
    for key, entry in artifacts.items():
        if key != "saved_model":
            row[f"{key} KiB"] = _size_cell(entry)
    if "latency_ms_per_image" in artifacts.get("float32", {}):
        row["float32 ms/img"] = artifacts["float32"]["latency_ms_per_image"]
    return row


def format_table(rows):
    """The rows as a fixed-width text table (the union of their columns)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))

    def cell(value):
        if isinstance(value, float):
            return f"{value:.4g}"
        return "-" if value is None else str(value)

    cells = [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)


def shared_reference_stats(cfg, workdir):
    """Computes (or reuses) <workdir>/ref_stats.npz once for all runs; returns its path ('' when not evaluating)."""
    if cfg.eval.ref_stats or not cfg.eval.at_end:
        return cfg.eval.ref_stats
    path = os.path.join(workdir, "ref_stats.npz")
    if not os.path.exists(path):
        images, _ = load_data(cfg)
        reference_stats(cfg, build_extractor(cfg), images, workdir)
    return path


def run(cfg, workdir, strategy=None):
    """Trains the sparse run and its comparisons in `workdir`; writes and returns the summary with the table."""
    strategy = strategy or get_strategy(cfg.train.strategy)
    plan = run_plan(cfg)
    ref_stats = shared_reference_stats(cfg, workdir)
    runs = {}
    for name, kind in plan:
        logging.info("sparse: run %r (%s)", name, kind)
        runs[name] = train_one(run_config(cfg, name, kind, ref_stats), workdir, name, kind, strategy)
    rows = [table_row(name, runs[name]) for name, _ in plan]
    table = format_table(rows)
    summary = {"method": "sparse", "config": cfg.name, "workdir": workdir, "generator_workdir": MAIN_RUN,
               "runs": runs, "table": rows, "table_text": table, "note": NOTE}
    write_json(os.path.join(workdir, "summary.json"), summary)
    logging.info("sparse comparison (%s):\n%s\n%s", workdir, table, NOTE)
    return summary
