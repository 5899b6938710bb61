"""kill -9 inside each method's pipeline, rerun the same command: the same results as an uninterrupted run.
Also: sub-runs trained at once (train.jobs=2), killed with two in flight, end where one-after-the-other ends.

dgl: killed in stage 2 (the DGL run after the switch); sparse: killed after a prune-and-regrow update and a
checkpoint after it; search: killed between alphaGAN rounds (the searcher checkpoints once per round), with one
round done and one to go. Comparison runs are switched off to save time, and the three run the CLI with every
tf.function executed eagerly (tests/eager_train.py): what is tested is the resume (checkpoints, masks, stages, rounds),
and tracing would cost more than the runs in each of the 3 processes a test starts; the baseline's kill test
(test_kill_resume.py) runs the traced CLI.
"""

import json
import os

import numpy as np
import pytest

from killed_run import (assert_same_checkpoints, checkpoint_values, kill_when,  # pylint: disable=import-error
                        resumed_step, run_to_end, straight_and_resumed)

pytestmark = pytest.mark.long(140)  # run early (tests/conftest.py)

QUICK = ("--smoke", "--config.train.steps=8", "--config.eval.at_end=False", "--config.export.enabled=False")


def _read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def test_dgl_killed_in_stage_two_then_resumed_matches_uninterrupted(tmp_path):
    # Smoke: teacher trained here, switch at step 2, checkpoints every 2; dgl/ holds stage 2 (steps 3-8).
    flags = ("--method=dgl", *QUICK, "--config.dgl.teacher_steps=2", "--config.dgl.baselines=")
    straight, killed, log = straight_and_resumed(tmp_path, "dgl/checkpoints/ckpt-4.index",
                                                 "dgl/checkpoints/ckpt-8.index", *flags, eager=True)
    assert resumed_step(log, os.path.join(killed, "dgl", "checkpoints")) in (4, 6), log[-3000:]
    assert not os.path.exists(os.path.join(straight, "plain"))
    keys = assert_same_checkpoints(os.path.join(straight, "dgl", "checkpoints"),
                                   os.path.join(killed, "dgl", "checkpoints"))
    assert {k.split("/")[0] for k in keys} >= {"generator", "discriminator", "ema_generator", "g_optimizer"}


def test_sparse_killed_after_a_mask_update_then_resumed_matches_uninterrupted(tmp_path):
    # Masks are updated at the start of steps 3, 5 and 7 (update_every 2): ckpt-4 holds the step-2 update's masks.
    flags = ("--method=sparse", *QUICK, "--config.sparse.update_every=2", "--config.train.ckpt_every=2",
             "--config.sparse.comparisons=")
    straight, killed, _ = straight_and_resumed(tmp_path, "sparse/checkpoints/ckpt-4.index",
                                               "sparse/checkpoints/ckpt-8.index", *flags, eager=True)
    ckpt_dir = os.path.join(straight, "sparse", "checkpoints")
    keys = assert_same_checkpoints(ckpt_dir, os.path.join(killed, "sparse", "checkpoints"))
    masks = {k for k in keys if "/sparsity_mask/mask/" in k}
    assert {k.split("/")[0] for k in masks} == {"generator", "discriminator"}
    # The updates moved G's masks: some weight was active once and is not any more.
    values = checkpoint_values(ckpt_dir, prefixes=("generator",))
    assert any(values[k.replace("/mask/", "/ever_active/")].sum() > values[k].sum()
               for k in masks if k.startswith("generator/"))


def test_search_killed_between_rounds_then_resumed_matches_uninterrupted(tmp_path):
    flags = ("--method=search", *QUICK, "--config.train.steps=2", "--config.search.rounds=2",
             "--config.search.inner_steps=1", "--config.search.worst_steps=1", "--config.search.arch_steps=1")
    straight, killed, _ = straight_and_resumed(tmp_path, "search/ckpt/ckpt-1.index", "search/ckpt/ckpt-2.index",
                                               *flags, eager=True)
    keys = assert_same_checkpoints(os.path.join(straight, "search", "ckpt"), os.path.join(killed, "search", "ckpt"))
    assert sum(k.startswith("supernet/_alphas") for k in keys) == 8
    assert any(k.startswith("g_opt/_trainable_variables/") for k in keys)  # the supernet's weights
    a, b = (_read_json(os.path.join(d, "summary.json")) for d in (straight, killed))
    assert a["genotype"] == b["genotype"] == _read_json(os.path.join(killed, "search", "genotype.json"))
    for key in ("dg_history", "minmax_history", "maxmin_history"):  # one record per round, none lost to the kill
        assert len(a["search"][key]) == 2
        np.testing.assert_array_equal(a["search"][key], b["search"][key], err_msg=key)
    assert_same_checkpoints(os.path.join(straight, "retrain", "checkpoints"),
                            os.path.join(killed, "retrain", "checkpoints"))


def test_sub_runs_at_once_killed_in_flight_then_resumed_match_one_after_the_other(tmp_path):
    # STU-GAN's sparse, dense and static runs, 2 at a time, each on one thread as the straight run; killed once the
    # dense run has its step-4 checkpoint (the sparse run trains beside it).
    flags = ("--method=sparse", *QUICK, "--config.train.ckpt_every=2", "--config.train.intra_op_threads=1",
             "--config.train.inter_op_threads=1")
    straight, killed = str(tmp_path / "straight"), str(tmp_path / "killed")
    run_to_end(straight, *flags)
    parallel = (*flags, "--config.train.jobs=2")
    assert kill_when(killed, "dense/checkpoints/ckpt-4.index", *parallel) == -9
    assert not os.path.exists(os.path.join(killed, "summary.json"))
    log = run_to_end(killed, *parallel)
    assert "[jobs] dense: started" in log, log[-3000:]  # resumed in a process of its own
    with open(os.path.join(killed, "logs", "dense.log"), encoding="utf-8") as f:
        assert resumed_step(f.read(), os.path.join(killed, "dense", "checkpoints")) in (4, 6)
    for run in ("sparse", "dense", "static"):
        assert_same_checkpoints(os.path.join(straight, run, "checkpoints"), os.path.join(killed, run, "checkpoints"))
    a, b = (_read_json(os.path.join(d, "summary.json")) for d in (straight, killed))
    assert [row["run"] for row in a["table"]] == [row["run"] for row in b["table"]] == ["sparse", "dense", "static"]
