"""Runs a graph of commands N at a time, each in its own process pinned to its share of the CPU cores.

A `Job` is a command, what it waits for (`after`) and how to tell that it has finished (`done`, read from the
files it leaves, e.g. its work dir's summary.json). `run_jobs` starts every job whose dependencies have finished
as soon as a slot is free, and never starts a job that is done already: a scheduler killed (even with kill -9) and
started again finishes the unfinished jobs and nothing else. Slot i runs its jobs on its own cores (taskset) and,
on a machine with several GPUs, on its own GPU (CUDA_VISIBLE_DEVICES); each child is killed with its scheduler
(the kernel's parent-death signal, setpriv), so no orphan keeps a work dir locked.
"""

import concurrent.futures
import dataclasses
import datetime
import functools
import os
import re
import shutil
import subprocess
import time
from typing import Callable, Sequence, Union


class JobGraphError(ValueError):
    """The jobs' dependencies name an unknown job, repeat a name or form a cycle."""


@dataclasses.dataclass(frozen=True, eq=False)
class Job:
    """One command of the graph.

    Attributes:
      name: unique; also its log file's name.
      command: argv, or fn() -> argv, called right before the job starts (after its dependencies finished), e.g.
        to prepare files or to size a run from an earlier job's result.
      done: fn() -> whether the job has finished (from its files; checked before starting it and after it exits).
      after: names of the jobs that must finish first.
    """
    name: str
    command: Union[Sequence[str], Callable[[], Sequence[str]]]
    done: Callable[[], bool]
    after: tuple = ()


# Seconds between two reports of what the running jobs' logs say last (run_jobs' progress_every).
PROGRESS_EVERY = 600
# absl's line prefix ("I1208 00:18:01.267922 140360143649664 callbacks.py:56] "), cut from progress reports.
_LOG_PREFIX = re.compile(r"^[DIWEF]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] ")

# Statuses in run_jobs' result.
DONE_EARLIER, RAN = "finished earlier", "ran"
FINISHED = (DONE_EARLIER, RAN)


def with_dependencies(after, names):
    """`names` and every name they wait for, directly or through others, in a graph {name: names it runs after}."""
    found, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo += after[name]
    return found


def order(jobs):
    """The jobs in an order where each comes after its dependencies; JobGraphError on bad names or a cycle."""
    by_name = {}
    for job in jobs:
        if job.name in by_name:
            raise JobGraphError(f"two jobs are called {job.name!r}")
        by_name[job.name] = job
    for job in jobs:
        unknown = [a for a in job.after if a not in by_name]
        if unknown:
            raise JobGraphError(f"job {job.name!r} runs after unknown job(s) {unknown}")
    ordered, state = [], {}

    def visit(job, path):
        if state.get(job.name) == "done":
            return
        if state.get(job.name) == "visiting":
            raise JobGraphError(f"the jobs' dependencies form a cycle: {' -> '.join(path + [job.name])}")
        state[job.name] = "visiting"
        for name in job.after:
            visit(by_name[name], path + [job.name])
        state[job.name] = "done"
        ordered.append(job)

    for job in jobs:
        visit(job, [])
    return ordered


def core_slots(slots, cores=None):
    """The CPU cores of each of `slots` slots: the available cores split into near-equal contiguous shares (with more
    slots than cores, slots share cores round-robin)."""
    cores = sorted(cores if cores is not None else available_cores())
    if slots <= len(cores):
        bounds = [round(i * len(cores) / slots) for i in range(slots + 1)]
        return [tuple(cores[bounds[i]:bounds[i + 1]]) for i in range(slots)]
    return [(cores[i % len(cores)],) for i in range(slots)]


def available_cores():
    """The cores this process may run on."""
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count()))


def gpu_ids():
    """The GPUs the jobs may use: CUDA_VISIBLE_DEVICES when set, else the ones `nvidia-smi -L` lists (none without
    it), without starting TensorFlow in this process."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [g for g in visible.split(",") if g.strip()]
    if not shutil.which("nvidia-smi"):
        return []
    out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=60, check=False).stdout
    return [str(i) for i, line in enumerate(line for line in out.splitlines() if line.startswith("GPU "))]


@functools.lru_cache(maxsize=None)
def _works(*argv):
    try:
        return subprocess.run(argv, capture_output=True, timeout=30, check=False).returncode == 0
    except OSError:
        return False


def launcher(cores):
    """The argv prefix that runs a command on `cores` and kills it when its parent dies (as much of that as this
    machine's tools allow: setpriv and taskset of util-linux on Linux)."""
    prefix = []
    if shutil.which("setpriv") and _works("setpriv", "--pdeathsig", "KILL", "true"):
        prefix += ["setpriv", "--pdeathsig", "KILL"]
    if cores and shutil.which("taskset") and _works("taskset", "-c", "0", "true"):
        prefix += ["taskset", "-c", ",".join(str(c) for c in cores)]
    return prefix


def _log_path(log_dir, name):
    return os.path.join(log_dir, name.replace(os.sep, "__") + ".log")


def _execute(argv, log_path, env):
    """Runs argv with its output appended to log_path; returns the exit code."""
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"\n=== {datetime.datetime.now().isoformat(timespec='seconds')}: {' '.join(argv)}\n")
        log.flush()
        return subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, env=env, check=False).returncode


