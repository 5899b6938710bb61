"""kill -9 in the middle of training, rerun the same command: same final weights as an uninterrupted run."""

import os

import numpy as np

from killed_run import checkpoint_values, kill_when, run_to_end  # pylint: disable=import-error

FLAGS = ("--method=baseline", "--smoke", "--config.train.steps=8", "--config.train.ckpt_every=2",
         "--config.eval.at_end=False", "--config.export.enabled=False")


def test_baseline_killed_then_resumed_matches_uninterrupted(tmp_path):
    straight, killed = str(tmp_path / "straight"), str(tmp_path / "killed")
    run_to_end(straight, *FLAGS)
    assert kill_when(killed, "checkpoints/ckpt-4.index", *FLAGS) == -9
    assert not os.path.exists(os.path.join(killed, "checkpoints", "ckpt-8.index"))
    run_to_end(killed, *FLAGS)
    a = checkpoint_values(os.path.join(straight, "checkpoints"))
    b = checkpoint_values(os.path.join(killed, "checkpoints"))
    assert a.keys() == b.keys() and len(a) > 10
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
