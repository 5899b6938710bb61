"""Compression's students and teacher checks: a genotype student trains through both stages, a teacher whose data
settings differ is refused in one line before anything trains, and the composed trainer (teacher guidance + sparse
weights) gives the same update on 2 logical CPUs as on one device."""

import json
import os
import subprocess
import sys

import pytest

from tfgan_eff import train_lib
from tfgan_eff.config import presets
from tfgan_eff.pieces.teacher import TeacherError
from tfgan_eff.training.loop import train_gan

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
    with pytest.raises(TeacherError, match=expected) as err:
        train_lib.run(compress_cfg, str(tmp_path))
    assert "\n" not in str(err.value)
    assert not any((tmp_path / name).exists() for name in ("g0.5_stage1", "g0.5"))  # nothing trained


def test_mirrored_two_cpus_equals_one_device(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(HERE)))
    out = subprocess.run([sys.executable, os.path.join(HERE, "compress_mirrored_check.py"), str(tmp_path)],
                         capture_output=True, text=True, timeout=300, check=True, env=env)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["teacher_term"] != 0.0
    assert abs(result["teacher_loss"] - 0.5 * result["teacher_term"]) < 1e-6  # lambda 0.5, summed over replicas
    assert result["max_diff"] < 1e-5 and result["log_diff"] < 1e-5 and result["masks_equal"], result
