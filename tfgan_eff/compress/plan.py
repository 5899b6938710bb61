"""Compression's sub-runs: teacher -> per student: stage 1 -> teacher-guided stage 2 -> export, and the table.

Work dir layout (each sub-run is an ordinary, resumable `train_gan` run):
  teacher/                the teacher, when compress.teacher_workdir is empty (a baseline run at full width)
  teacher_eval/           evaluation + export of an external teacher's G (none for a teacher D file given without
                          compress.teacher_generator)
  <student>_stage1/       the student alone (lambda = 0) up to the switch step; sparse from its first step when a
                          density is < 1
  <student>/              stage 2: from stage 1's G, D, EMA, masks and step, fresh optimizers, the frozen teacher D's
                          term on (DGL-GAN), to train.steps; exported in every export.modes mode and verified in LiteRT
  summary.json            the table: one row for the teacher and one per student

Students: `g<width>` per compress.g_widths (the teacher's G architecture, narrower; from random weights, or from the
teacher G's channels with compress.student_init='teacher') and `genotype` when compress.genotype names a genotype.
Each trains against its own D (width compress.d_width) plus the frozen D_T.
"""

import functools
import os

import ml_collections

from tfgan_eff.compress.method import GENOTYPE_ARCH, widths
from tfgan_eff.export.pipeline import ExportSettings, export_generator
from tfgan_eff.lists import comma_list
from tfgan_eff.models import registry
from tfgan_eff.models.flops import count_flops, generator_input_specs
from tfgan_eff.models.slim import ChannelInheritanceError, inheritance_problem
from tfgan_eff.pieces.guidance import TeacherGuidance
from tfgan_eff.pieces.inherited_channels import InheritedChannels
from tfgan_eff.pieces.keys import model_file_format, switch_step
from tfgan_eff.pieces.masks import fold_for_export
from tfgan_eff.pieces.sparse_weights import SparseWeights
from tfgan_eff.pieces.sparsity_callback import sparsity_callback
from tfgan_eff.pieces.teacher import TeacherSource
from tfgan_eff.training.experiment import Plan, SubRun, generator_source, sub_config
from tfgan_eff.training.trainer import GANTrainer

# What each export artifact contributes to the summary.
_ARTIFACT_KEYS = ("size_bytes", "gzip_bytes", "latency_ms_per_image", "max_abs_diff", "error")
NOTE = ("gz KiB: the gzipped .tflite; ms/img: LiteRT at batch 1 on one thread (median); FLOPs count a sparse G's "
        "zeros as work (LiteRT runs dense kernels); z_share < 0.25 = collapsed.")


def sparse_settings(cfg):
    """The SparseWeights config of the students: the compress densities and mode, sparse.* schedule keys."""
    return ml_collections.ConfigDict(dict(
        cfg.sparse.to_dict(), g_density=cfg.compress.g_density, d_density=cfg.compress.d_density,
        mode=cfg.compress.sparse_mode))


def is_sparse(cfg):
    """Whether the students carry masks."""
    return cfg.compress.g_density < 1 or cfg.compress.d_density < 1


def student_trainer(generator, discriminator, train_cfg, *, source, cfg, switch, guided, inherit=False, **kwargs):
    """A trainer_factory: GANTrainer with the students' pieces: G from the teacher G's channels (`inherit`), the
    teacher guidance (stage 2) and sparse weights."""
    pieces = [InheritedChannels(source.teacher.generator)] if inherit else []
    if guided:
        pieces.append(TeacherGuidance(source.teacher.discriminator, term="dgl", weight=cfg.compress.lambda_teacher,
                                      switch_step=switch, teacher_diffaug=cfg.compress.teacher_diffaug))
    if is_sparse(cfg):
        pieces.append(SparseWeights(sparse_settings(cfg), seed=cfg.seed))
    return GANTrainer(generator, discriminator, train_cfg, pieces=tuple(pieces), **kwargs)


def export_run(result, workdir, cfg):
    """Exports the run's generator (masks folded in) in every export.modes mode, verified in LiteRT; returns the
    summary fields: params, nonzero params, FLOPs at batch 1 and per mode the file, its gzip size, latency and
    error against Keras."""
    generator = result.generator
    counts = fold_for_export(generator)
    report = export_generator(generator, os.path.join(workdir, "export"),
                              ExportSettings(modes=comma_list(cfg.export.modes), seed=cfg.seed),
                              source=generator_source(result.summary))
    return {"export": os.path.join(workdir, "export", "report.json"), **counts,
            "g_flops": count_flops(generator, generator_input_specs(generator)),
            "artifacts": {key: {k: entry[k] for k in _ARTIFACT_KEYS if k in entry}
                          for key, entry in report["artifacts"].items() if key != "saved_model"}}


