"""kill -9 in the middle of training, rerun the same command: same final weights as an uninterrupted run."""

import os

from killed_run import assert_same_checkpoints, resumed_step, straight_and_resumed  # pylint: disable=import-error

FLAGS = ("--method=baseline", "--smoke", "--config.train.steps=8", "--config.train.ckpt_every=2",
         "--config.eval.at_end=False", "--config.export.enabled=False")


def test_baseline_killed_then_resumed_matches_uninterrupted(tmp_path):
    straight, killed, log = straight_and_resumed(tmp_path, "checkpoints/ckpt-4.index", "checkpoints/ckpt-8.index",
                                                 *FLAGS)
    assert resumed_step(log, os.path.join(killed, "checkpoints")) in (4, 6), log[-3000:]
    keys = assert_same_checkpoints(os.path.join(straight, "checkpoints"), os.path.join(killed, "checkpoints"))
    assert {k.split("/")[0] for k in keys} >= {"generator", "discriminator", "ema_generator", "g_optimizer"}
