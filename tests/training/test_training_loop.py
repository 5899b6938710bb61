"""train_gan: resume, locks, NaN handling, thread settings and the training loop's files."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.training import checkpoint, experiment
from tfgan_eff.training.loop import NonFiniteError, train_gan
from tfgan_eff.training.piece import TrainerPiece
from tfgan_eff.training.trainer import GANTrainer
from tfgan_eff.training.workdir import WorkdirLock, WorkdirLockedError

pytestmark = pytest.mark.long(118)  # run early (tests/conftest.py)

HERE = os.path.dirname(__file__)


def _start_recorder():
    """(list, extra_callbacks maker): the list gets the trainer's step counter when fit begins, i.e. the step a run
    really started from (a run that ignores its checkpoint would show 0)."""
    starts = []

    class _RecordStart(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            starts.append(int(self.model.step.numpy()))

    return starts, lambda run: _RecordStart()


def _weights(run):
    return [v.numpy() for v in run.generator.weights + run.discriminator.weights + run.ema_generator.weights
            + run.trainer.g_optimizer.variables + run.trainer.d_optimizer.variables]


def test_smoke_run_writes_workdir(smoke_cfg, tmp_path):
    summary = experiment.run_sub(experiment.SubRun("", smoke_cfg), str(tmp_path), None)
    assert summary["steps"] == 4
    for name in ("config.json", "summary.json", "samples/step_0000004.png", "checkpoints/checkpoint"):
        assert os.path.exists(tmp_path / name), name
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved == json.loads(json.dumps(summary)) and saved["params"]["generator"] > 0
    assert saved["steps_per_s"] > 0 and os.listdir(tmp_path / "tb")


def test_resume_reproduces_uninterrupted_run(smoke_cfg, tmp_path):
    smoke_cfg.train.n_critic = 2
    straight, _ = train_gan(smoke_cfg, str(tmp_path / "straight"))
    smoke_cfg.train.steps = 2
    train_gan(smoke_cfg, str(tmp_path / "resumed"))
    smoke_cfg.train.steps = 4
    starts, recorder = _start_recorder()
    resumed, summary = train_gan(smoke_cfg, str(tmp_path / "resumed"), extra_callbacks=[recorder])
    assert resumed.step == 4 and starts == [2]
    # the training time counts the first process's part (up to step 2's checkpoint) too
    clock = json.loads((tmp_path / "resumed" / "train_time.json").read_text())
    assert sorted(clock) == ["2", "4"] and summary["time_from_step"] == 0
    assert summary["wall_time_s"] >= clock["4"]["wall_s"] > clock["2"]["wall_s"] > 0
    for a, b in zip(_weights(straight), _weights(resumed)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


DIFFAUG = "color,translation,cutout"
MIRRORED_CASES = {  # id: ((g_arch, loss, precision, n_critic, diffaug, conditional), atol, relative)
    "dcgan-hinge": (("dcgan", "hinge", "float32", 2, DIFFAUG, False), 1e-6, 1e-4),
    # SN and BN ResNets, class-conditional (conditional BN in G, projection D: the shipped BigGAN config's layers,
    # whose smoke run is eager); several D steps and DiffAugment under replicas are the dcgan case's (a 2x smaller
    # graph).
    "sngan-non_saturating-conditional": (("sngan", "non_saturating", "float32", 1, "", True), 2e-5, 1e-3),
    # bfloat16 rounds each replica's half batch differently; the updates must still agree to a few % (a replica
    # bug - unsynchronised BN, unsplit data, gradients not summed - moves them apart by ~100 %).
    "dcgan-hinge-bfloat16": (("dcgan", "hinge", "mixed_bfloat16", 2, DIFFAUG, False), 2e-3, 0.1),
}


@pytest.fixture(scope="module")
def mirrored_results(tmp_path_factory):
    """{case id: result} of distributed_check.py, run once for every case of MIRRORED_CASES (one fresh process
    saves a TF start-up per case)."""
    cases = {name: args for name, (args, _, _) in MIRRORED_CASES.items()}
    out = subprocess.run([sys.executable, os.path.join(HERE, "distributed_check.py"),
                          str(tmp_path_factory.mktemp("mirrored")), json.dumps(cases)],
                         capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stderr[-4000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", list(MIRRORED_CASES))
def test_mirrored_two_cpus_equals_one_device(mirrored_results, case):
    _, atol, relative = MIRRORED_CASES[case]
    result = mirrored_results[case]
    assert result["max_diff"] < atol, result  # atol: Adam amplifies float-order noise where a gradient is ~0
    assert result["relative_update_diff"] < relative, result


class _NaNAfter(TrainerPiece):
    """Adds a NaN to G's loss from G step 2 on."""

    def generator_loss_term(self, trainer, fake, batch):
        return tf.where(trainer.step >= 2, np.nan, 0.0), {}


def _nan_after(*args, **kwargs):
    """train_gan's trainer_factory: a GANTrainer with the _NaNAfter piece."""
    return GANTrainer(*args, pieces=(_NaNAfter(),), **kwargs)


def test_nan_stops_and_keeps_last_good_checkpoint(smoke_cfg, tmp_path):
    with pytest.raises(NonFiniteError, match="ckpt-2"):
        train_gan(smoke_cfg, str(tmp_path), trainer_factory=_nan_after)
    ckpt = tf.train.latest_checkpoint(str(tmp_path / "checkpoints"))
    assert ckpt.endswith("ckpt-2")