def student_names(cfg):
    """{student name: model.g changes} in training order."""
    students = {f"g{w:g}": {"model.g.width": cfg.model.g.width * w} for w in widths(cfg)}
    if cfg.compress.genotype:
        students["genotype"] = {"model.g.arch": GENOTYPE_ARCH, "model.g.genotype": cfg.compress.genotype}
    return students


def table_row(name, summary, modes):
    """One line of the table: costs, per export mode gz KiB and ms/img, FID and the collapse check."""
    metrics = summary.get("metrics", {})
    row = {"run": name, "G params": summary.get("g_params"), "G nnz": summary.get("g_nonzero_params"),
           "G MFLOPs": summary["g_flops"] / 1e6 if summary.get("g_flops") else None}
    for mode in modes:
        entry = summary.get("artifacts", {}).get(mode, {})
        row[f"{mode} gz KiB"] = entry["gzip_bytes"] / 1024 if "gzip_bytes" in entry else entry.get("error")
        row[f"{mode} ms/img"] = entry.get("latency_ms_per_image")
    row.update({"FID": metrics.get("fid"), "z_share": metrics.get("z_share"), "collapsed": metrics.get("collapsed")})
    return row


def plan(cfg, workdir):
    """The compression sub-runs for `cfg` in `workdir` and the summary with the table."""
    total = cfg.train.steps
    switch = switch_step(total, cfg.compress.switch_fraction, cfg.compress.switch_step)
    teacher_path = cfg.compress.teacher_workdir
    runs = []
    if teacher_path:
        source = TeacherSource(cfg, teacher_path, key="compress.teacher_workdir",
                               generator_path=cfg.compress.teacher_generator)
        if not model_file_format(teacher_path) or cfg.compress.teacher_generator:  # a G to evaluate and export
            runs.append(SubRun("teacher_eval", sub_config(cfg, "teacher_eval"), step=source.evaluation_step,
                               exporter=export_run))
    else:
        source = TeacherSource(cfg, os.path.join(workdir, "teacher"))
        runs.append(SubRun("teacher", sub_config(cfg, "teacher", {
            "method": "baseline", "train.steps": cfg.compress.teacher_steps or total}), exporter=export_run))
    callbacks = (sparsity_callback,) if is_sparse(cfg) else ()
    factory = functools.partial(student_trainer, source=source, cfg=cfg, switch=switch)
    students = student_names(cfg)
    for name, changes in students.items():
        changes = {**changes, "model.d.width": cfg.model.d.width * cfg.compress.d_width}
        # The student's first sub-run starts from the teacher's channels; a second stage restores over them.
        inherit = cfg.compress.student_init == "teacher" and name != "genotype"
        init_from = ""
        if switch > 0:
            stage1 = sub_config(cfg, f"{name}_stage1", {**changes, "train.steps": switch, "eval.every": 0})
            runs.append(SubRun(f"{name}_stage1", stage1, callbacks=callbacks, evaluate=False, export=False,
                               trainer_factory=functools.partial(factory, guided=False, inherit=inherit)))
            init_from, inherit = f"{name}_stage1", False
        runs.append(SubRun(name, sub_config(cfg, name, changes), init_from=init_from, callbacks=callbacks,
                           trainer_factory=functools.partial(factory, guided=True, inherit=inherit),
                           exporter=export_run))
    modes = comma_list(cfg.export.modes)

    def table(results):
        rows = [table_row("teacher", results[t], modes) for t in ("teacher", "teacher_eval") if t in results]
        return rows + [table_row(name, results[name], modes) for name in students]

    def prepare(strategy):
        """Loads an external teacher and checks it against this run's data (and, for inherited channels, its G
        against each width student's) before anything trains."""
        if teacher_path:
            with strategy.scope():
                teacher = source.teacher
            if cfg.compress.student_init == "teacher":
                for width in widths(cfg):
                    problem = inheritance_problem(teacher.generator, registry.build_generator(cfg, width))
                    if problem:
                        raise ChannelInheritanceError(f"compress.student_init='teacher', student g{width:g}: {problem}")

    return Plan(runs=runs, main_run=next(iter(students)), table=table, prepare=prepare, note=NOTE,
                title=f"compression ({cfg.name}, {total} steps, teacher D guides from step {switch}, lambda "
                      f"{cfg.compress.lambda_teacher}" + (f", G density {cfg.compress.g_density}" if is_sparse(cfg)
                                                          else "") + ")")
