"""Process set-up of a run: TensorFlow's CPU thread pools, and the strategies a machine cannot run refused in one
clear line (the strategies themselves are exercised by the distributed checks)."""

import logging

import pytest
import tensorflow as tf

from tfgan_eff.training.strategy import StrategyError, get_strategy, set_threads

_CLUSTER = '{"cluster": {"worker": ["h0:1", "h1:1"]}'


@pytest.mark.parametrize("tf_config,problem", [
    (None, r"TF_CONFIG is not set"),
    ("worker:0", r"TF_CONFIG is not JSON \(Expecting value"),
    ("[1, 2]", r'TF_CONFIG needs "cluster": \{job name: \["host:port", ...\]\}, got \'\[1, 2\]\''),
    ('{"cluster": {}}', r'TF_CONFIG needs "cluster"'),
    ('{"cluster": {"worker": "h0:1"}}', r'TF_CONFIG needs "cluster"'),
    (_CLUSTER + "}", r'TF_CONFIG needs "task": \{"type": one of \[\'worker\'\], "index": this process'),
    (_CLUSTER + ', "task": {"type": "chief", "index": 0}}', r'TF_CONFIG needs "task"'),
    (_CLUSTER + ', "task": {"type": "worker", "index": 2}}', r'TF_CONFIG needs "task"'),
])
def test_multi_worker_needs_a_cluster_in_tf_config(monkeypatch, tf_config, problem):
    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    with pytest.raises(StrategyError, match=r"^--strategy=multi_worker: " + problem + r".*Set TF_CONFIG='\{\"cluster"
                       r'.*or pass --strategy=auto on one machine$'):
        get_strategy("multi_worker")


def test_tpu_without_a_tpu_says_what_to_pass():
    with pytest.raises(StrategyError, match=r"^--strategy=tpu but no TPU was found \(.*\): run on a TPU VM, or pass "
                       r"--strategy=auto$"):
        get_strategy("tpu")


def test_set_threads_after_tensorflow_started_keeps_the_running_threads_and_says_so(caplog):
    _ = tf.constant(1.0) + 1.0  # TF has started in this process
    running = (tf.config.threading.get_intra_op_parallelism_threads(),
               tf.config.threading.get_inter_op_parallelism_threads())
    with caplog.at_level(logging.WARNING):
        assert set_threads(0, 0) == running  # 0 asks for nothing
        assert not caplog.records
        assert set_threads(running[0] + 3, 0) == running
    assert "train.intra_op_threads=" in caplog.text and "not applied" in caplog.text
