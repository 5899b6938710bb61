"""The --method=dgl plan: smoke run with the table, stage switch, kill/resume in stage 2 (MirroredStrategy: the
composed student trainer in tests/compress/compress_mirrored_check.py)."""

import json
import math
import os

import keras
import numpy as np
import pytest

from tfgan_eff import train_lib
from tfgan_eff.config import presets
from tfgan_eff.config.validate import validate
from tfgan_eff.distill.plan import plan
from tfgan_eff.training import experiment
from tfgan_eff.training.loop import train_gan as real_train_gan

pytestmark = pytest.mark.long(42)  # run early (tests/conftest.py)


def test_smoke_run_writes_table_and_does_not_rerun_finished_runs(tmp_path, monkeypatch, capsys):
    cfg = presets.smoke(presets.get("dgl"))
    summary = train_lib.run(cfg, str(tmp_path))
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert [r["run"] for r in saved["table"]] == ["teacher", "plain student", "DGL student"]
    for row in saved["table"]:
        assert math.isfinite(row["fid"]) and math.isfinite(row["kid"]) and row["tflite_float32_bytes"] > 0
    teacher, student = saved["teacher"], saved["student"]
    assert student["g_params"] < teacher["g_params"] and student["g_flops"] < teacher["g_flops"]
    assert student["d_params"] == teacher["d_params"]  # D_S at full width by default
    assert saved["runs"]["dgl"]["steps"] == cfg.train.steps and saved["runs"]["stage1"]["steps"] == 2
    assert os.path.isfile(tmp_path / "dgl" / "export" / "generator_float32.tflite")
    assert "DGL student" in capsys.readouterr().out

    def no_training(*args, **kwargs):
        raise AssertionError(f"a finished sub-run was run again: {args[1]}")

    monkeypatch.setattr(experiment, "train_gan", no_training)
    again = train_lib.run(presets.smoke(presets.get("dgl")), str(tmp_path))
    assert again["table"] == summary["table"]


class _Killed(Exception):
    """Stands in for the process being killed."""


class _Probe(keras.callbacks.Callback):
    """Records a sub-run's start (step, optimizer iterations, G weights) and its final G weights; can 'kill' it."""

    def __init__(self, run, record, kill_at):
        super().__init__()
        self.run, self.record, self.kill_at = run, record, kill_at
        record.update(start_step=run.step, start_g_iterations=int(run.trainer.g_optimizer.iterations.numpy()),
                      start_g=[v.numpy() for v in run.generator.weights])

    def on_train_batch_end(self, batch, logs=None):
        if self.run.step == self.kill_at:
            raise _Killed()

    def on_train_end(self, logs=None):
        self.record["end_g"] = [v.numpy() for v in self.run.generator.weights]


def _probed_train_gan(records, kill=None):
    def train_gan(cfg, workdir, strategy=None, **kwargs):
        name = os.path.basename(workdir)
        record = records.setdefault(name, {})
        kill_at = (kill or {}).get(name)
        kwargs["extra_callbacks"] = (lambda run: _Probe(run, record, kill_at),)
        return real_train_gan(cfg, workdir, strategy, **kwargs)

    return train_gan


def test_stage2_starts_from_stage1_with_fresh_optimizers_and_resumes_after_a_kill(dgl_cfg, tmp_path, monkeypatch):
    teacher_cfg = dgl_cfg.copy_and_resolve_references()
    teacher_cfg.train.steps = 2
    real_train_gan(teacher_cfg, str(tmp_path / "my_teacher"))
    dgl_cfg.train.update(steps=6, ckpt_every=2)
    dgl_cfg.dgl.update(teacher_workdir=str(tmp_path / "my_teacher"), switch_step=2)
    first = {}
    monkeypatch.setattr(experiment, "train_gan", _probed_train_gan(first, kill={"dgl": 4}))
    try:
        train_lib.run(dgl_cfg, str(tmp_path))
        raise AssertionError("the stage-2 run was not interrupted")
    except _Killed:
        pass
    assert sorted(first) == ["dgl", "stage1"]  # the given teacher is only loaded
    assert first["dgl"]["start_step"] == 2 and first["dgl"]["start_g_iterations"] == 0  # optimizers reset
    for a, b in zip(first["stage1"]["end_g"], first["dgl"]["start_g"]):
        np.testing.assert_array_equal(a, b)

    again = {}
    monkeypatch.setattr(experiment, "train_gan", _probed_train_gan(again))
    summary = train_lib.run(dgl_cfg, str(tmp_path))
    assert sorted(again) == ["dgl", "plain"]  # stage 1 is not run again
    assert again["dgl"]["start_step"] == 4 and again["dgl"]["start_g_iterations"] == 2  # its own checkpoint
    assert again["plain"]["start_step"] == 2 and again["plain"]["start_g_iterations"] == 0
    assert summary["runs"]["dgl"]["steps"] == 6
    assert summary["teacher_workdir"] == str(tmp_path / "my_teacher")
    assert summary["runs"]["teacher"]["params"]["generator"] == summary["teacher"]["g_params"]


