"""Compression's config checks and teacher messages: a genotype that does not exist and a teacher path that names
nothing are refused in one line that says what to pass, before anything trains."""

import pytest
import tensorflow as tf

from tfgan_eff import train_lib
from tfgan_eff.compress.plan import plan
from tfgan_eff.config.validate import ConfigError, validate
from tfgan_eff.pieces.teacher import TeacherError
from tfgan_eff.search import genotype as genotype_lib


def _problems(cfg):
    """The listed problems of an invalid config ([] when it is valid)."""
    try:
        validate(cfg)
    except ConfigError as err:
        return str(err).splitlines()[1:]
    return []


@pytest.mark.parametrize("name", ["alphagan_x", "/no/such/genotype.json"])
def test_a_genotype_that_does_not_exist_is_one_config_problem_naming_what_to_pass(compress_cfg, tmp_path, name):
    compress_cfg.compress.genotype = name
    problems = _problems(compress_cfg.copy_and_resolve_references())
    assert problems == [f"  - compress.genotype student: genotype {name!r} is neither a JSON file nor a published "
                        "name (alphagan_l, alphagan_s)"]
    with pytest.raises(ConfigError, match="compress.genotype student"):
        train_lib.run(compress_cfg, str(tmp_path / "run"))
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())  # nothing trained


def test_a_genotype_file_that_is_not_json_is_refused(compress_cfg, tmp_path):
    path = tmp_path / "genotype.json"
    path.write_text("{not json")
    compress_cfg.compress.genotype = str(path)
    [problem] = _problems(compress_cfg)
    assert problem.startswith(f"  - compress.genotype student: genotype {str(path)!r} is not valid JSON")


def test_published_names_and_a_saved_genotype_pass(compress_cfg, tmp_path):
    path = str(tmp_path / "genotype.json")
    genotype_lib.save(genotype_lib.PUBLISHED["alphagan_s"], path)
    for name in ("alphagan_s", "alphagan_l", path):
        cfg = compress_cfg.copy_and_resolve_references()
        cfg.compress.genotype = name
        assert _problems(cfg) == [], name


def test_a_missing_teacher_names_the_compress_key_in_the_config_check_and_at_load_time(compress_cfg, tmp_path):
    missing = str(tmp_path / "no_teacher")
    compress_cfg.compress.teacher_workdir = missing
    [problem] = _problems(compress_cfg.copy_and_resolve_references())
    assert f"compress.teacher_workdir {missing!r} does not exist: pass --config.compress.teacher_workdir=PATH" in \
        problem and "or omit it to train a teacher" in problem
    # A teacher that vanished after the config check: the plan's loader names the same key.
    with pytest.raises(TeacherError, match="pass --config.compress.teacher_workdir=PATH") as err:
        plan(compress_cfg, str(tmp_path / "run")).prepare(tf.distribute.get_strategy())
    assert "\n" not in str(err.value)


def test_a_teacher_generator_file_is_checked_before_anything_trains(compress_cfg, tmp_path):
    compress_cfg.compress.student_init = "scratch"
    d_file, g_file = tmp_path / "d.keras", tmp_path / "g.keras"
    d_file.write_text("")
    g_file.write_text("")
    for teacher, generator, problem in [
            (d_file, tmp_path / "nope.keras", "compress.teacher_generator '{g}' does not exist: pass a SavedModel "
                                              "dir such as RUN_DIR/export/saved_model (python -m tfgan_eff.export "
                                              "writes it) or a .keras file written by generator.save(path)"),
            (d_file, tmp_path, "compress.teacher_generator '{g}' is neither a SavedModel dir nor a .keras file"),
            ("", g_file, "compress.teacher_generator goes with a teacher D file as compress.teacher_workdir"),
            (d_file, g_file, None)]:
        cfg = compress_cfg.copy_and_resolve_references()
        cfg.compress.update(teacher_workdir=str(teacher), teacher_generator=str(generator))
        problems = _problems(cfg)
        if problem is None:
            assert problems == []
        else:
            [line] = problems
            assert problem.format(g=generator) in line


def test_a_genotype_student_of_a_conditional_teacher_is_one_config_problem(compress_cfg):
    compress_cfg.data.conditional = True
    for net in (compress_cfg.model.g, compress_cfg.model.d):
        net.arch = "sngan"  # a conditional teacher
    compress_cfg.compress.student_init = "scratch"  # channel inheritance is for DCGAN Gs
    assert _problems(compress_cfg.copy_and_resolve_references()) == []
    compress_cfg.compress.genotype = "alphagan_s"
    assert _problems(compress_cfg.copy_and_resolve_references()) == [
        "  - compress.genotype student: alphaGAN's generators (supernet and genotypes) are unconditional: set "
        "data.conditional=False"]


def test_inherited_channels_are_refused_where_they_cannot_apply(compress_cfg, tmp_path):
    compress_cfg.compress.student_init = "teacher"
    assert _problems(compress_cfg.copy_and_resolve_references()) == []
    keras_file = tmp_path / "d.keras"
    keras_file.write_text("")  # a discriminator-only teacher: there is no G to inherit from
    cfg = compress_cfg.copy_and_resolve_references()
    cfg.compress.teacher_workdir = str(keras_file)
    assert any("needs the teacher's G, but compress.teacher_workdir is a discriminator file: pass "
               "--config.compress.teacher_generator=G.keras" in p for p in _problems(cfg))
    saved_model = tmp_path / "g_saved_model"
    saved_model.mkdir()
    (saved_model / "saved_model.pb").write_bytes(b"")
    cfg.compress.teacher_generator = str(saved_model)  # a SavedModel does not keep the G's layers
    assert _problems(cfg) == ["  - compress.student_init='teacher' reads the teacher G's channels, which a "
                              "SavedModel does not keep: pass the G as a .keras file (generator.save('g.keras')) or "
                              "--config.compress.student_init=scratch"]
    cfg = compress_cfg.copy_and_resolve_references()
    cfg.model.g.arch = "sngan"
    assert _problems(cfg) == ["  - compress.student_init='teacher' inherits channels of a DCGAN G without spectral "
                              "norm, got model.g.arch='sngan', model.g.spectral_norm=False: pass "
                              "--config.compress.student_init=scratch"]
    cfg = compress_cfg.copy_and_resolve_references()
    cfg.compress.update(g_widths="", genotype="alphagan_s")
    assert _problems(cfg) == []  # the genotype student starts from random weights
    compress_cfg.compress.student_init = "pretrained"
    assert _problems(compress_cfg) == ["  - compress.student_init='pretrained' is not one of ['scratch', 'teacher']"]
