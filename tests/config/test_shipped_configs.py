"""Every shipped config (configs/*.py, found by glob) loads as the CLI loads it, validates and smoke-runs end to end.

The smoke runs go through the real command line, `python -m tfgan_eff.train --config=configs/X.py --smoke` with
evaluation and export off (and the CIFAR-10 configs pointed at the tiny on-disk TFDS cifar10 of `tiny_tfds_dir`),
two at a time so that both cores work; EXTRA_SMOKE_FLAGS leave out sub-runs another test already covers, and the
configs of EAGER_SMOKE run with their tf.functions executed eagerly (tests/eager_train.py). A config
whose resolved config is exactly a method's preset that another test already smoke-runs through `train_lib.run` is
checked for that equality instead of being run again, and one that differs from a config run here only in keys
covered elsewhere (SAME_RUN_AS) is checked for that difference.
"""

import concurrent.futures
import glob
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from absl import flags
from ml_collections import config_flags

from tfgan_eff import inference
from tfgan_eff.config import presets
from tfgan_eff.config.validate import validate
from tfgan_eff.nested import flatten

pytestmark = pytest.mark.long(150)  # run early (tests/conftest.py)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = sorted(glob.glob(os.path.join(ROOT, "configs", "*.py")))
# method: (test file, test or fixture) that runs train_lib.run(presets.smoke(presets.get(method)))
SMOKE_RUN_ELSEWHERE = {
    "dgl": ("tests/distill/test_dgl_plan.py", "test_smoke_run_writes_table_and_does_not_rerun_finished_runs"),
    "sparse": ("tests/sparse/test_sparse_plan.py", "runner_result"),
}


def _name(path):
    """The config's name: its file name without `.py`."""
    return os.path.basename(path)[:-3]


def _path(name):
    """The shipped config file called `name`."""
    return os.path.join(ROOT, "configs", f"{name}.py")


def load_config(path):
    """The config of `--config=path` exactly as tfgan_eff.train's flag builds it (locked)."""
    argv = ["train", f"--config={path}"]
    flag_values = flags.FlagValues()
    holder = config_flags.DEFINE_config_file("config", flag_values=flag_values, lock_config=True, sys_argv=argv)
    flag_values(argv)
    return holder.value


def runs_elsewhere(cfg):
    """True when `cfg` is a method preset that SMOKE_RUN_ELSEWHERE's test already smoke-runs."""
    return cfg.method in SMOKE_RUN_ELSEWHERE and cfg.to_dict() == presets.get(cfg.method).to_dict()


# Smoke flags of single configs, leaving out sub-runs that the presets' smoke runs train: dgl_cifar10_biggan's 'plain'
# baseline (test_dgl_plan.py; L1-KD, BigGAN's own, is kept), sparse_cifar10_sngan's comparisons (test_sparse_plan.py).
EXTRA_SMOKE_FLAGS = {"dgl_cifar10_biggan": ("--config.dgl.baselines=l1",),
                     "sparse_cifar10_sngan": ("--config.sparse.comparisons=",)}
# Configs smoke-run with every tf.function run eagerly (same CLI and flags): tracing the supernet's five step
# functions at the shipped search padding costs over 2 minutes of CPU (tests/search/test_searcher_traced.py checks a
# traced round against an eager one); tracing the BigGAN config's four training runs costs 40 s more than running them
# eagerly (its layers, conditional BN and the projection D, train traced in tests/training/test_training_loop.py's
# conditional mirrored case).
EAGER_SMOKE = {"search_digits", "dgl_cifar10_biggan"}
EAGER_ENTRY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "eager_train.py")
# Configs whose smoke run would repeat another config's: they differ from it only in the keys listed, which other
# tests cover (the published genotypes are built and counted in tests/search/test_genotype.py; search.preset is
# unused when a genotype is given). Checked for exactly that difference instead of being run.
SAME_RUN_AS = {"alphagan_s": ("alphagan_l", {"name", "search.preset", "model.g.genotype", "retrain.genotype"})}
SMOKE_RUN_HERE = [path for path in CONFIGS
                  if not runs_elsewhere(load_config(path)) and _name(path) not in SAME_RUN_AS]
PRESET_CONFIGS = [path for path in CONFIGS if runs_elsewhere(load_config(path))]


def _smoke_cli(path, workdir, tfds_data_dir):
    cfg = load_config(path)
    entry = [EAGER_ENTRY] if _name(path) in EAGER_SMOKE else ["-m", "tfgan_eff.train"]
    args = [sys.executable, *entry, f"--config={path}", "--smoke", f"--workdir={workdir}",
            "--config.eval.at_end=False", "--config.export.enabled=False",
            *EXTRA_SMOKE_FLAGS.get(_name(path), ())]
    if cfg.data.source.startswith("tfds:"):
        args.append(f"--config.data.tfds_data_dir={tfds_data_dir}")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run(args, capture_output=True, text=True, timeout=900, env=env, cwd=ROOT, check=False)


