"""STU-GAN's sub-runs: the sparse run and its comparison runs (run by training.experiment), and their table.

<workdir>/sparse          the sparse run (sparse.mode, masks from sparse.g_density / sparse.d_density)
<workdir>/dense           plain GAN, same architecture, steps and seed
<workdir>/<mode>          the same sparse run with another mode (static, dynamic_gd, dynamic_d, dynamic_g)
<workdir>/prune           the dense run's G and D (its checkpoint at sparse.prune_step, 0 = its last) pruned once by
                          magnitude to d_G / d_D, then finetuned with static masks for sparse.finetune_steps (0 =
                          train.steps); the dense run is sparse.prune_from, else this run's (trained first if needed)
<workdir>/ref_stats.npz   the reference statistics every run is evaluated against
<workdir>/summary.json    per-run summaries, the comparison table, an honest note on what sparsity buys, and
                          generator_workdir (the sparse run, for tfgan_eff.inference)
"""

import functools
import os

import numpy as np
from absl import logging

from tfgan_eff.errors import UserError
from tfgan_eff.export.pipeline import ExportSettings, export_generator
from tfgan_eff.lists import comma_list
from tfgan_eff.pieces.masks import conv_layers, fold_for_export
from tfgan_eff.pieces.sparse_weights import SparseWeights
from tfgan_eff.pieces.sparsity_callback import read_diagnostics, sparsity_callback
from tfgan_eff.training import checkpoint
from tfgan_eff.training.experiment import Plan, SubRun, generator_source, sub_config
from tfgan_eff.training.trainer import GANTrainer

MAIN_RUN = "sparse"
_CONV_OPS = ("CONV_2D", "TRANSPOSE_CONV")
NOTE = ("Sparsity here is unstructured zeros inside dense kernels. TensorFlow and LiteRT run them with dense "
        "convolutions, so a sparse generator is exactly as slow as the dense one (float32 ms/img). Its files shrink "
        "only through compression (the gzip half of each size) or the TFLite converter's sparse format (the _sparse "
        "columns, where it applied); neither makes inference faster. STU-GAN's savings are FLOPs on paper unless a "
        "sparse kernel library runs the model.")


def sub_run_kinds(cfg):
    """[(run name, kind)] in training order: the sparse run, then the comparisons (dense before prune; the pruned
    run starts from the trained dense run, which is added when missing)."""
    names = comma_list(cfg.sparse.comparisons)
    if "prune" in names and "dense" not in names and not cfg.sparse.prune_from:
        names.append("dense")
    names.sort(key=lambda name: name == "prune")
    return [(MAIN_RUN, cfg.sparse.mode)] + [(name, name) for name in dict.fromkeys(names)]


def run_config(cfg, name, kind):
    """The config of one run: `cfg` with its name, the dense run as a plain GAN, the prune run's finetune steps."""
    changes = {"method": "baseline"} if kind == "dense" else {}
    if kind == "prune" and cfg.sparse.finetune_steps:
        changes["train.steps"] = cfg.sparse.finetune_steps
    return sub_config(cfg, name, changes)


class MissingPruneCheckpointError(UserError, FileNotFoundError):
    """The dense run to prune has no checkpoint (at sparse.prune_step)."""


def dense_checkpoint(dense_dir, step):
    """The dense run's checkpoint to prune: its checkpoint dir (its newest readable one) for step 0, else the prefix
    of its checkpoint at `step`; either must exist."""
    directory = os.path.join(dense_dir, "checkpoints")
    kept = sorted(s for s in map(checkpoint.checkpoint_step, checkpoint.checkpoints_in(directory)) if s is not None)
    if not kept:
        raise MissingPruneCheckpointError(
            f"the dense run to prune, {dense_dir}, has no checkpoints/ckpt-N: pass as sparse.prune_from the work dir "
            "of a finished dense run (a --method=baseline run, or the dense/ folder of a --method=sparse run)")
    if not step:
        return directory
    if step not in kept:
        raise MissingPruneCheckpointError(
            f"sparse.prune_step={step}: the dense run {dense_dir} has no checkpoint at that step (kept: "
            f"{kept}); pass one of those, or train the dense run keeping more checkpoints "
            "(train.ckpt_every, train.keep_checkpoints)")
    return os.path.join(directory, f"ckpt-{step}")


