"""DGL-GAN's sub-runs: teacher -> student stage 1 -> DGL stage 2 (+ baselines), run by training.experiment.

Work dir layout (each sub-run is an ordinary, resumable `train_gan` run):
  teacher/        the full-width teacher, when dgl.teacher_workdir is empty (a baseline run)
  teacher_eval/   evaluation + float32 export of an external teacher (none for a discriminator-only teacher)
  stage1/         student (G width dgl.student_g_width, D width dgl.student_d_width), lambda = 0, up to the switch
  dgl/            stage 2: from stage1's G_S, D_S, EMA and step, fresh optimizers, teacher term on, to train.steps
  plain/ l1/      baselines from the same stage-1 checkpoint for the same total steps (no teacher / L1 KD from G_T)
  from_step_0/    DGL with the teacher term on from the first step (no stage 1), for the same total steps
  full_stage1/ full_dgl/ full_plain/   the two-stage DGL student and its plain baseline with a G (and D) as wide
                  as the teacher's: does DGL improve an uncompressed G too
  boost_stage1/ boost/   a full-width student trained from scratch through both stages with the official
                  StyleGAN2 boost term (each sample weighted by stopgrad(-D_T) * 1[D_T < 0])
  summary.json    the table (FID, KID, G params, G FLOPs, TFLite float32 size) + params/FLOPs of teacher and student
"""

import functools
import os

from tfgan_eff.distill.method import stages
from tfgan_eff.lists import comma_list
from tfgan_eff.models import registry
from tfgan_eff.models.flops import count_flops, discriminator_input_specs, generator_input_specs
from tfgan_eff.pieces.guidance import TeacherGuidance
from tfgan_eff.pieces.keys import model_file_format
from tfgan_eff.pieces.teacher import TeacherSource
from tfgan_eff.training.experiment import Plan, SubRun, sub_config
from tfgan_eff.training.loop import count_params
from tfgan_eff.training.trainer import GANTrainer

ROW_NAMES = {"teacher": "teacher", "plain": "plain student", "dgl": "DGL student", "l1": "L1-KD student",
             "boost": "boost (full G)", "from_step_0": "DGL from step 0", "full_dgl": "DGL (full-width G)",
             "full_plain": "plain (full-width G)"}
FULL_WIDTH_ROWS = ("boost", "full_dgl", "full_plain")  # rows whose G and D are the teacher's width


def run_config(cfg, name, steps, method=None, export_modes=None, g_width=1.0, d_width=1.0):
    """The config of one sub-run: its step count, width multipliers and (optionally) method and export modes."""
    changes = {"train.steps": int(steps), "model.g.width": cfg.model.g.width * g_width,
               "model.d.width": cfg.model.d.width * d_width}
    if method:
        changes["method"] = method
    if export_modes is not None:
        changes["export.modes"] = export_modes
    return sub_config(cfg, name, changes)


def guided_trainer(generator, discriminator, train_cfg, *, source, term, weight, switch, teacher_diffaug=False,
                   **kwargs):
    """A trainer_factory: a GANTrainer with the TeacherGuidance piece of `term` (D_T for dgl / boost, G_T for l1)."""
    teacher = source.teacher.generator if term == "l1" else source.teacher.discriminator
    guidance = TeacherGuidance(teacher, term=term, weight=weight, switch_step=switch, teacher_diffaug=teacher_diffaug)
    return GANTrainer(generator, discriminator, train_cfg, pieces=(guidance,), **kwargs)


def _costs(cfg, g_width=1.0, d_width=1.0):
    """Params and batch-1 FLOPs of the G and D that `cfg` builds at these widths."""
    g = registry.build_generator(cfg, g_width)
    d = registry.build_discriminator(cfg, d_width)
    return dict(g_params=count_params(g), d_params=count_params(d),
                g_flops=count_flops(g, generator_input_specs(g)), d_flops=count_flops(d, discriminator_input_specs(d)))


