"""Teacher loading: from a work dir / checkpoint dir / checkpoint prefix, EMA G, frozen D, clear errors."""

import json
import os
import shutil

import numpy as np
import pytest

from tfgan_eff.config import presets
from tfgan_eff.distill.teacher import TeacherError, load_teacher
from tfgan_eff.training.loop import train_gan


@pytest.fixture(scope="module")
def teacher_run(tmp_path_factory):
    """A 2-step smoke run to use as a teacher: (work dir, Run, summary)."""
    cfg = presets.smoke(presets.baseline())
    cfg.train.steps = 2
    cfg.eval.at_end = False
    cfg.export.enabled = False
    workdir = str(tmp_path_factory.mktemp("teacher"))
    run, summary = train_gan(cfg, workdir)
    return workdir, run, summary


def _assert_same(model, reference):
    assert len(model.weights) == len(reference.weights)
    for a, b in zip(model.weights, reference.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("where", ["workdir", "checkpoint_dir", "prefix"])
def test_load_teacher_restores_ema_generator_and_frozen_discriminator(teacher_run, where):
    workdir, run, summary = teacher_run
    path = {"workdir": workdir, "checkpoint_dir": os.path.join(workdir, "checkpoints"),
            "prefix": summary["checkpoint"]}[where]
    teacher = load_teacher(path)
    assert teacher.has_ema and teacher.checkpoint == summary["checkpoint"]
    _assert_same(teacher.generator, run.ema_generator)
    _assert_same(teacher.discriminator, run.discriminator)  # spectral-norm vectors included
    assert any("vector_u" in v.path for v in teacher.discriminator.weights)
    assert not teacher.discriminator.trainable_variables
    assert teacher.cfg.model.g.ch == run.cfg.model.g.ch


def test_missing_teacher_is_a_clear_error(tmp_path):
    with pytest.raises(TeacherError, match="does not exist"):
        load_teacher(str(tmp_path / "nope"))
    (tmp_path / "empty" / "checkpoints").mkdir(parents=True)
    with pytest.raises(TeacherError, match="no checkpoint"):
        load_teacher(str(tmp_path / "empty"))


def test_mismatched_teacher_checkpoint_is_a_clear_error(teacher_run, tmp_path):
    workdir, _, _ = teacher_run
    other = tmp_path / "other"
    shutil.copytree(os.path.join(workdir, "checkpoints"), other / "checkpoints")
    config = json.loads(open(os.path.join(workdir, "config.json"), encoding="utf-8").read())
    config["model"]["g"]["ch"] *= 2  # the config no longer describes the checkpoint
    (other / "config.json").write_text(json.dumps(config))
    with pytest.raises(TeacherError, match="does not match"):
        load_teacher(str(other))