def test_plan_wires_boost_teacher_diffaug_and_a_discriminator_only_teacher(dgl_cfg, tmp_path):
    (tmp_path / "teacher_d.keras").write_bytes(b"")  # recognised by its name; only loaded when a student trains
    dgl_cfg.dgl.update(teacher_workdir=str(tmp_path / "teacher_d.keras"), baselines="plain,boost", teacher_diffaug=True)
    runs = {run.name: run for run in plan(dgl_cfg, str(tmp_path)).runs}
    assert list(runs) == ["stage1", "dgl", "plain", "boost_stage1", "boost"]  # no teacher run to train or evaluate
    for name in ("dgl", "boost"):
        keywords = runs[name].trainer_factory.keywords
        assert keywords["term"] == name and keywords["teacher_diffaug"] is True
    assert runs["plain"].trainer_factory is None and runs["dgl"].init_from == "stage1"
    assert runs["boost"].cfg.model.g.width == 1.0 and runs["dgl"].cfg.model.g.width == 0.5


def test_from_step_0_and_full_width_baselines_are_the_runs_those_settings_would_train(dgl_cfg, tmp_path):
    dgl_cfg.dgl.update(baselines="plain,from_step_0,full_width", switch_step=2)
    validate(dgl_cfg)
    runs = {run.name: run for run in plan(dgl_cfg, str(tmp_path)).runs}
    assert list(runs) == ["teacher", "stage1", "dgl", "plain", "from_step_0", "full_stage1", "full_dgl", "full_plain"]
    deps = experiment.dependencies(plan(dgl_cfg, str(tmp_path)))
    assert deps["from_step_0"] == ("teacher",) and deps["full_plain"] == ("full_stage1",)
    assert set(deps["full_dgl"]) == {"teacher", "full_stage1"}

    def own_run(name, **dgl_keys):
        """The sub-run `name` of a plan with only `dgl_keys` changed (and no baselines)."""
        cfg = dgl_cfg.copy_and_resolve_references()
        cfg.dgl.update(dict(dict(baselines=""), **dgl_keys))
        return {run.name: run for run in plan(cfg, str(tmp_path)).runs}[name]

    def same(run, other):
        """Same config apart from the name, the export modes and the dgl section (which only the plan reads), the
        same start and the same trainer (teacher term, weight, switch)."""
        configs = [r.cfg.copy_and_resolve_references() for r in (run, other)]
        for cfg in configs:
            cfg.name, cfg.export.modes, cfg.dgl = "", "", {}
        factories = [r.trainer_factory for r in (run, other)]
        return (configs[0].to_dict() == configs[1].to_dict() and run.init_from.replace("full_", "") == other.init_from
                and (factories[0] is None) == (factories[1] is None)
                and (factories[0] is None or {k: v for k, v in factories[0].keywords.items() if k != "source"}
                     == {k: v for k, v in factories[1].keywords.items() if k != "source"}))

    # DGL from step 0 is DGL with switch_step 0; the full-width pair is the student pair at the teacher's widths.
    assert same(runs["from_step_0"], own_run("dgl", switch_step=0)) and runs["from_step_0"].init_from == ""
    assert runs["from_step_0"].trainer_factory.keywords["switch"] == 0 and runs["dgl"].init_from == "stage1"
    wide = dict(student_g_width=1.0, student_d_width=1.0)
    assert same(runs["full_dgl"], own_run("dgl", **wide)) and same(runs["full_stage1"], own_run("stage1", **wide))
    assert same(runs["full_plain"], own_run("plain", baselines="plain", **wide))
    assert not same(runs["full_dgl"], runs["dgl"])  # the widths differ
    dgl_cfg.dgl.baselines = "plain,fullwidth"
    with pytest.raises(ValueError, match="fullwidth"):
        validate(dgl_cfg)


def test_finetune_schedule_trains_the_student_to_the_end_then_both_arms_the_same_extra_steps(dgl_cfg, tmp_path):
    dgl_cfg.dgl.update(finetune_steps=3, switch_step=4)  # switch_* are unused by this schedule
    validate(dgl_cfg)
    runs = {run.name: run for run in plan(dgl_cfg, str(tmp_path)).runs}
    assert list(runs) == ["teacher", "stage1", "dgl", "plain"]
    assert runs["stage1"].cfg.train.steps == dgl_cfg.train.steps == 4
    for name in ("dgl", "plain"):
        assert runs[name].cfg.train.steps == 7 and runs[name].init_from == "stage1"
    assert runs["dgl"].trainer_factory.keywords["switch"] == 4  # the teacher term is on for all 3 extra steps
    assert runs["teacher"].cfg.train.steps == dgl_cfg.dgl.teacher_steps