def _student_runs(cfg, source, switch, total, teacher_run):
    """Stage 1 (to step `switch`), the DGL stage 2 and the configured baselines (to step `total`), in training
    order; those with a teacher term start after `teacher_run` ("" = an external teacher), stage 1 needs none."""
    gw, dw = cfg.dgl.student_g_width, cfg.dgl.student_d_width
    runs = []

    def two_stage(name, factory, g_width, d_width, stage1_name, export_modes="float32"):
        """Stage 1 (shared by name) then `name` from its checkpoint (fresh optimizers) to `total`; no stage 1
        when `stage1_name` is empty."""
        init_from = ""
        if switch > 0 and stage1_name:
            if stage1_name not in [run.name for run in runs]:
                stage1 = run_config(cfg, stage1_name, switch, g_width=g_width, d_width=d_width)
                stage1.eval.every = 0
                runs.append(SubRun(stage1_name, stage1, evaluate=False, export=False, after=()))
            init_from = stage1_name
        runs.append(SubRun(name, run_config(cfg, name, total, export_modes=export_modes, g_width=g_width,
                                            d_width=d_width), trainer_factory=factory, init_from=init_from,
                           after=(teacher_run,) if factory is not None and teacher_run else ()))

    lam = dict(source=source, weight=cfg.dgl.lambda_teacher, switch=switch, teacher_diffaug=cfg.dgl.teacher_diffaug)
    baselines = comma_list(cfg.dgl.baselines)
    two_stage("dgl", functools.partial(guided_trainer, term="dgl", **lam), gw, dw, "stage1",
              export_modes=cfg.export.modes)
    if "plain" in baselines:
        two_stage("plain", None, gw, dw, "stage1")
    if "l1" in baselines:
        two_stage("l1", functools.partial(guided_trainer, term="l1", source=source, weight=cfg.dgl.l1_weight,
                                          switch=switch), gw, dw, "stage1")
    if "boost" in baselines:
        two_stage("boost", functools.partial(guided_trainer, term="boost", **lam), 1.0, 1.0, "boost_stage1")
    if "from_step_0" in baselines:
        two_stage("from_step_0", functools.partial(guided_trainer, term="dgl", **dict(lam, switch=0)), gw, dw, "")
    if "full_width" in baselines:
        two_stage("full_dgl", functools.partial(guided_trainer, term="dgl", **lam), 1.0, 1.0, "full_stage1")
        two_stage("full_plain", None, 1.0, 1.0, "full_stage1")
    return runs


def plan(cfg, workdir):
    """The DGL-GAN sub-runs for `cfg` in `workdir`: a teacher (trained here or read from dgl.teacher_workdir), the
    student stages and the baselines, and the summary with the comparison table."""
    switch, total = stages(cfg)
    runs = []
    d_only = bool(cfg.dgl.teacher_workdir and model_file_format(cfg.dgl.teacher_workdir))
    if cfg.dgl.teacher_workdir:
        source = TeacherSource(cfg, cfg.dgl.teacher_workdir, key="dgl.teacher_workdir")
        if not d_only:  # a teacher discriminator alone has no generator to evaluate
            runs.append(SubRun("teacher_eval", run_config(cfg, "teacher_eval", cfg.train.steps,
                                                          export_modes="float32"), step=source.evaluation_step,
                               after=()))
    else:
        source = TeacherSource(cfg, os.path.join(workdir, "teacher"))
        teacher_cfg = run_config(cfg, "teacher", cfg.dgl.teacher_steps or cfg.train.steps, method="baseline",
                                 export_modes="float32")
        runs.append(SubRun("teacher", teacher_cfg, after=()))
    runs += _student_runs(cfg, source, switch, total, "" if cfg.dgl.teacher_workdir else "teacher")
    gw, dw = cfg.dgl.student_g_width, cfg.dgl.student_d_width

    @functools.cache
    def costs(kind):
        if kind == "teacher":
            return _costs(source.teacher.cfg)
        return _costs(cfg, gw, dw) if kind == "student" else _costs(cfg)

    def by_role(results):
        """The results keyed as the table names them (an external teacher's evaluation is the teacher)."""
        return {("teacher" if name == "teacher_eval" else name): summary for name, summary in results.items()}

    def table(results):
        rows = []
        for name, summary in by_role(results).items():
            if name in ROW_NAMES:
                c = costs("teacher" if name == "teacher" else "full" if name in FULL_WIDTH_ROWS else "student")
                metrics = summary.get("metrics", {})
                rows.append(dict(run=ROW_NAMES[name], fid=metrics.get("fid"), kid=metrics.get("kid_mean"),
                                 g_params=c["g_params"], g_flops=c["g_flops"],
                                 tflite_float32_bytes=(summary.get("tflite_bytes") or {}).get("float32")))
        return sorted(rows, key=lambda row: list(ROW_NAMES.values()).index(row["run"]))

    def summarize(results):
        teacher = source.teacher
        teacher_facts = dict(checkpoint=teacher.checkpoint, discriminator_only=True) if d_only else \
            dict(costs("teacher"), checkpoint=teacher.checkpoint, ema=teacher.has_ema)
        return dict(runs=by_role(results), switch_step=switch, total_steps=total,
                    lambda_teacher=cfg.dgl.lambda_teacher, teacher_workdir=source.path, teacher=teacher_facts,
                    student=dict(costs("student"), g_width=gw, d_width=dw), export=results["dgl"].get("export"))

    def prepare(strategy):
        """Loads an external teacher and checks it against this run's data before anything trains."""
        if cfg.dgl.teacher_workdir:
            with strategy.scope():
                source.teacher  # pylint: disable=pointless-statement  # loading is the check

    return Plan(runs=runs, main_run="dgl", table=table, summarize=summarize, prepare=prepare,
                title=f"DGL-GAN ({cfg.name}, {total} steps, stage 2 from step {switch}, "
                      f"lambda {cfg.dgl.lambda_teacher})")
