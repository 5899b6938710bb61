"""The config schema: presets validate, typos and wrong types are named, bad values are refused up front."""

import ml_collections
import numpy as np
import pytest

from tfgan_eff.config import presets, registry
from tfgan_eff.config.validate import ConfigError, validate
from tfgan_eff.search import genotype as genotype_lib

@pytest.mark.parametrize("method", registry.names())
def test_presets_validate(method):
    cfg = validate(presets.get(method))
    assert cfg.method == method
    with pytest.raises(AttributeError):
        cfg.train.stepz = 3  # locked: typos cannot add keys


def test_unknown_key_names_closest():
    cfg = presets.baseline()
    cfg.train.n_critics = 5
    with pytest.raises(ConfigError, match=r"unknown key 'train.n_critics'.*did you mean train.n_critic"):
        validate(cfg)


def test_wrong_type_is_named():
    raw = presets.baseline().to_dict()
    raw["train"]["batch_size"] = "64"  # a config file that builds its own dicts can get types wrong
    cfg = ml_collections.ConfigDict(raw)
    with pytest.raises(ConfigError, match="train.batch_size must be int"):
        validate(cfg)


def test_typed_assignment_refused():
    cfg = presets.baseline()
    with pytest.raises(TypeError):
        cfg.train.steps = "many"


BAD_INPUTS = [  # (method, key, value, message): each refused before anything is built
    ("baseline", "train.steps", 0, "train.steps must be > 0"),
    ("baseline", "train.batch_size", -4, "train.batch_size must be > 0"),
    ("baseline", "model.g.ch", 0, "model.g.ch must be > 0"),
    ("baseline", "method", "gan", "method='gan' is not one of"),
    ("baseline", "train.loss", "bce", "train.loss='bce'"),
    ("baseline", "data.source", "folder:/no/such/dir", "does not exist"),
    ("baseline", "data.source", f"folder:{__file__}", "is a file, not a folder"),
    ("baseline", "train.g_opt.lr", float("inf"), "train.g_opt.lr must be a finite number, got inf"),
    ("baseline", "train.d_opt.beta2", float("nan"), "train.d_opt.beta2 must be a finite number, got nan"),
    ("baseline", "train.r1_gamma", float("-inf"), "train.r1_gamma must be a finite number"),
    ("baseline", "train.max_skipped_in_row", -1, r"train.max_skipped_in_row must be >= 0 \(0 = never stop\)"),
    ("baseline", "train.intra_op_threads", -2, r"train.intra_op_threads must be >= 0 \(0 = TensorFlow's default\)"),
    ("baseline", "data.source", "mnist", "use digits, shapes, tfds:NAME"),
    ("baseline", "data.tfds_data_dir", "/no/such/tfds", "tfds_data_dir '/no/such/tfds' does not exist"),
    ("baseline", "data.resolution", 33, "data.resolution=33"),
    ("baseline", "eval.extractor", "inception", "inception_weights=/path"),
    ("baseline", "eval.ref_stats", "/no/stats.npz", "compute_ref_stats"),
    ("baseline", "data.diffaug", "color,zoom", "unknown DiffAugment"),
    ("baseline", "export.modes", "float32,int4", "export.modes item='int4'"),
    ("baseline", "train.strategy", "horovod", "train.strategy='horovod'"),
    ("baseline", "train.g_batch_size", -1, r"train.g_batch_size must be >= 0 \(0 = batch_size\)"),
    ("baseline", "eval.every", -5, r"eval.every must be >= 0 \(0 = only at the end\)"),
    ("baseline", "train.jobs", 0, "train.jobs must be > 0"),
    ("baseline", "data.source", "tfds:cifar10",
     r"offline has classifiers for digits, shapes only.*extractor=inception"),
    ("sparse", "sparse.g_density", 1.5, r"sparse.g_density must be in \(0, 1\]"),
    ("sparse", "sparse.d_density", 0.0, r"sparse.d_density must be in \(0, 1\]"),
    ("sparse", "sparse.drop_fraction", 1.5, r"sparse.drop_fraction must be in \[0, 1\], got 1.5"),
    ("sparse", "sparse.drop_fraction_end", -0.1, r"sparse.drop_fraction_end must be in \[0, 1\]"),
    ("sparse", "sparse.update_every", 0, "sparse.update_every must be > 0"),
    ("sparse", "sparse.finetune_steps", -10, r"sparse.finetune_steps must be >= 0 \(0 = train.steps\)"),
    ("sparse", "sparse.mode", "dynamic", r"sparse.mode='dynamic' is not one of \['static', 'dynamic_g'"),
    ("sparse", "sparse.comparisons", "dense,pruned",
     r"sparse.comparisons item='pruned' is not one of \['dense', 'prune', 'static', 'dynamic_g', 'dynamic_gd'"),
    ("sparse", "sparse.comparisons", "static,dynamic_g", "item 'dynamic_g' repeats sparse.mode; drop it"),
    ("dgl", "dgl.teacher_workdir", "/no/teacher", "teacher_workdir '/no/teacher' does not exist"),
    ("dgl", "dgl.switch_step", 10**6, "must be < train.steps"),
    ("dgl", "dgl.teacher_steps", -1, r"dgl.teacher_steps must be >= 0 \(0 = train.steps\), got -1"),
    ("dgl", "dgl.l1_weight", -0.5, "dgl.l1_weight must be >= 0, got -0.5"),
    ("dgl", "dgl.lambda_teacher", -0.1, "dgl.lambda_teacher must be >= 0"),
    ("search", "retrain.genotype", "/no/genotype.json", "neither a JSON file"),
    ("search", "search.resolution", 12, "need search.resolution divisible by 8, got 12"),
    ("search", "model.g.kernel_init", "orthogonal", "model.g.kernel_init='orthogonal' is not one of"),
    ("search", "search.padding", "same", "search.padding='same' is not one of"),
    ("search", "search.resolution", 8, r"search.padding='reflect' needs a search resolution >= 16.*got 8"),
    ("search", "data.conditional", True, "alphaGAN.s generators .supernet and genotypes. are unconditional"),
]


