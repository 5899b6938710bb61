"""Compression's students and teacher checks: a genotype student trains through both stages, a teacher whose data
settings differ is refused in one line before anything trains, and the composed trainer (teacher guidance + sparse
weights) gives the same update on 2 logical CPUs as on one device."""

import json
import os
import subprocess
import sys

import pytest

import numpy as np
import tensorflow as tf

from tfgan_eff import train_lib
from tfgan_eff.compress.plan import plan
from tfgan_eff.config import presets
from tfgan_eff.models.slim import ChannelInheritanceError, top_channels
from tfgan_eff.pieces.inherited_channels import InheritedChannels
from tfgan_eff.export.saved_model import export_saved_model
from tfgan_eff.pieces.teacher import TeacherError, TeacherSource, load_teacher
from tfgan_eff.training.loop import Run, count_params, train_gan

pytestmark = pytest.mark.long(72)  # run early (tests/conftest.py)

HERE = os.path.dirname(os.path.abspath(__file__))


def _quiet(cfg):
    cfg.eval.at_end = False
    cfg.export.enabled = False
    return cfg


@pytest.fixture(scope="module")
def teacher_dir(tmp_path_factory):
    """A 1-step baseline teacher on the smoke data (16 px, 3 channels, unconditional)."""
    cfg = _quiet(presets.smoke(presets.get("baseline")))
    cfg.train.steps = 1
    path = str(tmp_path_factory.mktemp("teacher"))
    train_gan(cfg, path)
    return path


@pytest.fixture(scope="module")
def teacher_files(teacher_dir, tmp_path_factory):
    """teacher_dir's teacher as files: {"d": D saved whole, "g_keras": G saved whole, "g_saved_model": G exported}."""
    teacher = load_teacher(teacher_dir)
    path = tmp_path_factory.mktemp("teacher_files")
    teacher.discriminator.save(path / "d.keras")
    teacher.generator.save(path / "g.keras")
    return dict(d=str(path / "d.keras"), g_keras=str(path / "g.keras"),
                g_saved_model=export_saved_model(teacher.generator, str(path / "saved_model")))


def test_a_teacher_given_as_files_gets_its_row_and_gives_its_channels(compress_cfg, teacher_dir, teacher_files,
                                                                     tmp_path):
    _quiet(compress_cfg).compress.update(teacher_workdir=teacher_files["d"], teacher_generator=teacher_files["g_keras"])
    compress_plan = plan(compress_cfg, str(tmp_path / "plan"))
    strategy = tf.distribute.get_strategy()
    compress_plan.prepare(strategy)  # the G file is this package's DCGAN G: the student can inherit its channels
    stage1_sub = next(sub for sub in compress_plan.runs if sub.name == "g0.25_stage1")
    stage1 = Run(stage1_sub.cfg, str(tmp_path / "s1"), strategy, stage1_sub.trainer_factory)
    teacher = load_teacher(teacher_dir).generator
    kept = top_channels(teacher.stem_bn, stage1.generator.stem_bn.gamma.shape[0])
    np.testing.assert_array_equal(stage1.generator.stem_bn.gamma, np.asarray(teacher.stem_bn.gamma)[kept])
    # An exported G (SavedModel) is evaluated and exported as the teacher row; its students start from scratch.
    compress_cfg.compress.update(teacher_generator=teacher_files["g_saved_model"], student_init="scratch")
    summary = train_lib.run(compress_cfg, str(tmp_path / "run"))
    assert [row["run"] for row in summary["table"]] == ["teacher", "g0.25"]
    teacher_eval = summary["runs"]["teacher_eval"]
    assert teacher_eval["params"] == {"generator": count_params(teacher)}  # a frozen D would count 0: left out
    assert teacher_eval["checkpoint"] == teacher_files["g_saved_model"]


def test_a_genotype_student_loads_and_trains(compress_cfg, teacher_dir, tmp_path):
    _quiet(compress_cfg).compress.update(g_widths="", genotype="alphagan_s", teacher_workdir=teacher_dir)
    summary = train_lib.run(compress_cfg, str(tmp_path))
    assert [row["run"] for row in summary["table"]] == ["teacher", "genotype"]  # the external teacher's row
    assert summary["runs"]["genotype"]["steps"] == 4 and summary["runs"]["genotype_stage1"]["steps"] == 2
    config = json.loads((tmp_path / "genotype" / "config.json").read_text())
    assert config["model"]["g"]["arch"] == "genotype" and config["model"]["g"]["genotype"] == "alphagan_s"


