"""FID curves of finished runs: the EMA generator's FID at every kept checkpoint, cached in <run>/fid_curve.json.

`python -m benchmarks.curves [--threads=N] RUN_DIR...` computes them in a process of its own (the reproduction
runs it as a job after each training job); a point already in the cache is not computed again.
"""

import os
import re

from absl import app, flags

from tfgan_eff import cli
from tfgan_eff.files import read_json, write_json

CURVE_FILE = "fid_curve.json"
FLAGS = flags.FLAGS
flags.DEFINE_integer("threads", 0, "TensorFlow CPU threads (intra- and inter-op; 0 = TF's default).")


def checkpoint_steps(run_dir):
    """[(step, checkpoint prefix)] of every checkpoint kept in <run_dir>/checkpoints, by step."""
    import tensorflow as tf  # after the thread pools are set

    state = tf.train.get_checkpoint_state(os.path.join(run_dir, "checkpoints"))
    found = []
    for path in (list(state.all_model_checkpoint_paths) if state else []):
        match = re.search(r"ckpt-(\d+)$", path)
        if match:
            found.append((int(match.group(1)),
                          path if os.path.isabs(path) else os.path.join(run_dir, "checkpoints", path)))
    return sorted(found)


def read_curve(run_dir):
    """[(step, FID)] cached for `run_dir` so far ([] when none)."""
    path = os.path.join(run_dir, CURVE_FILE)
    return sorted((int(k), v) for k, v in read_json(path).items()) if os.path.isfile(path) else []


def complete(*run_dirs):
    """Whether the cached curves of finished runs reach their final steps (points are computed in step order)."""
    summaries = [os.path.join(run_dir, "summary.json") for run_dir in run_dirs]
    return all(os.path.isfile(path) and read_json(path).get("steps") in dict(read_curve(run_dir))
               for path, run_dir in zip(summaries, run_dirs))


def fid_curve(run_dir):
    """[(step, FID)] of the EMA generator at each kept checkpoint of a run, computing the points not cached yet
    (each written as soon as it is computed, so a killed job resumes)."""
    from tfgan_eff.inference import restore_generator
    from tfgan_eff.training.evaluator import evaluate_run
    from tfgan_eff.training.loop import load_data

    cached = dict(read_curve(run_dir))
    images = None
    for step, prefix in checkpoint_steps(run_dir):
        if step in cached:
            continue
        generator, cfg = restore_generator(prefix)
        if images is None:
            images, _ = load_data(cfg)
        cached[step] = evaluate_run(cfg, generator, images, os.path.join(run_dir, "curve_eval"),
                                    name=f"eval_{step:07d}.json")["fid"]
        write_json(os.path.join(run_dir, CURVE_FILE), {str(k): v for k, v in sorted(cached.items())})
    return sorted(cached.items())


def main(argv):
    with cli.user_errors():
        if len(argv) < 2:
            raise app.UsageError("pass the run dirs whose FID curves to compute")
        from tfgan_eff.training.strategy import set_threads

        set_threads(FLAGS.threads, FLAGS.threads)
        for run_dir in argv[1:]:
            print(f"[curves] {run_dir}: {fid_curve(run_dir)}")


if __name__ == "__main__":
    app.run(main)
