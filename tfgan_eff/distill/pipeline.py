"""`--method=dgl`: teacher -> student stage 1 -> DGL stage 2 (+ baselines) -> evaluation -> export -> table.

Work dir layout (each sub-run is an ordinary, resumable `train_gan` run):
  teacher/        the full-width teacher, when dgl.teacher_workdir is empty (a baseline run)
  teacher_eval/   evaluation + float32 export of an external teacher
  stage1/         student (G width dgl.student_g_width, D width dgl.student_d_width), lambda = 0, up to the switch
  dgl/            stage 2: from stage1's G_S, D_S, EMA and step, fresh optimizers, teacher term on, to train.steps
  plain/ l1/      baselines from the same stage-1 checkpoint for the same total steps (no teacher / L1 KD from G_T)
  boost_stage1/ boost/   a full-width student trained from scratch through both stages, guided by D_T
  summary.json    the table (FID, KID, G params, G FLOPs, TFLite float32 size) + params/FLOPs of teacher and student

A sub-run whose summary.json reports its final step is not run again, so a killed pipeline resumes where it stopped
(a stage-2 run resumes from its own checkpoints).
"""

import functools
import os
import time

from absl import logging

from tfgan_eff.distill.teacher import TeacherError, load_teacher
from tfgan_eff.distill.trainer import DGLTrainer, L1DistillTrainer
from tfgan_eff.models import registry
from tfgan_eff.models.flops import count_flops, discriminator_input_specs, generator_input_specs
from tfgan_eff.training import evaluation
from tfgan_eff.training.loop import count_params, load_data, train_gan
from tfgan_eff.training.workdir import read_json, write_json


def switch_step(cfg):
    """The first step of stage 2: dgl.switch_step when >= 0, else round(dgl.switch_fraction * train.steps)."""
    if cfg.dgl.switch_step >= 0:
        return int(cfg.dgl.switch_step)
    return int(round(cfg.dgl.switch_fraction * cfg.train.steps))


def sub_config(cfg, name, steps, method=None, export_modes=None):
    """A copy of `cfg` for one sub-run: its name, step count and (optionally) method and export modes."""
    sub = cfg.copy_and_resolve_references()
    sub.name = f"{cfg.name}/{name}"
    sub.train.steps = int(steps)
    if method:
        sub.method = method
    if export_modes is not None:
        sub.export.modes = export_modes
    return sub


def _finished(path, steps, evaluate, export):
    """The summary of a sub-run in `path` that already reached `steps` (and was evaluated/exported), else None."""
    summary_path = os.path.join(path, "summary.json")
    if not os.path.isfile(summary_path):
        return None
    summary = read_json(summary_path)
    if summary.get("steps") != steps or (evaluate and "metrics" not in summary) or \
            (export and "export" not in summary):
        return None
    return summary


def sub_run(sub_cfg, path, strategy, **kwargs):
    """Runs (or resumes) one train_gan sub-run; a finished one is only read back. Returns its summary."""
    evaluate = kwargs.get("evaluate", True) and sub_cfg.eval.at_end
    export = kwargs.get("export", True) and sub_cfg.export.enabled
    summary = _finished(path, sub_cfg.train.steps, evaluate, export)
    if summary is not None:
        logging.info("%s: finished earlier (step %d), not run again", path, summary["steps"])
        return summary
    return train_gan(sub_cfg, path, strategy, **kwargs)[1]


def _check_compatible(teacher_cfg, cfg):
    keys = [("data", "resolution"), ("data", "channels"), ("data", "conditional"), ("data", "num_classes")]
    diffs = [f"{a}.{b}: teacher {teacher_cfg[a][b]!r} vs student {cfg[a][b]!r}" for a, b in keys
             if teacher_cfg[a][b] != cfg[a][b]]
    if diffs:
        raise TeacherError("the teacher's discriminator cannot judge this student's images (" + "; ".join(diffs) +
                           "); train the student on the teacher's data settings")


def _train_teacher(cfg, workdir, strategy):
    """(teacher path, its summary): dgl.teacher_workdir as is, or a baseline run trained in <workdir>/teacher."""
    if cfg.dgl.teacher_workdir:
        return cfg.dgl.teacher_workdir, None
    path = os.path.join(workdir, "teacher")
    steps = cfg.dgl.teacher_steps or cfg.train.steps
    return path, sub_run(sub_config(cfg, "teacher", steps, method="baseline", export_modes="float32"), path, strategy)


def _external_teacher_summary(cfg, teacher, images, out):
    """Evaluates and exports (float32) a loaded external teacher under this run's protocol, once (cached in out/)."""
    summary_path = os.path.join(out, "summary.json")
    if os.path.isfile(summary_path):
        return read_json(summary_path)
    summary = dict(checkpoint=teacher.checkpoint, params=dict(generator=count_params(teacher.generator),
                                                              discriminator=count_params(teacher.discriminator)))
    if cfg.eval.at_end:
        summary["metrics"] = evaluation.evaluate_run(cfg, teacher.generator, images, out)
    if cfg.export.enabled:
        from tfgan_eff.export.pipeline import export_generator  # pylint: disable=import-outside-toplevel
        report = export_generator(teacher.generator, os.path.join(out, "export"), modes=("float32",), seed=cfg.seed)
        summary["tflite_bytes"] = {"float32": report["artifacts"]["float32"].get("size_bytes")}
    write_json(summary_path, summary)
    return summary


def _costs(cfg, g_width=1.0, d_width=1.0):
    """Params and batch-1 FLOPs of the G and D that `cfg` builds at these widths."""
    g = registry.build_generator(cfg, g_width)
    d = registry.build_discriminator(cfg, d_width)
    return dict(g_params=count_params(g), d_params=count_params(d),
                g_flops=count_flops(g, generator_input_specs(g)), d_flops=count_flops(d, discriminator_input_specs(d)))