def test_nan_skip_policy_leaves_weights(smoke_cfg, tmp_path):
    smoke_cfg.train.nan_policy = "skip"
    smoke_cfg.train.steps = 2
    run, _ = train_gan(smoke_cfg, str(tmp_path), trainer_factory=_nan_after)
    before = [v.numpy() for v in run.generator.trainable_variables]
    smoke_cfg.train.steps = 4
    starts, recorder = _start_recorder()
    run, summary = train_gan(smoke_cfg, str(tmp_path), trainer_factory=_nan_after, extra_callbacks=[recorder])
    after = [v.numpy() for v in run.generator.trainable_variables]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)
    assert run.step == 4 and starts == [2]
    assert summary["skipped_steps"] == 2  # steps 3 and 4 (max_skipped_in_row 10 not reached)


def test_nan_skip_policy_stops_after_too_many_in_a_row(smoke_cfg, tmp_path):
    smoke_cfg.train.update(nan_policy="skip", max_skipped_in_row=1)
    with pytest.raises(NonFiniteError, match=r"more than 1 steps in a row \(train.max_skipped_in_row\).*ckpt-2"):
        train_gan(smoke_cfg, str(tmp_path), trainer_factory=_nan_after)
    assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")).endswith("ckpt-2")
    assert not os.path.exists(tmp_path / "summary.json")  # no summary, no export of the untrained G


def test_checkpoint_of_other_architecture_refused(smoke_cfg, tmp_path):
    train_gan(smoke_cfg, str(tmp_path))
    smoke_cfg.model.g.ch = 16
    smoke_cfg.train.steps = 6
    with pytest.raises(checkpoint.CheckpointMismatchError, match="does not match this model"):
        train_gan(smoke_cfg, str(tmp_path))


def test_corrupted_latest_checkpoint_falls_back(smoke_cfg, tmp_path):
    train_gan(smoke_cfg, str(tmp_path))
    data = tmp_path / "checkpoints" / "ckpt-4.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:100])  # truncated
    smoke_cfg.train.steps = 6
    starts, recorder = _start_recorder()
    run, summary = train_gan(smoke_cfg, str(tmp_path), extra_callbacks=[recorder])
    assert summary["steps"] == 6 and run.step == 6 and starts == [2]  # resumed from ckpt-2 and trained on


def test_workdir_lock(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])  # pylint: disable=consider-using-with
    try:
        (tmp_path / ".lock").write_text(str(sleeper.pid))
        with pytest.raises(WorkdirLockedError, match=f"in use by process {sleeper.pid}.*delete {tmp_path}/.lock"):
            with WorkdirLock(str(tmp_path)):
                pass
    finally:
        sleeper.kill()
        sleeper.wait()
    with WorkdirLock(str(tmp_path)):  # the owner is dead: the stale lock is taken over
        assert (tmp_path / ".lock").read_text() == str(os.getpid())
    assert not (tmp_path / ".lock").exists()
    for leftover in ("", "garbage"):  # an empty or unreadable lock (an older version's crash) is stale too
        (tmp_path / ".lock").write_text(leftover)
        with WorkdirLock(str(tmp_path)):
            assert (tmp_path / ".lock").read_text() == str(os.getpid())
    assert os.listdir(tmp_path) == []  # no temp or moved-aside lock files left


def test_workdir_lock_never_exposes_an_empty_lock(tmp_path, monkeypatch):
    """The lock file appears with the pid already in it (hard link of a written temp file)."""
    seen = []
    real_link = os.link

    def link(src, dst):
        with open(src, encoding="utf-8") as f:
            seen.append(f.read())
        return real_link(src, dst)

    monkeypatch.setattr(os, "link", link)
    with WorkdirLock(str(tmp_path)):
        pass
    assert seen == [str(os.getpid())]


def test_periodic_eval_keeps_best_checkpoint(smoke_cfg, tmp_path):
    smoke_cfg.eval.update(every=2, num_samples=16)
    _, summary = train_gan(smoke_cfg, str(tmp_path))
    evals = sorted(os.listdir(tmp_path / "evals"))
    assert evals == ["step_0000002.json", "step_0000004.json"]
    fids = {int(name[5:12]): json.loads((tmp_path / "evals" / name).read_text())["fid"] for name in evals}
    best_step = min(fids, key=fids.get)
    assert summary["best"]["step"] == best_step and summary["best"]["fid"] == pytest.approx(fids[best_step])
    assert tf.train.latest_checkpoint(str(tmp_path / "best")).endswith(f"ckpt-{best_step}")


def test_stale_lock_removal_puts_back_a_lock_taken_meanwhile(tmp_path):
    """Two processes judged the same dead owner's lock stale; the slower one must not delete the lock the faster one
    has taken since."""
    (tmp_path / ".lock").write_text(str(os.getppid()))  # the faster process' fresh lock (a live pid)
    WorkdirLock(str(tmp_path))._remove_stale(owner=2 ** 22 + 1)  # pylint: disable=protected-access
    assert (tmp_path / ".lock").read_text() == str(os.getppid()) and os.listdir(tmp_path) == [".lock"]