@pytest.mark.parametrize("method,key,value,message", BAD_INPUTS)
def test_bad_values_are_refused(method, key, value, message):
    cfg = presets.get(method)
    *parents, leaf = key.split(".")
    target = cfg
    for p in parents:
        target = target[p]
    target[leaf] = value
    with pytest.raises(ConfigError, match=message):
        validate(cfg)


def test_sub_runs_at_once_need_a_one_device_strategy():
    cfg = presets.get("sparse")
    cfg.train.update(jobs=2, strategy="cpu")
    validate(cfg)
    cfg.train.strategy = "mirrored"
    with pytest.raises(ConfigError, match="train.jobs=2 runs each sub-run in a process of its own on one device"):
        validate(cfg)


def test_extractor_is_only_required_when_something_evaluates(tmp_path):
    cfg = presets.get("dgl")
    cfg.data.update(source="tfds:cifar10", tfds_data_dir=str(tmp_path))
    cfg.eval.at_end = False
    validate(cfg)  # nothing evaluates: neither the offline classifier nor Inception weights are needed
    cfg = presets.get("dgl")
    cfg.eval.update(at_end=False, every=100, extractor="inception")
    with pytest.raises(ConfigError, match="inception_weights="):
        validate(cfg)


def test_invalid_genotype_json_refused(tmp_path):
    bad = tmp_path / "genotype.json"
    bad.write_text("{not json")
    cfg = presets.get("search")
    cfg.retrain.genotype = str(bad)
    with pytest.raises(ConfigError, match="not valid JSON"):
        validate(cfg)


def test_reflect_padded_genotype_file_refused_below_its_minimum_resolution(tmp_path):
    path = str(tmp_path / "genotype.json")
    genotype_lib.save(genotype_lib.sample(np.random.default_rng(0), "normalized", "reflect"), path)
    cfg = presets.get("search")
    cfg.retrain.genotype = path
    cfg.data.resolution = 8
    with pytest.raises(ConfigError, match=r"genotype .*genotype.json.: padding='reflect' needs a data.resolution >= "
                                          r"16.*got 8"):
        validate(cfg)
    cfg.data.resolution = 16
    validate(cfg)


def test_smoke_shrinks_every_preset():
    for method in registry.names():
        cfg = presets.smoke(presets.get(method))
        assert cfg.train.steps <= 4 and cfg.data.resolution == 16
        validate(cfg)


def test_missing_key_reported():
    cfg = ml_collections.ConfigDict(presets.baseline().to_dict())
    del cfg.train["ema_decay"]
    with pytest.raises(ConfigError, match="missing key 'train.ema_decay'"):
        validate(cfg)


def test_l1_baseline_needs_a_teacher_generator(tmp_path):
    teacher_d = tmp_path / "teacher_d.keras"
    teacher_d.write_bytes(b"")  # only its kind (a discriminator file) matters here
    cfg = presets.get("dgl")
    cfg.dgl.update(teacher_workdir=str(teacher_d), baselines="plain,boost")
    validate(cfg)
    cfg = presets.get("dgl")
    cfg.dgl.update(teacher_workdir=str(teacher_d), baselines="plain,l1")
    with pytest.raises(ConfigError, match="'l1' needs a teacher generator.*discriminator file"):
        validate(cfg)
