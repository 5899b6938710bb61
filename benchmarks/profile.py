"""Where the training step's time goes (op time by kind, TF profiler), and what building models by their first call
saves against Keras' symbolic pre-build (both builds timed interleaved, A, B, A, B, ..., so that load changes on a
shared machine hit both alike; rows carry wall-clock and process CPU time medians and the relative change)."""

import collections
import glob
import os
import re

import tensorflow as tf

from benchmarks import configs, settings
from benchmarks.cases import derived_genotype, fixed_batch, saved_genotype, scratch_dir, train_function_step
from benchmarks.timing import time_interleaved
from tfgan_eff.models import registry
from tfgan_eff.ops.eager_build import keras_traced_build
from tfgan_eff.search.supernet import SupernetGenerator
from tfgan_eff.training.loop import Run

NOISE = 0.05  # relative changes smaller than this are reported as no measurable difference


def verdict(change, cpu_change):
    """What relative changes of wall and CPU time (lower is better) mean: a clear verdict only when both agree
    beyond the noise level."""
    if change <= -NOISE and cpu_change <= -NOISE:
        return f"{-change:.0%} faster"
    if change >= NOISE and cpu_change >= NOISE:
        return f"{change:.0%} slower"
    return "no clear difference"


def train_step(cfg):
    """A blocking compiled train step of a fresh Run of `cfg` on a fixed batch, traced."""
    run = Run(cfg, scratch_dir(), tf.distribute.get_strategy())
    step = train_function_step(run.trainer, fixed_batch(cfg), False)
    step()
    return step


# ------------------------------------------------------------------------------------------ op breakdown
def op_category(op_name, op_type):
    """The kind of work a TF op does, from its name in the traced step ('.../batch_normalization/...:Mul')."""
    if "Conv" in op_type or "MatMul" in op_type:
        return f"{op_type.replace('_MklNative', '').replace('_Mkl', '')} (conv/matmul)"
    for needle, category in (("batch_normalization", "batch norm (non-conv)"), ("spectral_norm", "spectral norm"),
                             ("adam", "optimizer (Adam)"), ("ema", "EMA update")):
        if needle in op_name.lower():
            return category
    return "other element-wise / bookkeeping"


def op_type(op_name, op_type_name):
    """A TF op's type without oneDNN's prefixes, marked '(gradient)' when it computes a gradient (its name is under
    the gradient tape's scope, or a custom gradient's '..._gradient' scope): finer than `op_category`, for where one
    model's step spends its time."""
    kind = op_type_name.replace("_MklNative", "").replace("_Mkl", "")
    return f"{kind} (gradient)" if re.search(r"gradient_tape/|_gradient(_\d+)?/", op_name) else kind


def op_breakdown(name, cfg, quick, steps=3, category=op_category):
    """Share of op time per kind of op (`category(op name, op type)`) over `steps` profiled train steps (TF profiler
    XPlane, host CPU)."""
    # TF's own trace format; imported here so a TF without it only loses this experiment.
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    step = train_step(cfg)
    step()
    logdir = scratch_dir("trace_")
    tf.profiler.experimental.start(logdir)
    for _ in range(1 if quick else steps):
        step()
    tf.profiler.experimental.stop()
    space = xplane_pb2.XSpace()
    with open(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True)[0], "rb") as f:
        space.ParseFromString(f.read())
    totals = collections.Counter()
    for plane in space.planes:
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue
            for event in line.events:
                full = plane.event_metadata[event.metadata_id].name
                if "::" in full or ":" not in full:  # executor bookkeeping, not an op
                    continue
                totals[category(*full.rsplit(":", 1))] += event.duration_ps
    total = sum(totals.values())
    shares = {k: v / total for k, v in totals.most_common()}
    top = ", ".join(f"{k} {v:.0%}" for k, v in list(shares.items())[:6])
    return dict(task="profile", experiment=f"{name}: op time by kind", status="ok", breakdown=shares,
                finding=f"share of TF op time in the traced train step (both compute threads): {top}.")


# ------------------------------------------------------------------------------------------------ model build
BUILD_FINDING = ("Keras 3 builds a layer without a build() by tracing its call in a scratch graph (again for every "
                 "nested composite layer), then runs the real call; BuildOnFirstCall (tfgan_eff/ops/eager_build.py, "
                 "applied) lets the first eager call build the sub-layers: same weights, paths and initial values.")


def build_experiment(name, build, quick, finding=BUILD_FINDING):
    """Building a model with Keras' symbolic pre-trace (before) vs by its first eager call (now)."""
    def traced():
        with keras_traced_build():
            build()
    stats = time_interleaved([traced, build], warmup=1, repeats=settings.timing_settings(quick)[1])
    before, after = (s["median_s"] * 1e3 for s in stats)
    cpu_before, cpu_after = (s["median_cpu_s"] * 1e3 for s in stats)
    change, cpu_change = (after - before) / before, (cpu_after - cpu_before) / cpu_before
    return dict(task="profile_build", experiment=f"{name}: model build", status="ok", before=before, after=after,
                unit="ms", cpu_before=cpu_before, cpu_after=cpu_after, change=change, cpu_change=cpu_change,
                verdict=verdict(change, cpu_change), baseline_label="Keras traced build",
                variant_label="first-call build (now)", finding=finding)


def build_experiments(quick):
    """Model construction before/after BuildOnFirstCall: the alphaGAN supernet, SNGAN G and D."""
    search = configs.search(quick)
    sngan = configs.sngan(quick)

    def supernet():
        SupernetGenerator(search.model.latent_dim, search.data.resolution, search.data.channels,
                          ch=search.search.ch).build_for_inputs()
    return [build_experiment("alphaGAN supernet (search preset)", supernet, quick),
            build_experiment("SNGAN G", lambda: registry.build_generator(sngan), quick, finding=""),
            build_experiment("SNGAN D", lambda: registry.build_discriminator(sngan), quick, finding="")]


def run_all(quick):
    """Op time by kind of op in the DCGAN and SNGAN steps, and by op type (gradients apart) in the alphaGAN derived
    net's step at the search sizes (the benchmark's `search_derived` case); each failing one becomes an 'error' row."""
    experiments = (("DCGAN op breakdown", "DCGAN", lambda: configs.preset("baseline", quick), op_category),
                   ("SNGAN op breakdown", "SNGAN", lambda: configs.sngan(quick), op_category),
                   ("alphaGAN derived net op breakdown", "alphaGAN derived net (search sizes)",
                    lambda: configs.derived(quick, saved_genotype(derived_genotype(quick))), op_type))
    rows = []
    for experiment, name, config, category in experiments:
        try:
            rows.append(op_breakdown(name, config(), quick, category=category))
        except Exception as err:  # pylint: disable=broad-exception-caught
            # One failing experiment must not hide the others; the row carries the reason.
            rows.append(dict(task="profile", experiment=experiment, status="error",
                             reason=f"{type(err).__name__}: {err}".splitlines()[0]))
    return rows
