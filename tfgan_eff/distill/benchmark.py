"""Step-time benchmark: a DGL stage-2 step (with the frozen D_T) against a stage-1 step (plain GAN step).

    python -m tfgan_eff.distill.benchmark [--method=dgl] [--steps=20] [--repeats=4]

Builds the student of the method's default config twice (plain GANTrainer and DGLTrainer with a full-width frozen
D_T, random weights: timing does not depend on them), traces both, then alternates chunks of `steps` fit steps so
both see the same machine load, and reports median wall and process-CPU time per step and their ratios.
"""

import functools
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags

from tfgan_eff.config import presets
from tfgan_eff.data import pipeline
from tfgan_eff.distill.teacher import freeze
from tfgan_eff.distill.trainer import DGLTrainer
from tfgan_eff.models import registry
from tfgan_eff.training.loop import Run, batch_spec, load_data


class _StepTimer(keras.callbacks.Callback):
    """Wall and process-CPU seconds of every fit step."""

    def __init__(self):
        super().__init__()
        self.wall, self.cpu = [], []

    def on_train_batch_begin(self, batch, logs=None):
        self._wall0, self._cpu0 = time.perf_counter(), time.process_time()

    def on_train_batch_end(self, batch, logs=None):
        self.wall.append(time.perf_counter() - self._wall0)
        self.cpu.append(time.process_time() - self._cpu0)


def _student_run(cfg, trainer_factory):
    cfg = cfg.copy_and_resolve_references()
    cfg.model.g.width *= cfg.dgl.student_g_width
    cfg.model.d.width *= cfg.dgl.student_d_width
    images, labels = load_data(cfg)
    run = Run(cfg, tempfile.mkdtemp(prefix="dgl_bench_"), tf.distribute.get_strategy(), trainer_factory)
    run.trainer.compile()
    return run, pipeline.make_dataset(images, labels, batch_spec(cfg))


def step_times(cfg, steps=20, repeats=4, warmup=5):
    """Median per-step {wall, cpu} seconds of stage 1 and stage 2 for `cfg`, and stage2 / stage1 ratios."""
    teacher = freeze(registry.build_discriminator(cfg))
    stage2 = functools.partial(DGLTrainer, teacher=teacher, weight=cfg.dgl.lambda_teacher, switch_step=0)
    runs = {"stage1": _student_run(cfg, None), "stage2": _student_run(cfg, stage2)}
    timers = {name: _StepTimer() for name in runs}
    for run, dataset in runs.values():  # tracing and warm-up, not timed
        run.trainer.fit(dataset, epochs=1, steps_per_epoch=warmup, verbose=0)
    for _ in range(repeats):
        for name, (run, dataset) in runs.items():
            run.trainer.fit(dataset, epochs=1, steps_per_epoch=steps, callbacks=[timers[name]], verbose=0)
    result = {name: dict(wall=float(np.median(t.wall)), cpu=float(np.median(t.cpu))) for name, t in timers.items()}
    result["ratio"] = {k: result["stage2"][k] / result["stage1"][k] for k in ("wall", "cpu")}
    return result


_METHOD = flags.DEFINE_string("method", "dgl", "Preset whose student is timed.")
_STEPS = flags.DEFINE_integer("steps", 20, "Timed steps per chunk.")
_REPEATS = flags.DEFINE_integer("repeats", 4, "Alternating chunks per stage.")


def main(argv):
    del argv
    result = step_times(presets.get(_METHOD.value), _STEPS.value, _REPEATS.value)
    for name in ("stage1", "stage2"):
        print(f"{name}: {result[name]['wall'] * 1e3:.1f} ms wall, {result[name]['cpu'] * 1e3:.1f} ms CPU per step")
    print(f"stage2 / stage1: {result['ratio']['wall']:.3f} wall, {result['ratio']['cpu']:.3f} CPU")


if __name__ == "__main__":
    app.run(main)
