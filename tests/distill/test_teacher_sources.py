"""Every documented teacher source runs a whole DGL run end to end (evaluation and export on), a teacher that does
not fit is refused before anything trains, and a path that holds no teacher is one clear error."""

import os
import re

import pytest
import tensorflow as tf

from tfgan_eff import train_lib
from tfgan_eff.config import presets
from tfgan_eff.config.validate import ConfigError, validate
from tfgan_eff.distill.plan import plan
from tfgan_eff.pieces.teacher import TeacherError, load_teacher
from tfgan_eff.files import read_json


@pytest.fixture(scope="module")
def teacher_sources(tmp_path_factory):
    """A 2-step baseline teacher run, and the four ways to name it: {source: path}."""
    root = tmp_path_factory.mktemp("teacher_sources")
    cfg = presets.smoke(presets.baseline())
    cfg.train.steps = 2
    cfg.eval.at_end = cfg.export.enabled = False
    workdir = str(root / "teacher")
    train_lib.run(cfg, workdir)
    discriminator = load_teacher(workdir).discriminator
    discriminator.save(str(root / "teacher_d.keras"))
    discriminator.export(str(root / "teacher_d_saved_model"), verbose=False)
    return {"workdir": workdir, "prefix": os.path.join(workdir, "checkpoints", "ckpt-2"),
            "keras": str(root / "teacher_d.keras"), "saved_model": str(root / "teacher_d_saved_model")}


def _student_cfg(teacher):
    cfg = presets.smoke(presets.get("dgl"))
    cfg.dgl.update(teacher_workdir=teacher, baselines="")
    cfg.eval.update(num_samples=16, metrics="fid")
    return cfg


@pytest.mark.parametrize("source", ["workdir", "prefix", "keras", "saved_model"])
def test_each_teacher_source_runs_a_dgl_run_with_evaluation_and_export(teacher_sources, source, tmp_path):
    cfg = _student_cfg(teacher_sources[source])
    validate(cfg)
    summary = train_lib.run(cfg, str(tmp_path))
    has_generator = source in ("workdir", "prefix")
    assert ("teacher" in summary["runs"]) == has_generator
    assert [row["run"] for row in summary["table"]] == ["teacher"] * has_generator + ["DGL student"]
    for name in ("teacher_eval",) * has_generator + ("dgl",):
        report = read_json(tmp_path / name / "export" / "report.json")
        assert "max_abs_diff" in report["artifacts"]["float32"], report["artifacts"]
        assert (tmp_path / name / "export" / "generator_float32.tflite").stat().st_size > 0
        assert read_json(tmp_path / name / "summary.json")["metrics"]["fid"] > 0
        assert report["generator"]["source"]["step"] == read_json(tmp_path / name / "eval.json")["generator"]["step"]
    assert summary["teacher"]["checkpoint"].endswith("ckpt-2") or not has_generator
    scored = read_json(tmp_path / "dgl" / "eval.json")["generator"]  # which weights the metrics are of
    assert scored == {"step": 4, "checkpoint": str(tmp_path / "dgl" / "checkpoints" / "ckpt-4")}


def test_a_teacher_that_does_not_fit_is_refused_before_anything_trains(teacher_sources, tmp_path):
    cfg = _student_cfg(teacher_sources["keras"])
    cfg.data.resolution = 32  # the teacher D judges 16 px images
    with pytest.raises(TeacherError, match="does not fit this run: it takes images: \\[None, 16, 16, 3\\]"):
        train_lib.run(cfg, str(tmp_path))
    assert not (tmp_path / "stage1").exists()


@pytest.mark.parametrize("name,content,message", [
    ("random.bin", b"\x00garbage" * 40, "is a file but neither a checkpoint"),
    ("random.keras", b"\x00garbage" * 40, "is not a readable .keras model"),
    ("empty.keras", b"", "is not a readable .keras model"),
    ("garbage_sm/saved_model.pb", b"\x00garbage" * 40, "is not a readable SavedModel"),
])
def test_a_path_that_holds_no_teacher_is_refused_in_one_line(tmp_path, name, content, message):
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    teacher = str(path.parent if name.endswith("saved_model.pb") else path)
    cfg = _student_cfg(teacher)
    validate(cfg)
    with pytest.raises(TeacherError, match=message) as err:
        train_lib.run(cfg, str(tmp_path / "run"))
    assert "\n" not in str(err.value)
    assert not (tmp_path / "run" / "stage1").exists()


def test_a_missing_checkpoint_prefix_is_refused_by_the_config_check(teacher_sources):
    cfg = _student_cfg(teacher_sources["prefix"][:-1] + "9")
    with pytest.raises(ConfigError, match="ckpt-9' does not exist"):
        validate(cfg)


def test_a_missing_teacher_names_the_dgl_key_in_the_config_check_and_at_load_time(tmp_path):
    missing = str(tmp_path / "no_teacher")
    cfg = _student_cfg(missing)
    with pytest.raises(ConfigError, match=re.escape(f"dgl.teacher_workdir {missing!r} does not exist: pass "
                                                    "--config.dgl.teacher_workdir=PATH, PATH being a work dir")):
        validate(cfg.copy_and_resolve_references())
    # A teacher that vanished after the config check: the plan's loader names the same key.
    with pytest.raises(TeacherError, match="pass --config.dgl.teacher_workdir=PATH") as err:
        plan(cfg, str(tmp_path / "run")).prepare(tf.distribute.get_strategy())
    assert "\n" not in str(err.value)
