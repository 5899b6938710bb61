"""The shared restore path (training, load_generator): a damaged index file or damaged checkpoints never restart a
run from step 0 and never overwrite a checkpoint; the config's learning rates apply on resume."""

import os
import shutil

import numpy as np
import pytest

from tfgan_eff import inference
from tfgan_eff.config import presets
from tfgan_eff.training import checkpoint
from tfgan_eff.training.loop import train_gan

INDEX_DAMAGE = {
    "missing": None,
    "garbled": b"model_checkpoint_path: {{garbage",
    "empty": b"",
    "binary": b"\x00\xff\x13abc",
}


def _cfg(steps=4):
    cfg = presets.smoke(presets.baseline())
    cfg.eval.at_end = False
    cfg.export.enabled = False
    cfg.train.steps = steps
    return cfg


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 4-step smoke run with ckpt-2 and ckpt-4."""
    workdir = tmp_path_factory.mktemp("ckpt") / "run"
    train_gan(_cfg(), str(workdir))
    return workdir


def _copy(trained, tmp_path):
    workdir = tmp_path / "run"
    shutil.copytree(trained, workdir)
    return workdir


def _checkpoint_bytes(workdir):
    ckpt_dir = workdir / "checkpoints"
    return {name: (ckpt_dir / name).read_bytes() for name in os.listdir(ckpt_dir) if name.startswith("ckpt-")}


def _damage_index(workdir, damage):
    index = workdir / "checkpoints" / "checkpoint"
    if INDEX_DAMAGE[damage] is None:
        index.unlink()
    else:
        index.write_bytes(INDEX_DAMAGE[damage])


@pytest.mark.parametrize("damage,steps", [("missing", 6), ("garbled", 4), ("empty", 4), ("binary", 4)])
def test_damaged_index_resumes_from_newest_checkpoint_file(trained, tmp_path, caplog, damage, steps):
    workdir = _copy(trained, tmp_path)
    before = _checkpoint_bytes(workdir)
    _damage_index(workdir, damage)
    with caplog.at_level("INFO", logger="absl"):
        run, summary = train_gan(_cfg(steps), str(workdir))
    assert "resuming at step 4 from" in caplog.text and summary["steps"] == steps == run.step
    after = _checkpoint_bytes(workdir)
    assert {k: after[k] for k in before} == before  # nothing overwritten or deleted
    if INDEX_DAMAGE[damage] is not None:  # the unreadable index is kept, not overwritten
        assert (workdir / "checkpoints" / "checkpoint.unreadable").read_bytes() == INDEX_DAMAGE[damage]
    if steps == 6:  # trained on: the new checkpoint is next to the old ones and indexed
        assert checkpoint.checkpoints_in(str(workdir / "checkpoints"))[0].endswith("ckpt-6")


def _truncate(workdir, *numbers):
    for n in numbers:
        data = workdir / "checkpoints" / f"ckpt-{n}.data-00000-of-00001"
        data.write_bytes(data.read_bytes()[:100])


def test_no_readable_checkpoint_refuses_and_keeps_everything(trained, tmp_path):
    workdir = _copy(trained, tmp_path)
    _truncate(workdir, 2, 4)
    before = _checkpoint_bytes(workdir)
    with pytest.raises(checkpoint.NoReadableCheckpointError, match=r"no readable checkpoint in .*\(tried ckpt-4, "
                       r"ckpt-2\)\. Nothing was overwritten"):
        train_gan(_cfg(6), str(workdir))
    assert _checkpoint_bytes(workdir) == before
    with pytest.raises(checkpoint.NoReadableCheckpointError, match="no readable checkpoint"):
        inference.load_generator(workdir)


def _generator_weights(path):
    generator, _ = inference.restore_generator(path)
    return [w.numpy() for w in generator.weights]


def test_load_generator_shares_the_fallback(trained, tmp_path):
    """Truncated latest checkpoint and no index: load_generator gets ckpt-2's weights, as training would."""
    expected = _generator_weights(str(trained / "checkpoints" / "ckpt-2"))
    workdir = _copy(trained, tmp_path)
    _truncate(workdir, 4)
    _damage_index(workdir, "missing")
    for a, b in zip(expected, _generator_weights(workdir)):
        np.testing.assert_array_equal(a, b)
    assert inference.load_generator(workdir).sample(2).shape == (2, 16, 16, 3)


def test_learning_rate_change_applies_on_resume(trained, tmp_path, caplog):
    workdir = _copy(trained, tmp_path)
    cfg = _cfg()
    cfg.train.g_opt.lr = 1e-4
    with caplog.at_level("WARNING"):
        run, _ = train_gan(cfg, str(workdir))
    assert float(run.trainer.g_optimizer.learning_rate.numpy()) == pytest.approx(1e-4)
    assert float(run.trainer.d_optimizer.learning_rate.numpy()) == pytest.approx(2e-4)
    assert "train.g_opt.lr changed on resume: 0.0002 (checkpoint) -> 0.0001 (config)" in caplog.text
    assert "train.d_opt.lr changed" not in caplog.text
