"""Helpers for kill -9 tests: run the train CLI in a subprocess, kill it once a checkpoint exists, rerun."""

import glob
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import tensorflow as tf

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
EAGER_ENTRY = os.path.join(os.path.dirname(os.path.dirname(__file__)), "eager_train.py")


def train_command(workdir, *flags, eager=False):
    """The CLI invocation users run; `eager` runs the same CLI with every tf.function executed eagerly."""
    entry = [EAGER_ENTRY] if eager else ["-m", "tfgan_eff.train"]
    return [sys.executable, *entry, f"--workdir={workdir}", *flags]


def run_to_end(workdir, *flags, eager=False):
    """Runs the command to completion (raises with its stderr tail on failure); returns its log (stderr)."""
    out = subprocess.run(train_command(workdir, *flags, eager=eager), capture_output=True, text=True, env=ENV,
                         timeout=900, check=False)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return out.stderr


def kill_when(workdir, pattern, *flags, eager=False, timeout=600):
    """Starts the command and SIGKILLs it as soon as a file matching `pattern` (under workdir) exists."""
    # Killed mid-run, so no `with`.
    proc = subprocess.Popen(train_command(workdir, *flags, eager=eager), stdout=subprocess.DEVNULL,  # pylint: disable=consider-using-with
                            stderr=subprocess.DEVNULL, env=ENV)
    deadline = time.time() + timeout
    try:
        while not glob.glob(os.path.join(workdir, pattern)):
            if proc.poll() is not None:
                raise RuntimeError(f"run ended (rc {proc.returncode}) before {pattern} appeared")
            if time.time() > deadline:
                raise TimeoutError(pattern)
            time.sleep(0.01)  # tiny runs take few ms a step: poll often so the kill lands where the test wants it
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    return proc.returncode


def straight_and_resumed(tmp_path, kill_at, not_yet, *flags, eager=False):
    """Runs the command to the end in <tmp_path>/straight; in <tmp_path>/killed it is SIGKILLed as soon as
    `kill_at` exists (while `not_yet` must not exist yet) and then rerun to the end. Returns (straight, killed, the
    rerun's log)."""
    straight, killed = str(tmp_path / "straight"), str(tmp_path / "killed")
    run_to_end(straight, *flags, eager=eager)
    assert kill_when(killed, kill_at, *flags, eager=eager) == -9
    assert not glob.glob(os.path.join(killed, not_yet)), f"{not_yet} was written before the kill landed"
    return straight, killed, run_to_end(killed, *flags, eager=eager)


def resumed_step(log, checkpoint_dir):
    """The step a rerun resumed at from `checkpoint_dir`, read from its restore log line (None if it started over).

    Training is deterministic per step, so a rerun that ignored its checkpoint would still match an uninterrupted
    run bit for bit: only this line proves the restore.
    """
    found = re.search(rf"resuming at step (\d+) from {re.escape(checkpoint_dir)}/ckpt-(\d+)", log)
    assert found is None or found[1] == found[2], found
    return int(found[1]) if found else None


def checkpoint_values(checkpoint_dir, prefixes=None):
    """{variable key: value} of the latest checkpoint in a dir: every saved variable (model weights, masks, alphas,
    optimizer slots, step counters), or those under the named top-level objects.

    Keys name a variable by its shortest path, so a model's trainable weights usually appear under its optimizer
    (e.g. `g_optimizer/_trainable_variables/3`): filter by prefix only to look for a specific kind of variable.
    """
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(checkpoint_dir))
    keys = [k for k in reader.get_variable_to_shape_map() if k != "_CHECKPOINTABLE_OBJECT_GRAPH"
            and (prefixes is None or k.split("/")[0] in prefixes)]
    return {k: np.asarray(reader.get_tensor(k)) for k in keys}


def assert_same_checkpoints(dir_a, dir_b, min_variables=10):
    """Asserts the latest checkpoints of two dirs hold the same variables, bit for bit; returns their keys."""
    a, b = checkpoint_values(dir_a), checkpoint_values(dir_b)
    assert a.keys() == b.keys() and len(a) >= min_variables, (sorted(a), sorted(b))
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    return set(a)
