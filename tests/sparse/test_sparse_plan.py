"""`--method=sparse` end to end: the plan's summary and exports, exact resume, no rerun of finished runs, and
2 replicas vs 1 device.

One smoke run of the method (sparse + dense + static, 4 steps, a mask update at step 2) is shared by the tests;
the MirroredStrategy subprocess (mirrored_sparse_check.py) runs meanwhile on the other core.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.config import presets
from tfgan_eff.config.validate import ConfigError, validate
from tfgan_eff.inference import find_run_dir
from tfgan_eff.models import registry
from tfgan_eff.pieces.sparsity_callback import read_diagnostics, sparsity_callback
from tfgan_eff.sparse.plan import run_config, sub_run_kinds, trainer_factory
from tfgan_eff.sparse import plan as sparse_plan
from tfgan_eff.train_lib import run as run_method
from tfgan_eff.training import checkpoint, evaluator, experiment
from tfgan_eff.training.loop import train_gan

pytestmark = pytest.mark.long(50)  # run early (tests/conftest.py)

SCRIPT = pathlib.Path(__file__).with_name("mirrored_sparse_check.py")
REPO = SCRIPT.parents[2]


@pytest.fixture(scope="module")
def runner_result(tmp_path_factory):
    """(summary, runner work dir, facts printed by the MirroredStrategy subprocess)."""
    root = tmp_path_factory.mktemp("sparse_runner")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(REPO))
    # Runs beside the in-process run below.
    mirrored = subprocess.Popen([sys.executable, str(SCRIPT)], stdout=subprocess.PIPE,  # pylint: disable=consider-using-with
                                stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    workdir = str(root / "runner")
    summary = run_method(presets.smoke(presets.get("sparse")), workdir)
    stdout, stderr = mirrored.communicate(timeout=300)
    assert mirrored.returncode == 0, stderr[-3000:]
    return summary, workdir, json.loads(stdout.strip().splitlines()[-1])


def checkpoint_values(prefix):
    reader = tf.train.load_checkpoint(prefix)
    return {key: reader.get_tensor(key) for key in reader.get_variable_to_shape_map()
            if key != "_CHECKPOINTABLE_OBJECT_GRAPH"}


def assert_same_training_state(a_prefix, b_prefix):
    """Every checkpointed value (masks, ever_active, weights, EMA, optimizer slots, step) is bit-identical."""
    a, b = checkpoint_values(a_prefix), checkpoint_values(b_prefix)
    assert a.keys() == b.keys()
    assert len([k for k in a if "sparsity_mask" in k]) == 2 * 5  # mask + ever_active of 3 G and 2 D conv kernels
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_summary_lists_every_run_and_the_export_keeps_the_zeros(runner_result):
    summary, workdir, _ = runner_result
    with open(os.path.join(workdir, "summary.json"), encoding="utf-8") as f:
        assert json.load(f)["table"] == summary["table"]
    assert [row["run"] for row in summary["table"]] == ["sparse", "dense", "static"]
    assert find_run_dir(workdir) == os.path.join(workdir, "sparse")
    for row in summary["table"]:
        assert np.isfinite(row["FID"]) and row["float32 KiB"].count("/") == 1
    sparse, dense, static = (summary["runs"][name] for name in ("sparse", "dense", "static"))
    assert sparse["kind"] == "dynamic_g" and static["kind"] == "static" and "sparsity" not in dense
    for run in (sparse, static):
        assert run["sparsity"]["g"]["density"] == pytest.approx(0.2, abs=0.01)
        assert run["sparsity"]["d"]["density"] == pytest.approx(0.3, abs=0.01)
        check = run["export"]["zero_check"]
        assert check["masked_zeros"] > 0 and check["keras_keeps_zeros"] and check["tflite_float32_keeps_zeros"]
        assert run["export"]["g_nonzero_params"] <= run["export"]["g_params"] - check["masked_zeros"]
    assert dense["export"]["g_nonzero_params"] > sparse["export"]["g_nonzero_params"]
    history = read_diagnostics(os.path.join(workdir, "sparse"))
    assert [r["step"] for r in history] == [2, 4]
    assert history[0]["drop_fraction"] == pytest.approx(0.2525) and history[1]["drop_fraction"] is None
    assert history[0]["g/exploration_rate"] > history[0]["g/density/overall"]  # the update explored new weights
    assert history[0]["g/regrown_redropped"] is None  # the first update has no earlier one to judge
    assert all(np.isfinite(r["balance_ratio"]) for r in history)


def _refuse(*args, **kwargs):
    raise AssertionError(f"a finished sub-run was run again: {args[:2]}")


def test_rerun_of_a_finished_run_trains_evaluates_and_exports_nothing(runner_result, monkeypatch):
    summary, workdir, _ = runner_result
    for module, name in ((experiment, "train_gan"), (evaluator, "evaluate_run"),
                         (sparse_plan, "export_generator")):
        monkeypatch.setattr(module, name, _refuse)
    assert run_method(presets.smoke(presets.get("sparse")), workdir)["table"] == summary["table"]


def test_resume_from_a_workdir_reproduces_masks_and_the_next_steps(runner_result, tmp_path):
    _, workdir, _ = runner_result
    source = os.path.join(workdir, "sparse", "checkpoints")
    target = tmp_path / "checkpoints"
    target.mkdir()
    for name in os.listdir(source):
        if name.startswith("ckpt-2."):
            shutil.copy(os.path.join(source, name), target / name)
    # A work dir whose only (and latest) checkpoint is ckpt-2, as if the run had been killed right after it.
    tf.compat.v1.train.update_checkpoint_state(str(target), str(target / "ckpt-2"),
                                               all_model_checkpoint_paths=[str(target / "ckpt-2")],
                                               all_model_checkpoint_timestamps=[time.time()])
    cfg = presets.smoke(presets.get("sparse"))
    cfg.eval.at_end = False
    cfg.export.enabled = False
    cfg = run_config(cfg, "sparse", cfg.sparse.mode)
    run, _ = train_gan(cfg, str(tmp_path), trainer_factory=trainer_factory(cfg, cfg.sparse.mode, str(tmp_path)),
                       extra_callbacks=[sparsity_callback])
    assert run.step == 4 and run.checkpointer.checkpoints[-1].endswith("ckpt-2")
    assert_same_training_state(os.path.join(source, "ckpt-4"), run.checkpointer.latest)
    # The update at step 2 ran after the restore; its BR was measured before the interruption, so it is unknown.
    assert [(r["step"], r["balance_ratio"] is None) for r in read_diagnostics(str(tmp_path))] == [(2, True),
                                                                                               (4, False)]


def test_masks_identical_on_two_replicas_through_training_and_updates(runner_result):
    facts = dict(runner_result[2])
    assert facts.pop("replicas") == 2
    assert all(facts.values()), facts


def test_run_plan_trains_dense_before_prune_and_rejects_bad_comparisons():
    cfg = presets.get("sparse")
    cfg.sparse.comparisons = "prune,static,dynamic_gd"
    assert sub_run_kinds(cfg) == [("sparse", "dynamic_g"), ("static", "static"), ("dynamic_gd", "dynamic_gd"),
                             ("dense", "dense"), ("prune", "prune")]
    cfg.sparse.comparisons = "dense,dynamic_g,pruned"
    with pytest.raises(ConfigError, match="'pruned' is not one of.*\n.*'dynamic_g' repeats sparse.mode"):
        validate(cfg)


def test_the_prune_run_prunes_the_dense_runs_checkpoint_at_prune_step(runner_result):
    _, workdir, _ = runner_result
    cfg = presets.smoke(presets.get("sparse"))
    cfg.sparse.update(comparisons="static,prune", prune_from=os.path.join(workdir, "dense"), prune_step=2)
    validate(cfg)
    # an external dense run: nothing to train before the prune run, which starts at once
    assert [name for name, _ in sub_run_kinds(cfg)] == ["sparse", "static", "prune"]
    prune = next(sub for sub in sparse_plan.plan(cfg, "unused").runs if sub.name == "prune")
    assert prune.after == ()
    generator, discriminator = registry.build_generator(cfg), registry.build_discriminator(cfg)
    trainer_factory(cfg, "prune", "unused")(generator, discriminator, run_config(cfg, "prune", "prune").train)
    # G holds the step-2 weights where its masks keep them (the step-4 ones differ)
    for step, same in ((2, True), (4, False)):
        reference = registry.build_generator(cfg)
        checkpoint.restore_from(os.path.join(workdir, "dense", "checkpoints", f"ckpt-{step}"), generator=reference)
        kept = [np.all((a.numpy() == b.numpy()) | (a.numpy() == 0)) for a, b in zip(generator.weights,
                                                                                      reference.weights)]
        assert all(kept) == same


def test_prune_step_must_be_a_kept_checkpoint_of_the_dense_run(runner_result, tmp_path):
    cfg = presets.smoke(presets.get("sparse"))  # 4 steps, a checkpoint every 2
    cfg.sparse.update(comparisons="prune", prune_step=3)
    with pytest.raises(ConfigError, match="sparse.prune_step must be a checkpoint step .*multiple of "
                                          r"train.ckpt_every \(2\); got 3"):
        validate(cfg)
    cfg.sparse.prune_step, cfg.train.keep_checkpoints = 2, 1
    with pytest.raises(ConfigError, match="set train.keep_checkpoints >= 2"):
        validate(cfg)
    dense = os.path.join(runner_result[1], "dense")
    with pytest.raises(sparse_plan.MissingPruneCheckpointError, match=r"no checkpoint at that step \(kept: \[2, 4\]"):
        sparse_plan.dense_checkpoint(dense, 6)
    with pytest.raises(sparse_plan.MissingPruneCheckpointError, match="pass as sparse.prune_from the work dir"):
        sparse_plan.dense_checkpoint(str(tmp_path), 0)
