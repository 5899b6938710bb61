"""Helpers for kill -9 tests: run the train CLI in a subprocess, kill it once a checkpoint exists, rerun."""

import glob
import os
import signal
import subprocess
import sys
import time

import numpy as np
import tensorflow as tf

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")


def train_command(workdir, *flags):
    """The CLI invocation users run."""
    return [sys.executable, "-m", "tfgan_eff.train", f"--workdir={workdir}", *flags]


def run_to_end(workdir, *flags):
    """Runs the command to completion (raises with its stderr tail on failure)."""
    out = subprocess.run(train_command(workdir, *flags), capture_output=True, text=True, env=ENV, timeout=900)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])


def kill_when(workdir, pattern, *flags, timeout=600):
    """Starts the command and SIGKILLs it as soon as a file matching `pattern` (under workdir) exists."""
    proc = subprocess.Popen(train_command(workdir, *flags), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=ENV)
    deadline = time.time() + timeout
    try:
        while not glob.glob(os.path.join(workdir, pattern)):
            if proc.poll() is not None:
                raise RuntimeError(f"run ended (rc {proc.returncode}) before {pattern} appeared")
            if time.time() > deadline:
                raise TimeoutError(pattern)
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    return proc.returncode


def checkpoint_values(checkpoint_dir, prefixes=("generator", "discriminator", "ema_generator")):
    """{variable key: value} of the latest checkpoint in a dir, for the named top-level objects."""
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(checkpoint_dir))
    keys = [k for k in reader.get_variable_to_shape_map() if k.split("/")[0] in prefixes]
    return {k: np.asarray(reader.get_tensor(k)) for k in keys}