@pytest.mark.parametrize("changes, expected", [
    (dict(resolution=8), "data.resolution: teacher 16 vs student 8"),
    (dict(channels=1), "data.channels: teacher 3 vs student 1"),
    (dict(conditional=True), "data.conditional: teacher False vs student True; data.num_classes: teacher 0 vs "
                             "student 10"),
])
def test_a_teacher_that_does_not_match_is_refused_in_one_line(compress_cfg, teacher_dir, tmp_path, changes,
                                                              expected):
    _quiet(compress_cfg).compress.teacher_workdir = teacher_dir
    compress_cfg.data.update(changes)
    if compress_cfg.data.conditional:  # a conditional student needs a class-conditional architecture
        compress_cfg.model.g.arch = compress_cfg.model.d.arch = "sngan"
        compress_cfg.compress.student_init = "scratch"  # channel inheritance is for DCGAN Gs
    with pytest.raises(TeacherError, match=expected) as err:
        train_lib.run(compress_cfg, str(tmp_path))
    assert "\n" not in str(err.value)
    assert not any((tmp_path / name).exists() for name in ("g0.25_stage1", "g0.25"))  # nothing trained


def test_a_width_student_starts_from_the_teachers_channels_in_its_first_stage_only(compress_cfg, teacher_dir,
                                                                                 tmp_path):
    _quiet(compress_cfg).compress.teacher_workdir = teacher_dir  # the preset's student_init is "teacher"
    compress_plan = plan(compress_cfg, str(tmp_path))
    strategy = tf.distribute.get_strategy()
    compress_plan.prepare(strategy)  # the teacher's G can give the g0.25 student its channels
    subs = {sub.name: sub for sub in compress_plan.runs}
    teacher = TeacherSource(compress_cfg, teacher_dir).teacher.generator
    stage1 = Run(subs["g0.25_stage1"].cfg, str(tmp_path / "s1"), strategy, subs["g0.25_stage1"].trainer_factory)
    kept = top_channels(teacher.stem_bn, stage1.generator.stem_bn.gamma.shape[0])
    assert 0 < len(kept) < teacher.stem_bn.gamma.shape[0]
    np.testing.assert_array_equal(stage1.generator.stem_bn.gamma, np.asarray(teacher.stem_bn.gamma)[kept])
    np.testing.assert_array_equal(stage1.generator.head.bias, teacher.head.bias)
    for ema, g in zip(stage1.ema_generator.weights, stage1.generator.weights):
        np.testing.assert_array_equal(ema, g)
    stage2 = Run(subs["g0.25"].cfg, str(tmp_path / "s2"), strategy, subs["g0.25"].trainer_factory)
    assert stage2.trainer.piece(InheritedChannels) is None  # it starts from stage 1's checkpoint instead


def test_a_student_wider_than_an_external_teachers_g_is_refused_before_training(compress_cfg, teacher_dir, tmp_path):
    _quiet(compress_cfg).compress.update(teacher_workdir=teacher_dir, student_init="teacher", g_widths="0.5,1")
    compress_cfg.model.g.ch *= 4  # the g1 student is 4x as wide as the teacher, the g0.5 one 2x
    with pytest.raises(ChannelInheritanceError, match="student_init='teacher', student g0.5: the student G is wider "
                                                      "than the teacher G") as err:
        train_lib.run(compress_cfg, str(tmp_path))
    assert "\n" not in str(err.value)
    assert not (tmp_path / "g0.5_stage1").exists()  # nothing trained


def test_mirrored_two_cpus_equals_one_device(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(HERE)))
    out = subprocess.run([sys.executable, os.path.join(HERE, "compress_mirrored_check.py"), str(tmp_path)],
                         capture_output=True, text=True, timeout=300, check=True, env=env)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["teacher_term"] != 0.0
    assert abs(result["teacher_loss"] - 0.5 * result["teacher_term"]) < 1e-6  # lambda 0.5, summed over replicas
    assert result["max_diff"] < 1e-5 and result["log_diff"] < 1e-5 and result["masks_equal"], result
