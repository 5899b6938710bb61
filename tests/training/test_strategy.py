"""Process set-up of a run: TensorFlow's CPU thread pools (the strategies are exercised by the distributed checks)."""

import logging

import tensorflow as tf

from tfgan_eff.training.strategy import set_threads


def test_set_threads_after_tensorflow_started_keeps_the_running_threads_and_says_so(caplog):
    tf.constant(1.0) + 1.0  # TF has started in this process
    running = (tf.config.threading.get_intra_op_parallelism_threads(),
               tf.config.threading.get_inter_op_parallelism_threads())
    with caplog.at_level(logging.WARNING):
        assert set_threads(0, 0) == running  # 0 asks for nothing
        assert not caplog.records
        assert set_threads(running[0] + 3, 0) == running
    assert "train.intra_op_threads=" in caplog.text and "not applied" in caplog.text