@pytest.fixture(scope="module")
def smoke_runs(tiny_tfds_dir, tmp_path_factory):
    """{config path: (future of its CLI smoke run, work dir)} for every config of SMOKE_RUN_HERE."""
    root = tmp_path_factory.mktemp("shipped")
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        runs = {}
        for path in SMOKE_RUN_HERE:
            workdir = str(root / _name(path))
            runs[path] = pool.submit(_smoke_cli, path, workdir, tiny_tfds_dir), workdir
        yield runs


def _finished_run(smoke_runs, path):
    future, workdir = smoke_runs[path]
    result = future.result()
    assert result.returncode == 0, f"{os.path.basename(path)} smoke run failed:\n{result.stderr[-4000:]}"
    return workdir


def _ids(paths):
    return [_name(p) for p in paths]


@pytest.mark.parametrize("path", CONFIGS, ids=_ids(CONFIGS))
def test_config_validates_as_shipped(path, tmp_path):
    cfg = load_config(path)
    assert cfg.is_locked  # a typo in an override cannot add a key
    with cfg.unlocked():
        # Local paths (TFDS data dir, Inception weights) only have to exist on the user's machine.
        if cfg.data.source.startswith("tfds:"):
            cfg.data.tfds_data_dir = str(tmp_path)
        if cfg.eval.extractor == "inception":
            cfg.eval.inception_weights = str(tmp_path / "inception.h5")
            (tmp_path / "inception.h5").write_bytes(b"")
    validate(cfg)


@pytest.mark.parametrize("path", SMOKE_RUN_HERE, ids=_ids(SMOKE_RUN_HERE))
def test_config_smoke_runs_end_to_end(path, smoke_runs):
    cfg = load_config(path)
    workdir = _finished_run(smoke_runs, path)
    with open(os.path.join(workdir, "summary.json"), encoding="utf-8") as f:
        summary = json.load(f)
    assert summary["method"] == cfg.method and summary["config"] == cfg.name
    # Every training run of the method (teacher, students, comparisons, retraining) reached its last step.
    run_dirs = sorted(os.path.dirname(p) for p in glob.glob(os.path.join(workdir, "**", "config.json"),
                                                            recursive=True))
    assert run_dirs
    for run_dir in run_dirs:
        with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as f:
            run_cfg = json.load(f)
        with open(os.path.join(run_dir, "summary.json"), encoding="utf-8") as f:
            assert json.load(f)["steps"] == run_cfg["train"]["steps"], run_dir
        assert run_cfg["data"]["resolution"] == 16 and run_cfg["train"]["batch_size"] == 4  # presets.smoke


@pytest.mark.parametrize("path", PRESET_CONFIGS, ids=_ids(PRESET_CONFIGS))
def test_config_is_a_preset_smoke_run_elsewhere(path):
    cfg = load_config(path)
    assert cfg.to_dict() == presets.get(cfg.method).to_dict()
    test_file, test_name = SMOKE_RUN_ELSEWHERE[cfg.method]
    with open(os.path.join(ROOT, test_file), encoding="utf-8") as f:
        source = f.read()
    # That test still exists and still smoke-runs the preset; otherwise this config must be smoke-run here.
    assert f"def {test_name}(" in source and f'presets.smoke(presets.get("{cfg.method}"))' in source, test_file


def _differing_keys(a, b):
    """The dotted keys whose values differ between two nested dicts (or that only one has)."""
    a, b = flatten(a), flatten(b)
    return {key for key in a.keys() | b.keys() if key not in a or key not in b or a[key] != b[key]}


@pytest.mark.parametrize("name", sorted(SAME_RUN_AS))
def test_config_differs_from_a_smoke_run_config_only_in_keys_covered_elsewhere(name):
    other, keys = SAME_RUN_AS[name]
    assert _path(other) in SMOKE_RUN_HERE
    config, smoke_run = load_config(_path(name)), load_config(_path(other))
    assert _differing_keys(config.to_dict(), smoke_run.to_dict()) == keys


@pytest.mark.parametrize("path", SMOKE_RUN_HERE, ids=_ids(SMOKE_RUN_HERE))
def test_method_workdir_loads_its_generator(path, smoke_runs):
    cfg = load_config(path)
    sampler = inference.load_generator(_finished_run(smoke_runs, path))
    images = sampler.sample(2, seed=1)
    assert images.shape == (2, 16, 16, cfg.data.channels) and images.dtype == np.uint8