def _row(name, summary, costs):
    metrics = summary.get("metrics", {})
    return dict(run=name, fid=metrics.get("fid"), kid=metrics.get("kid_mean"), g_params=costs["g_params"],
                g_flops=costs["g_flops"], tflite_float32_bytes=(summary.get("tflite_bytes") or {}).get("float32"))


def format_table(rows):
    """The result table as fixed-width text."""
    def num(value, fmt):
        return format(value, fmt) if value is not None else format("-", ">" + fmt.split(".")[0])

    lines = [f"{'run':<16}{'FID':>10}{'KID':>10}{'G params':>12}{'G MFLOPs':>11}{'TFLite f32 KB':>15}"]
    for r in rows:
        kb = None if r["tflite_float32_bytes"] is None else r["tflite_float32_bytes"] / 1024
        lines.append(f"{r['run']:<16}{num(r['fid'], '10.3f')}{num(r['kid'], '10.4f')}{r['g_params']:>12,d}"
                     f"{r['g_flops'] / 1e6:>11.2f}{num(kb, '15.1f')}")
    return "\n".join(lines)


def _student_runs(cfg, workdir, strategy, teacher, switch):
    """Trains stage 1, the DGL stage 2 and the configured baselines; returns {sub-run name: summary}."""
    runs = {}
    total, gw, dw = cfg.train.steps, cfg.dgl.student_g_width, cfg.dgl.student_d_width

    def two_stage(name, trainer_factory, g_width, d_width, stage1_name, export_modes="float32"):
        """Stage 1 (shared by name) then `name` from its checkpoint (fresh optimizers) to train.steps."""
        init_from = ""
        if switch > 0:
            stage1_path = os.path.join(workdir, stage1_name)
            runs[stage1_name] = sub_run(sub_config(cfg, stage1_name, switch), stage1_path, strategy,
                                        g_width=g_width, d_width=d_width, evaluate=False, export=False)
            init_from = os.path.join(stage1_path, "checkpoints")
        runs[name] = sub_run(sub_config(cfg, name, total, export_modes=export_modes), os.path.join(workdir, name),
                             strategy, trainer_factory=trainer_factory, init_from=init_from, g_width=g_width,
                             d_width=d_width)

    baselines = [b for b in cfg.dgl.baselines.split(",") if b]
    dgl = functools.partial(DGLTrainer, teacher=teacher.discriminator, weight=cfg.dgl.lambda_teacher,
                            switch_step=switch)
    two_stage("dgl", dgl, gw, dw, "stage1", export_modes=cfg.export.modes)
    if "plain" in baselines:
        two_stage("plain", None, gw, dw, "stage1")
    if "l1" in baselines:
        l1 = functools.partial(L1DistillTrainer, teacher=teacher.generator, weight=cfg.dgl.l1_weight,
                               switch_step=switch)
        two_stage("l1", l1, gw, dw, "stage1")
    if "boost" in baselines:
        two_stage("boost", dgl, 1.0, 1.0, "boost_stage1")
    return runs


ROW_NAMES = {"teacher": "teacher", "plain": "plain student", "dgl": "DGL student", "l1": "L1-KD student",
             "boost": "boost (full G)"}


def run(cfg, workdir, strategy):
    """Runs the whole DGL-GAN pipeline in `workdir` (resuming whatever is there); returns the summary dict."""
    t0 = time.time()
    cfg = cfg.copy_and_resolve_references()  # the shared reference statistics are set below
    images, _ = load_data(cfg)  # also fills cfg.data.num_classes for conditional data
    if cfg.eval.at_end and not cfg.eval.ref_stats:
        # One reference for every row of the table (and computed once).
        evaluation.reference_stats(cfg, evaluation.build_extractor(cfg), images, workdir)
        cfg.eval.ref_stats = os.path.join(workdir, "ref_stats.npz")
    switch = switch_step(cfg)

    teacher_path, teacher_summary = _train_teacher(cfg, workdir, strategy)
    teacher = load_teacher(teacher_path, strategy, fallback_cfg=cfg, num_classes=cfg.data.num_classes)
    _check_compatible(teacher.cfg, cfg)
    if teacher_summary is None:
        teacher_summary = _external_teacher_summary(cfg, teacher, images, os.path.join(workdir, "teacher_eval"))
    runs = {"teacher": teacher_summary, **_student_runs(cfg, workdir, strategy, teacher, switch)}

    gw, dw = cfg.dgl.student_g_width, cfg.dgl.student_d_width
    costs = {"teacher": _costs(teacher.cfg), "student": _costs(cfg, gw, dw)}
    if "boost" in runs:
        costs["boost"] = _costs(cfg)
    rows = [_row(ROW_NAMES[k], runs[k], costs.get(k, costs["student"])) for k in ROW_NAMES if k in runs]
    table = format_table(rows)
    summary = dict(
        method="dgl", config=cfg.name, workdir=workdir, generator_workdir="dgl", switch_step=switch,
        total_steps=cfg.train.steps, lambda_teacher=cfg.dgl.lambda_teacher, teacher_workdir=teacher_path,
        teacher=dict(costs["teacher"], checkpoint=teacher.checkpoint, ema=teacher.has_ema),
        student=dict(costs["student"], g_width=gw, d_width=dw),
        table=rows, table_text=table, runs=runs, export=runs["dgl"].get("export"),
        wall_time_s=round(time.time() - t0, 2))
    write_json(os.path.join(workdir, "summary.json"), summary)
    print(f"\nDGL-GAN ({cfg.name}, {cfg.train.steps} steps, stage 2 from step {switch}, "
          f"lambda {cfg.dgl.lambda_teacher}):\n{table}\n")
    return summary
