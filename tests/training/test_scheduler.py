"""tfgan_eff.training.scheduler with stand-in jobs (fake_job.py: a sleep that logs its start and end): dependency
order, N at a time, pinned cores and GPUs, failures, and resume after kill -9 of the scheduler with jobs in flight."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tfgan_eff.training import scheduler

HERE = os.path.dirname(os.path.abspath(__file__))


def fake(tmp_path, name, seconds=0.3, after=(), code=0):
    """A Job running fake_job.py, done when it leaves its done file."""
    done = tmp_path / f"{name}.done"
    command = [sys.executable, os.path.join(HERE, "fake_job.py"), str(tmp_path / "events.jsonl"), name, str(seconds),
               str(done), str(code)]
    return scheduler.Job(name, command, done.exists, tuple(after))


def events(tmp_path):
    path = tmp_path / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def spans(tmp_path):
    """{name: [(start, end or None), ...]} in the order the runs started."""
    out = {}
    for e in events(tmp_path):
        if e["event"] == "start":
            out.setdefault(e["name"], []).append([e["t"], None])
        else:
            out[e["name"]][-1][1] = e["t"]
    return out


def run(jobs, tmp_path, slots=2, report=lambda line: None, **kw):
    return scheduler.run_jobs(jobs, slots, log_dir=str(tmp_path / "logs"), report=report, **kw)


def test_jobs_run_after_their_dependencies_at_most_n_at_once_and_not_again(tmp_path):
    jobs = [fake(tmp_path, "d", after=("b", "c")), fake(tmp_path, "b", after=("a",)), fake(tmp_path, "c", after=("a",)),
            fake(tmp_path, "a"), fake(tmp_path, "e", 0.6)]
    status = run(jobs, tmp_path)
    assert status == {name: scheduler.RAN for name in "abcde"}
    seen = {name: times[0] for name, times in spans(tmp_path).items()}
    for job in jobs:
        for dep in job.after:
            assert seen[dep][1] <= seen[job.name][0], (dep, job.name)
    moments = sorted(t for start, end in seen.values() for t in (start, end))
    at_once = [sum(start <= t < end for start, end in seen.values()) for t in moments]
    assert max(at_once) == 2  # two slots, both used
    lines = []
    assert run(jobs, tmp_path, report=lines.append) == {name: scheduler.DONE_EARLIER for name in "abcde"}
    assert len(events(tmp_path)) == 10  # nothing ran again
    assert lines == ["[jobs] 5 job(s): 5 finished earlier, 0 to run, 2 at a time"]


def test_a_job_finished_meanwhile_by_another_process_is_not_started(tmp_path):
    b = fake(tmp_path, "b", after=("a",))
    # a's command also leaves b's done file, as another process finishing b while a runs would
    a = scheduler.Job("a", [sys.executable, "-c", f"open({str(tmp_path / 'a.done')!r}, 'w'); "
                                                  f"open({str(tmp_path / 'b.done')!r}, 'w')"],
                      (tmp_path / "a.done").exists)
    assert run([a, b], tmp_path) == {"a": scheduler.RAN, "b": scheduler.DONE_EARLIER}
    assert not events(tmp_path)  # b's command never started


def test_a_failed_job_stops_only_the_jobs_after_it(tmp_path):
    jobs = [fake(tmp_path, "a", code=3), fake(tmp_path, "b", after=("a",)), fake(tmp_path, "c", after=("b",)),
            fake(tmp_path, "x"), scheduler.Job("y", lambda: 1 / 0, lambda: False)]
    status = run(jobs, tmp_path)
    assert status["a"].startswith("failed: exit code 3") and "a.log" in status["a"]
    assert status["b"] == "not run: a failed" and status["c"] == "not run: b not run"
    assert status["x"] == scheduler.RAN
    assert status["y"].startswith("failed: cannot start: ZeroDivisionError")
    silent = scheduler.Job("z", [sys.executable, "-c", "pass"], lambda: False)  # exits 0 but leaves nothing
    assert run([silent], tmp_path)["z"].startswith("failed: exited 0 but did not finish")


def test_running_jobs_report_their_last_log_line_while_nothing_ends(tmp_path):
    lines = []
    status = scheduler.run_jobs([fake(tmp_path, "slow", seconds=2.0)], 1, log_dir=str(tmp_path / "logs"),
                                report=lines.append, progress_every=0.5)
    assert status == {"slow": scheduler.RAN}
    progress = [line for line in lines if "running for" in line]
    assert progress and all(line.endswith(": slow is working") for line in progress), lines
    quiet = []
    scheduler.run_jobs([fake(tmp_path, "quiet", seconds=1.0)], 1, log_dir=str(tmp_path / "logs"),
                       report=quiet.append, progress_every=0)
    assert not [line for line in quiet if "running for" in line], quiet


def test_last_line_cuts_the_log_prefix_and_long_lines(tmp_path):
    log = tmp_path / "job.log"
    assert scheduler.last_line(str(log)) == ""
    log.write_text("\n=== 2026-12-08T00:17:24: python -m tfgan_eff.train\n")
    assert scheduler.last_line(str(log)) == ""
    log.write_text("=== start\nI1208 00:18:01.267922 14036 callbacks.py:56] [##....] 650/4800  1.58 steps/s\n\n")
    assert scheduler.last_line(str(log)) == "[##....] 650/4800  1.58 steps/s"
    log.write_text("x" * 500)
    assert scheduler.last_line(str(log), width=20) == "x" * 17 + "..."


def test_bad_graphs_are_refused_before_anything_runs(tmp_path):
    a, b = fake(tmp_path, "a", after=("b",)), fake(tmp_path, "b", after=("a",))
    with pytest.raises(scheduler.JobGraphError, match="cycle: a -> b -> a"):
        run([a, b], tmp_path)
    with pytest.raises(scheduler.JobGraphError, match="unknown job"):
        run([fake(tmp_path, "c", after=("nope",))], tmp_path)
    with pytest.raises(scheduler.JobGraphError, match="two jobs"):
        run([fake(tmp_path, "c"), fake(tmp_path, "c")], tmp_path)
    assert not events(tmp_path)


def test_with_dependencies_follows_the_graph_through_every_level():
    after = {"a": (), "b": ("a",), "c": ("b",), "d": (), "e": ("c", "d")}
    assert scheduler.with_dependencies(after, ["c"]) == {"a", "b", "c"}
    assert scheduler.with_dependencies(after, ["e", "b"]) == set(after)
    assert scheduler.with_dependencies(after, []) == set()


def test_core_slots_split_the_cores():
    assert scheduler.core_slots(1, [0, 1]) == [(0, 1)]
    assert scheduler.core_slots(2, [0, 1, 2, 3]) == [(0, 1), (2, 3)]
    assert scheduler.core_slots(3, [0, 1, 2, 3]) == [(0,), (1, 2), (3,)]
    assert scheduler.core_slots(3, [4, 5]) == [(4,), (5,), (4,)]  # more slots than cores: shared


@pytest.mark.skipif(len(scheduler.available_cores()) < 2 or "taskset" not in " ".join(scheduler.launcher([0])),
                    reason="needs 2 cores and taskset")
def test_each_slot_runs_on_its_own_cores_and_gpu(tmp_path):
    cores = scheduler.available_cores()[:2]
    jobs = [fake(tmp_path, "a", 1.0), fake(tmp_path, "b", 1.0)]
    assert run(jobs, tmp_path, cores=cores, gpus=["3", "5"]) == {"a": scheduler.RAN, "b": scheduler.RAN}
    started = {e["name"]: e for e in events(tmp_path) if e["event"] == "start"}
    assert {(tuple(e["cores"]), e["gpu"]) for e in started.values()} == {((cores[0],), "3"), ((cores[1],), "5")}


def test_killed_with_jobs_in_flight_then_rerun_finishes_without_redoing(tmp_path):
    """kill -9 of the scheduler while b and c run: they die with it (no orphan keeps going), and a second scheduler
    runs b, c and d, but not a again."""
    command = [sys.executable, os.path.join(HERE, "scheduler_driver.py"), str(tmp_path), "3"]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # pylint: disable=consider-using-with  # killed below
    deadline = time.time() + 60
    while {"b", "c"} - {e["name"] for e in events(tmp_path) if e["event"] == "start"}:
        assert time.time() < deadline and first.poll() is None, "b and c never started"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    time.sleep(3.5)  # longer than b and c take: an orphan would have ended by now
    if "setpriv" in scheduler.launcher([]):
        assert [e["name"] for e in events(tmp_path) if e["event"] == "end"] == ["a"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout
    assert json.loads(out.splitlines()[-1]) == {"a": scheduler.DONE_EARLIER, "b": scheduler.RAN, "c": scheduler.RAN,
                               "d": scheduler.RAN}
    runs = spans(tmp_path)
    assert {name: len(times) for name, times in runs.items()} == {"a": 1, "b": 2, "c": 2, "d": 1}
    assert runs["d"][0][0] >= max(runs["b"][-1][1], runs["c"][-1][1])