def last_line(log_path, width=160):
    """The last line of a job's log (absl's prefix cut, at most `width` characters; '' when there is none yet)."""
    try:
        with open(log_path, "rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - 8192))
            lines = [line.strip() for line in log.read().decode("utf-8", "replace").splitlines()]
    except OSError:
        return ""
    lines = [_LOG_PREFIX.sub("", line) for line in lines if line and not line.startswith("=== ")]
    if not lines:
        return ""
    return lines[-1] if len(lines[-1]) <= width else lines[-1][:width - 3] + "..."


def run_jobs(jobs, slots=1, *, log_dir, cores=None, gpus=(), env=None, report=print, progress_every=PROGRESS_EVERY):
    """Runs `jobs` (a list of Job) `slots` at a time in dependency order; returns {name: status}.

    A job that is done when its turn comes is not run (status DONE_EARLIER); one whose command fails or does not
    leave it done is 'failed: ...', and the jobs after it are 'not run: ...'; the others run on. Slot i runs on
    core_slots(slots, cores)[i] and, with several `gpus`, on gpus[i % len(gpus)]. Each job's output goes to
    <log_dir>/<name>.log (appended); every `progress_every` seconds without a job ending (0: never), each running
    job's last log line is reported (a training run's progress bar).
    """
    ordered = order(jobs)
    shares = core_slots(slots, cores)
    status = {job.name: DONE_EARLIER for job in ordered if job.done()}
    pending = [job for job in ordered if job.name not in status]
    report(f"[jobs] {len(ordered)} job(s): {len(status)} finished earlier, {len(pending)} to run, {slots} at a time")
    free = list(range(slots))
    running = {}

    def start(job, slot):
        try:
            argv = list(job.command() if callable(job.command) else job.command)
        except Exception as err:  # pylint: disable=broad-exception-caught  # a job that cannot start fails alone
            status[job.name] = f"failed: cannot start: {type(err).__name__}: {err}"
            report(f"[jobs] {job.name}: {status[job.name]}")
            return False
        child_env = dict(env if env is not None else os.environ)
        if len(gpus) > 1:
            child_env["CUDA_VISIBLE_DEVICES"] = str(gpus[slot % len(gpus)])
        report(f"[jobs] {job.name}: started on cores {','.join(map(str, shares[slot]))}")
        future = pool.submit(_execute, launcher(shares[slot]) + argv, _log_path(log_dir, job.name), child_env)
        running[future] = (job, slot, time.time())
        return True

    with concurrent.futures.ThreadPoolExecutor(max_workers=slots) as pool:
        while pending or running:
            for job in list(pending):
                blocked = [a for a in job.after if a in status and status[a] not in FINISHED]
                if blocked:
                    pending.remove(job)
                    status[job.name] = f"not run: {blocked[0]} {status[blocked[0]].split(':')[0]}"
                elif free and all(status.get(a) in FINISHED for a in job.after):
                    pending.remove(job)
                    if job.done():  # finished meanwhile by another process (e.g. a second command on the graph)
                        status[job.name] = DONE_EARLIER
                        continue
                    slot = free.pop(0)
                    if not start(job, slot):
                        free.insert(0, slot)
            if not running:
                continue  # failures just propagated; the loop ends when nothing is pending
            finished, _ = concurrent.futures.wait(running, timeout=progress_every or None,
                                                  return_when=concurrent.futures.FIRST_COMPLETED)
            if not finished:
                for job, _, t0 in running.values():
                    report(f"[jobs] {job.name}: running for {time.time() - t0:.0f} s: "
                           f"{last_line(_log_path(log_dir, job.name))}")
            for future in finished:
                job, slot, t0 = running.pop(future)
                free.append(slot)
                code = future.result()
                log = _log_path(log_dir, job.name)
                if code != 0:
                    status[job.name] = f"failed: exit code {code} (log {log})"
                elif not job.done():
                    status[job.name] = f"failed: exited 0 but did not finish (log {log})"
                else:
                    status[job.name] = RAN
                report(f"[jobs] {job.name}: {status[job.name]} after {time.time() - t0:.0f} s")
    return status
