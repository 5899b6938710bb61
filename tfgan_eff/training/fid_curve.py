"""FID curves (eval.curve): after a run has trained, the FID of its sampling generator (the EMA copy where there is
one) at every checkpoint it kept, in <run>/fid_curve.json. Computed after training, not in its loop, so that the
run's training wall time stays the training's; each point is written as soon as it is computed, so a killed run
resumes its curve where it stopped.
"""

import os

from tfgan_eff.files import read_json, write_json
from tfgan_eff.training import evaluator
from tfgan_eff.training.checkpoint import checkpoint_step, checkpoints_in, restore_sampling_generator

CURVE_FILE = "fid_curve.json"


def read_curve(run_dir):
    """[(step, FID)] computed for the run in `run_dir` so far ([] when none)."""
    path = os.path.join(run_dir, CURVE_FILE)
    return sorted((int(k), v) for k, v in read_json(path).items()) if os.path.isfile(path) else []


def fid_curve(cfg, run_dir, images):
    """[(step, FID)] of the run of `cfg` in `run_dir` at each checkpoint in <run_dir>/checkpoints, computing the
    points not in its fid_curve.json yet (evaluation files in <run_dir>/curve_eval/)."""
    cached = dict(read_curve(run_dir))
    for prefix in reversed(checkpoints_in(os.path.join(run_dir, "checkpoints"))):
        step = checkpoint_step(prefix)
        if step in cached:
            continue
        generator, _ = restore_sampling_generator(cfg, prefix)
        metrics = evaluator.evaluate_run(cfg, generator, images, os.path.join(run_dir, "curve_eval"),
                                         name=f"eval_{step:07d}.json", source=dict(step=step, checkpoint=prefix))
        cached[step] = metrics["fid"]
        write_json(os.path.join(run_dir, CURVE_FILE), {str(k): v for k, v in sorted(cached.items())})
    return sorted(cached.items())
