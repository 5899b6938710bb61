"""A run's training time summed over every process that trained it: a run killed and resumed reports the time up to
the checkpoint it resumed from plus the time of the process that finished it, so that a resumed run's cost reads the
same as an uninterrupted one's (its lost steps after the last checkpoint are redone and counted once)."""

import os
import time

from tfgan_eff.files import read_json, write_json

CLOCK_FILE = "train_time.json"  # in the run dir: {checkpoint step: {"wall_s", "cpu_s"}} at each save


class TrainClock:
    """Wall and process CPU seconds of a run's training, carried across resumes through CLOCK_FILE.

    `from_step` is the step the totals count from: 0, or the step of a checkpoint that the clock file has no entry
    for (a run started by a version without the clock), whose earlier time is unknown.
    """

    def __init__(self, workdir, start_step, started=None):
        """`start_step`: the step of the run's own checkpoint this process resumed from (0: none); `started`: the
        (time.time(), time.process_time()) this process started the run at (default: now)."""
        self.path = os.path.join(workdir, CLOCK_FILE)
        self.saved = {int(k): v for k, v in read_json(self.path).items()} if os.path.isfile(self.path) else {}
        known = self.saved.get(start_step) if start_step else None
        self.from_step = start_step if start_step and known is None else 0
        self.base = known or {"wall_s": 0.0, "cpu_s": 0.0}
        self.wall0, self.cpu0 = started or (time.time(), time.process_time())

    def elapsed(self):
        """{'wall_s', 'cpu_s'}: the run's training time so far (process CPU time: every thread of this process)."""
        return {"wall_s": round(self.base["wall_s"] + time.time() - self.wall0, 2),
                "cpu_s": round(self.base["cpu_s"] + time.process_time() - self.cpu0, 2)}

    def mark(self, step):
        """Records the time at checkpoint `step` (call it once the checkpoint is saved)."""
        self.saved[int(step)] = self.elapsed()
        write_json(self.path, {str(k): v for k, v in sorted(self.saved.items())})

    def summary(self):
        """The summary fields: wall_time_s, cpu_time_s and time_from_step."""
        now = self.elapsed()
        return dict(wall_time_s=now["wall_s"], cpu_time_s=now["cpu_s"], time_from_step=self.from_step)
