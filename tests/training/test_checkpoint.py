"""Checkpointer saves: atomic (a save cut short leaves no checkpoint behind), the newest few kept, an index file that
tf.train.latest_checkpoint reads and that survives moving the directory."""

import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.training import checkpoint


def _checkpointer(directory, value=0.0, keep=2):
    var = tf.Variable(value)
    return checkpoint.Checkpointer(str(directory), keep, var=var), var


def test_keeps_the_newest_and_indexes_them_relatively(tmp_path):
    saver, var = _checkpointer(tmp_path / "a")
    for step in (1, 2, 3):
        var.assign(float(step))
        assert saver.save(step) == str(tmp_path / "a" / f"ckpt-{step}")
    assert [os.path.basename(p) for p in saver.checkpoints] == ["ckpt-3", "ckpt-2"]
    assert sorted(os.listdir(tmp_path / "a")) == ["checkpoint", "ckpt-2.data-00000-of-00001", "ckpt-2.index",
                                                  "ckpt-3.data-00000-of-00001", "ckpt-3.index"]
    shutil.move(tmp_path / "a", tmp_path / "b")
    state = tf.train.get_checkpoint_state(str(tmp_path / "b"))
    assert state.model_checkpoint_path == str(tmp_path / "b" / "ckpt-3")
    assert list(state.all_model_checkpoint_paths) == [str(tmp_path / "b" / f"ckpt-{n}") for n in (2, 3)]
    restorer, restored = _checkpointer(tmp_path / "b")
    assert restorer.restore_latest() == restorer.latest == str(tmp_path / "b" / "ckpt-3")
    assert float(restored.numpy()) == 3.0


def test_a_save_of_the_same_step_replaces_it(tmp_path):
    saver, var = _checkpointer(tmp_path)
    saver.save(1)
    var.assign(5.0)
    saver.save(1)
    restorer, restored = _checkpointer(tmp_path)
    assert restorer.restore_latest().endswith("ckpt-1") and float(restored.numpy()) == 5.0


def test_a_save_cut_short_before_publishing_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    saver, var = _checkpointer(tmp_path, 1.0)
    saver.save(1)
    var.assign(2.0)
    real_replace = os.replace

    def killed_at_the_index(src, dst):
        if dst.endswith(".index"):
            raise KeyboardInterrupt  # the process dies between moving the data files and the index
        real_replace(src, dst)

    monkeypatch.setattr(checkpoint.os, "replace", killed_at_the_index)
    with pytest.raises(KeyboardInterrupt):
        saver.save(2)
    monkeypatch.undo()
    assert [os.path.basename(p) for p in checkpoint.checkpoints_in(str(tmp_path))] == ["ckpt-1"]
    assert any(name.startswith(".saving-") for name in os.listdir(tmp_path))
    restorer, restored = _checkpointer(tmp_path)
    assert not any(name.startswith(".saving-") for name in os.listdir(tmp_path))  # the staging dir is cleaned up
    assert restorer.restore_latest().endswith("ckpt-1")
    np.testing.assert_equal(restored.numpy(), 1.0)
    restored.assign(3.0)
    restorer.save(2)  # the interrupted step is written again, whole
    again, value = _checkpointer(tmp_path)
    assert again.restore_latest().endswith("ckpt-2") and float(value.numpy()) == 3.0