def _pruned_trainer(generator, discriminator, train_cfg, *, dense_dir, sparse_cfg, seed, ema_generator=None,
                    diffaug=""):
    """Loads the dense run's checkpoint (G, D, EMA; sparse.prune_step), then masks it by magnitude with static
    masks."""
    items = dict(generator=generator, discriminator=discriminator)
    if ema_generator is not None:
        items["ema_generator"] = ema_generator
    path = checkpoint.restore_from(dense_checkpoint(dense_dir, sparse_cfg.prune_step), **items)
    logging.info("pruning the dense run %s by magnitude", path)
    sparse = SparseWeights(sparse_cfg, mode="static", seed=seed, mask_init="magnitude")
    return GANTrainer(generator, discriminator, train_cfg, ema_generator=ema_generator, diffaug=diffaug,
                      pieces=(sparse,))


def sparse_trainer(generator, discriminator, train_cfg, *, sparse_cfg, mode, seed, **kwargs):
    """A GANTrainer with the SparseWeights piece of `mode` (random initial masks)."""
    return GANTrainer(generator, discriminator, train_cfg, pieces=(SparseWeights(sparse_cfg, mode=mode, seed=seed),),
                      **kwargs)


def trainer_factory(cfg, kind, workdir):
    """train_gan's trainer_factory for a run kind (None = plain GANTrainer for the dense run)."""
    if kind == "dense":
        return None
    if kind == "prune":
        return functools.partial(_pruned_trainer, dense_dir=cfg.sparse.prune_from or os.path.join(workdir, "dense"),
                                 sparse_cfg=cfg.sparse, seed=cfg.seed)
    return functools.partial(sparse_trainer, sparse_cfg=cfg.sparse, mode=kind, seed=cfg.seed)


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


def export_run(result, workdir, cfg):
    """Exports the run's sampling generator (masks stripped) with a sparsity report; returns the export summary."""
    generator = result.generator
    sparse = result.trainer.piece(SparseWeights)
    counts = fold_for_export(generator)
    settings = ExportSettings(modes=comma_list(cfg.export.modes), seed=cfg.seed, sparsity_report=sparse is not None)
    report = export_generator(generator, os.path.join(workdir, "export"), settings,
                              source=generator_source(result.summary))
    summary = {"report": os.path.join(workdir, "export", "report.json"), **counts,
               "artifacts": {key: {k: entry.get(k) for k in ("size_bytes", "gzip_bytes", "latency_ms_per_image",
                                                             "applied", "error") if k in entry}
                             for key, entry in report["artifacts"].items()}}
    if sparse is not None and sparse.g_masks is not None:
        summary["zero_check"] = zero_check(sparse.g_masks, generator, report)
    return {"export": summary}


def run_report(result, workdir, kind):
    """Summary fields of a trained run: its kind and, for a sparse one, the masks' densities and diagnostics."""
    if kind == "dense":
        return {"kind": kind}
    history = read_diagnostics(workdir)
    sparse = result.trainer.piece(SparseWeights)
    return {"kind": kind,
            "sparsity": {"g": mask_report(sparse.g_masks), "d": mask_report(sparse.d_masks),
                         "final": history[-1] if history else None, "history": history}}


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


def plan(cfg, workdir):
    """The sparse run and its comparisons for `cfg` in `workdir`, and the summary with the comparison table."""
    runs = [SubRun(name, run_config(cfg, name, kind), trainer_factory=trainer_factory(cfg, kind, workdir),
                   callbacks=(sparsity_callback,) if kind != "dense" else (),
                   report=functools.partial(run_report, kind=kind), exporter=export_run,
                   after=("dense",) if kind == "prune" and not cfg.sparse.prune_from else ())
            for name, kind in sub_run_kinds(cfg)]

    def table(results):
        return [table_row(name, results[name]) for name in results]

    def prepare(strategy):
        """Checks the external dense run's checkpoint before anything trains."""
        del strategy
        if cfg.sparse.prune_from and any(sub.name == "prune" for sub in runs):
            dense_checkpoint(cfg.sparse.prune_from, cfg.sparse.prune_step)

    return Plan(runs=runs, main_run=MAIN_RUN, table=table, prepare=prepare,
                title=f"sparse comparison ({cfg.name})", note=NOTE)
