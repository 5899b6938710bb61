"""TrainClock: a run's training time summed over the processes that trained it, from its checkpoints' records."""

import itertools

import pytest

from tfgan_eff.training import train_clock
from tfgan_eff.training.train_clock import TrainClock


@pytest.fixture
def ticking(monkeypatch):
    """Wall clock +10 s and CPU clock +4 s at every reading."""
    wall, cpu = itertools.count(0.0, 10.0), itertools.count(0.0, 4.0)
    monkeypatch.setattr(train_clock.time, "time", lambda: next(wall))
    monkeypatch.setattr(train_clock.time, "process_time", lambda: next(cpu))


@pytest.mark.usefixtures("ticking")
def test_a_resumed_run_counts_the_time_up_to_its_checkpoint_plus_its_own(tmp_path):
    first = TrainClock(str(tmp_path), 0)  # reads wall 0, cpu 0
    first.mark(100)  # 10 s, 4 s
    first.mark(200)  # 20 s, 8 s; the process is killed after this checkpoint
    assert first.from_step == 0
    resumed = TrainClock(str(tmp_path), 100)  # resumes from step 100's checkpoint (200's was unreadable)
    assert resumed.summary() == dict(wall_time_s=10.0 + 40.0 - 30.0, cpu_time_s=4.0 + 16.0 - 12.0, time_from_step=0)


@pytest.mark.usefixtures("ticking")
def test_a_checkpoint_without_a_record_counts_from_its_step(tmp_path):
    TrainClock(str(tmp_path), 0).mark(100)
    clock = TrainClock(str(tmp_path), 300)  # a checkpoint older code wrote: its earlier time is unknown
    assert clock.from_step == 300 and clock.summary()["wall_time_s"] == 10.0
    assert TrainClock(str(tmp_path / "fresh"), 0).from_step == 0


@pytest.mark.usefixtures("ticking")
def test_a_run_started_from_another_runs_checkpoint_starts_at_zero(tmp_path):
    clock = TrainClock(str(tmp_path), 0, started=(-5.0, -1.0))  # e.g. stage 2 initialised from stage 1
    assert clock.summary() == dict(wall_time_s=5.0, cpu_time_s=1.0, time_from_step=0)
