"""Runs a small job graph with tfgan_eff.training.scheduler in a process of its own (the kill -9 test kills it
mid-flight and runs it again): a, then b and c at once (each `seconds` long), then d. Prints the statuses as JSON.

Usage: python scheduler_driver.py DIR SECONDS
"""

import json
import os
import sys

from tfgan_eff.training import scheduler

GRAPH = {"a": ((), 0.1), "b": (("a",), None), "c": (("a",), None), "d": (("b", "c"), 0.1)}


def fake(directory, name, seconds, after):
    """A Job running fake_job.py, done when its done file exists."""
    done = os.path.join(directory, f"{name}.done")
    command = [sys.executable, os.path.join(os.path.dirname(__file__), "fake_job.py"),
               os.path.join(directory, "events.jsonl"), name, str(seconds), done]
    return scheduler.Job(name, command, lambda: os.path.exists(done), after)


def main(directory, seconds):
    jobs = [fake(directory, name, slow or seconds, after) for name, (after, slow) in GRAPH.items()]
    print(json.dumps(scheduler.run_jobs(jobs, 2, log_dir=os.path.join(directory, "logs"))))


if __name__ == "__main__":
    main(*sys.argv[1:])
