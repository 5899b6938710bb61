"""A stand-in job for the scheduler tests: notes its start (time, pid, CPU cores, CUDA_VISIBLE_DEVICES) in a shared
log, prints a line (what a run's log would show), sleeps, notes its end and leaves its done file (or exits with the
given code instead).

Usage: python fake_job.py LOG NAME SECONDS DONE_FILE [EXIT_CODE]
"""

import json
import os
import sys
import time


def note(log, event, name):
    """Appends one JSON line (a single short write to an O_APPEND file: lines of concurrent jobs do not mix)."""
    line = json.dumps(dict(t=time.time(), event=event, name=name, pid=os.getpid(),
                           cores=sorted(os.sched_getaffinity(0)), gpu=os.environ.get("CUDA_VISIBLE_DEVICES")))
    with open(log, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def main(log, name, seconds, done, code="0"):
    note(log, "start", name)
    print(f"I1208 00:18:01.267922 140360143649664 callbacks.py:56] {name} is working", flush=True)
    time.sleep(float(seconds))
    if int(code):
        sys.exit(int(code))
    note(log, "end", name)
    with open(done, "w", encoding="utf-8"):
        pass


if __name__ == "__main__":
    main(*sys.argv[1:])
