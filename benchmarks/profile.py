"""Where the baseline training step's time goes, and what the candidate fixes buy.

Each experiment builds the code as it is (`before`) and a variant (`after`, made by a monkeypatch or a local copy:
this tool may not edit the library) on fresh models, warms both up, then times them interleaved (A, B, A, B, ...)
so that load changes on a shared machine hit both alike. Rows carry wall-clock medians and process CPU time per
step, the relative change and a verdict; the lead applies the changes that pay off.
"""

import collections
import contextlib
import glob
import os
import re
import types

import keras
import tensorflow as tf

from benchmarks import configs, settings
from benchmarks.cases import derived_genotype, fixed_batch, saved_genotype, scratch_dir, train_function_step
from benchmarks.timing import time_calls, time_interleaved
from tfgan_eff.data import pipeline
from tfgan_eff.models import registry
from tfgan_eff.ops import layers
from tfgan_eff.ops.eager_build import keras_traced_build
from tfgan_eff.search import method as search_method
from tfgan_eff.search.supernet import SupernetGenerator
from tfgan_eff.training.loop import Run, batch_spec, load_data

NOISE = 0.05  # relative changes smaller than this are reported as no measurable difference


def verdict(change, cpu_change):
    """What relative changes of wall and CPU time per step (lower is better) mean for a proposal: a clear verdict
    only when both agree beyond the noise level."""
    if change <= -NOISE and cpu_change <= -NOISE:
        return f"{-change:.0%} faster: worth applying"
    if change >= NOISE and cpu_change >= NOISE:
        return f"{change:.0%} slower: do not apply"
    return "no clear difference"


def _row(experiment, stats, unit, finding, labels=("before", "after"), proposal=True, **extra):
    """A profiling row from two statistics dicts of `time_interleaved` (medians in ms); `proposal=False` for a
    plain measurement (two different things side by side)."""
    before, after = (s["median_s"] * 1e3 for s in stats)
    cpu_before, cpu_after = (s["median_cpu_s"] * 1e3 for s in stats)
    change, cpu_change = (after - before) / before, (cpu_after - cpu_before) / cpu_before
    return dict(task="profile", experiment=experiment, status="ok", before=before, after=after, unit=unit,
                cpu_before=cpu_before, cpu_after=cpu_after, change=change, cpu_change=cpu_change,
                verdict=verdict(change, cpu_change) if proposal else "(measurement)", baseline_label=labels[0],
                variant_label=labels[1], finding=finding, **extra)


def _per(stats, n):
    """Statistics of n units of work -> per unit (medians divided by n)."""
    return dict(stats, median_s=stats["median_s"] / n, median_cpu_s=stats["median_cpu_s"] / n)


def _repeats(quick):
    return settings.timing_settings(quick)[1]


def train_step(cfg, patch=None):
    """A blocking compiled train step of a fresh Run of `cfg` on a fixed batch; `patch(trainer)` is applied
    before tracing."""
    run = Run(cfg, scratch_dir(), tf.distribute.get_strategy())
    if patch is not None:
        patch(run.trainer)
    step = train_function_step(run.trainer, fixed_batch(cfg), False)
    step()  # trace now, inside whatever context the caller set up
    return step


def compare_steps(make_before, make_after, quick):
    """Interleaved timings of two step functions (each already traced by its maker)."""
    return time_interleaved([make_before(), make_after()], warmup=1, repeats=_repeats(quick))


# ------------------------------------------------------------------------------------------- input pipeline
def single_replica_dataset(images, labels, spec, start_step=0):
    """The proposed single-device pipeline: one map over the step counter (no per-step flat_map dataset)."""
    images, labels = tf.constant(images), tf.constant(labels)
    ds = tf.data.Dataset.counter(start_step).map(lambda step: pipeline.step_batch(images, labels, spec, step, 0, 1))
    return pipeline.prefetched(ds)


def _consumer(dataset, n):
    """fn() that pulls `n` elements of `dataset` to host numpy (the pipeline's own production rate)."""
    it = iter(dataset)

    def pull():
        for _ in range(n):
            tf.nest.map_structure(lambda t: t.numpy(), next(it))
    return pull


def _fitter(cfg, dataset_fn, steps, traces):
    """fn() that runs `trainer.fit` for `steps` steps on a fresh `dataset_fn()` (traced once here); counts
    traces of train_step in `traces`."""
    run = Run(cfg, scratch_dir(), tf.distribute.get_strategy())
    original = run.trainer.train_step
    run.trainer.train_step = lambda data: (traces.append(1), original(data))[1]  # Python runs only when tracing
    run.trainer.compile()

    def fit(n=steps):
        run.trainer.fit(dataset_fn(), epochs=1, steps_per_epoch=n, verbose=0)
    fit(2)
    return fit


def pipeline_experiments(cfg, quick):
    """flat_map vs map pipeline; the pipeline against the step; fit on the real pipeline vs a fixed batch."""
    images, labels = load_data(cfg)
    spec = batch_spec(cfg)
    n = 10 if quick else 50
    steps = 5 if quick else 30
    repeats = _repeats(quick)
    flat, mapped = (_per(x, n) for x in time_interleaved(
        [_consumer(pipeline.make_dataset(images, labels, spec), n),
         _consumer(single_replica_dataset(images, labels, spec), n)], 1, repeats))
    rows = [_row(
        "input pipeline alone (per element)", (flat, mapped), "ms/element",
        "make_dataset builds a new Dataset.range(1).map(...) inside flat_map for every step; on one device a single "
        "map over the counter yields the identical elements (same step_batch(images, labels, spec, step, 0, 1)). "
        "PROPOSAL (tfgan_eff/data/pipeline.py make_dataset): when strategy is None or has 1 replica return "
        "`prefetched(tf.data.Dataset.counter(start_step).map(lambda s: step_batch(images, labels, spec, s, 0, "
        "1)))`.", ("flat_map per step (now)", "single map (proposed)"))]
    step = time_calls(train_step(cfg), 1, repeats)
    rows.append(_row(
        "pipeline element vs train step", (step, flat), "ms",
        f"producing one step's batch takes {flat['median_s'] * 1e3:.2f} ms against a "
        f"{step['median_s'] * 1e3:.1f} ms train step ({flat['median_s'] / step['median_s']:.1%}).",
        ("train step (fixed batch)", "pipeline element"), proposal=False))
    traces = []
    fits = [_fitter(cfg, lambda: tf.data.Dataset.from_tensors(fixed_batch(cfg)).repeat(), steps, []),
            _fitter(cfg, lambda: pipeline.make_dataset(images, labels, spec), steps, traces),
            _fitter(cfg, lambda: single_replica_dataset(images, labels, spec), steps, [])]
    fixed, real, single = (_per(x, steps) for x in time_interleaved(fits, warmup=0, repeats=3))
    rows.append(_row(
        "fit(): training pipeline vs one fixed batch", (fixed, real), "ms/step",
        f"everything fit does besides the step (pipeline, iterator, callbacks) costs "
        f"{(real['median_s'] - fixed['median_s']) * 1e3:+.1f} ms/step; with the single-map pipeline fit takes "
        f"{single['median_s'] * 1e3:.1f} ms/step. train_step was traced {len(traces)} time(s) over 4 fit() calls "
        "of one trainer (1 = no retracing).", ("fit, fixed batch", "fit, make_dataset"), proposal=False,
        traces=len(traces), fit_single_map_ms=single["median_s"] * 1e3))
    return rows


# ----------------------------------------------------------------------------------------------- batch norm
@contextlib.contextmanager
def unsynchronized_batch_norm():
    """Builds every tfgan_eff BN with synchronized=False inside the block (models built inside it keep it)."""
    original = layers.batch_norm

    def plain(**kwargs):
        return keras.layers.BatchNormalization(synchronized=False, momentum=0.9, epsilon=1e-5, **kwargs)
    modules = [layers] + [__import__(name, fromlist=["batch_norm"]) for name in
                          ("tfgan_eff.models.dcgan", "tfgan_eff.models.resnet")]  # they imported the name
    patched = [m for m in modules if getattr(m, "batch_norm", None) is original]
    for module in patched:
        module.batch_norm = plain
    try:
        yield
    finally:
        for module in patched:
            module.batch_norm = original


def batch_norm_experiment(name, cfg, quick):
    """Synchronized BN (now) vs plain BN, on one device where both compute the same numbers."""
    def plain_step():
        with unsynchronized_batch_norm():
            return train_step(cfg)
    return _row(
        f"{name}: synchronized BN vs plain BN (1 device)", compare_steps(lambda: train_step(cfg), plain_step, quick),
        "ms/step",
        "Keras' synchronized BN computes moments through a replica all-reduce path (sum, sum of squares, a "
        "full-size ones tensor for the count) even on one device. PROPOSAL (tfgan_eff/ops/layers.py batch_norm): "
        "synchronized only when tf.distribute.get_strategy().num_replicas_in_sync > 1 (models are built inside the "
        "strategy scope, so it is known at build time; 1 and N devices still compute the same statistics).",
        ("synchronized=True (now)", "synchronized=False"))


# ------------------------------------------------------------------------------------------- EMA / grappler
def ema_experiment(name, cfg, quick):
    """What the per-step G-EMA update costs."""
    no_ema = cfg.copy_and_resolve_references()
    no_ema.train.ema_decay = 0.0
    return _row(f"{name}: G-EMA update", compare_steps(lambda: train_step(cfg), lambda: train_step(no_ema), quick),
                "ms/step", "cost of the EMA generator update each step (ema_decay=0 removes it).",
                ("with EMA (now)", "without EMA"), proposal=False)


@contextlib.contextmanager
def remapper(enabled):
    """Grappler's remapper (op fusion) on or off inside the block (a function keeps the setting it was first run
    with)."""
    old = tf.config.optimizer.get_experimental_options()
    tf.config.optimizer.set_experimental_options({"remapping": enabled})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options(old)


def remapper_experiment(name, cfg, quick):
    """Does grappler's remapper (which logs 'remapper failed' on the SN discriminator) matter?"""
    def off():
        with remapper(False):
            return train_step(cfg)
    return _row(f"{name}: grappler remapper off", compare_steps(lambda: train_step(cfg), off, quick), "ms/step",
                "grappler logs 'remapper failed: Mutation::Apply error' on the SpectralNorm conv + bias + LeakyReLU "
                "of the DCGAN D (the remapper then skips that graph); this compares remapper on (now) and off.",
                ("remapper on (now)", "remapper off"))


# --------------------------------------------------------------------------------------- D on one batch
def joint_discriminator_loss(self, real, real_labels, z, fake_labels, aug, alpha):
    """GANTrainer.discriminator_loss with D called once on [real; fake] (2B images) instead of twice on B.

    Same loss and D gradients for a D without batch statistics; spectral norm then runs one power iteration per D
    step instead of two (as BigGAN's G_D wrapper does). Only for runs without GP / R1.
    """
    # pylint: disable=protected-access
    del alpha
    fake = self.generator(z, self._labels(fake_labels), training=True)
    images = tf.concat([self._augment(real, aug[:, 0]), self._augment(fake, aug[:, 1])], axis=0)
    labels = tf.concat([real_labels, fake_labels], axis=0) if self.conditional else None
    real_logits, fake_logits = tf.split(self.discriminator(images, labels, training=True), 2)
    d_loss = self._global_mean(self.d_loss_fn(real_logits, fake_logits), self.batch_size)
    return d_loss, {"d_loss": d_loss}


def joint_d_experiment(name, cfg, quick):
    """Two D calls (real, fake) per D step vs one call on the concatenated batch."""
    def patch(trainer):
        trainer.discriminator_loss = types.MethodType(joint_discriminator_loss, trainer)
    return _row(
        f"{name}: D on real and fake as one batch",
        compare_steps(lambda: train_step(cfg), lambda: train_step(cfg, patch), quick), "ms/step",
        "one D call on 2B images instead of two calls on B (fewer, larger convolutions). "
        "PROPOSAL (tfgan_eff/training/trainer.py discriminator_loss): when gp_weight == 0 and r1_gamma == 0, "
        "`logits = D(concat([real_aug, fake_aug]), concat(labels)); real_logits, fake_logits = tf.split(logits, 2)`; "
        "spectral norm then does 1 power iteration per D step instead of 2 (as BigGAN's G_D does).",
        ("two D calls (now)", "one joint D call"))


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
    stats = time_interleaved([traced, build], warmup=1, repeats=_repeats(quick))
    row = _row(f"{name}: model build", stats, "ms", finding, ("Keras traced build", "first-call build (now)"))
    return dict(row, task="profile_build")


def build_experiments(quick):
    """Model construction before/after BuildOnFirstCall: the alphaGAN supernet, SNGAN G and D."""
    search = search_method.search_config(configs.preset("search", quick))
    sngan = configs.sngan(quick)

    def supernet():
        SupernetGenerator(search.model.latent_dim, search.data.resolution, search.data.channels,
                          ch=search.search.ch).build_for_inputs()
    return [build_experiment("alphaGAN supernet (search preset)", supernet, quick),
            build_experiment("SNGAN G", lambda: registry.build_generator(sngan), quick, finding=""),
            build_experiment("SNGAN D", lambda: registry.build_discriminator(sngan), quick, finding="")]


def derived_op_breakdown(quick):
    """Op time by op type (gradients apart) of the alphaGAN derived net's step at the search sizes (the benchmark's
    `search_derived` case)."""
    cfg = configs.derived(quick, saved_genotype(derived_genotype(quick)))
    return op_breakdown("alphaGAN derived net (search sizes)", cfg, quick, category=op_type)


def run_all(quick):
    """Every step experiment; each failing one becomes an 'error' row."""
    dcgan = configs.preset("baseline", quick)
    sngan = configs.sngan(quick)
    experiments = [
        ("DCGAN op breakdown", lambda: [op_breakdown("DCGAN", dcgan, quick)]),
        ("SNGAN op breakdown", lambda: [op_breakdown("SNGAN", sngan, quick)]),
        ("alphaGAN derived net op breakdown", lambda: [derived_op_breakdown(quick)]),
        ("input pipeline", lambda: pipeline_experiments(dcgan, quick)),
        ("DCGAN batch norm", lambda: [batch_norm_experiment("DCGAN", dcgan, quick)]),
        ("SNGAN batch norm", lambda: [batch_norm_experiment("SNGAN", sngan, quick)]),
        ("DCGAN EMA", lambda: [ema_experiment("DCGAN", dcgan, quick)]),
        ("DCGAN remapper", lambda: [remapper_experiment("DCGAN", dcgan, quick)]),
        ("DCGAN joint D", lambda: [joint_d_experiment("DCGAN", dcgan, quick)]),
        ("SNGAN joint D", lambda: [joint_d_experiment("SNGAN", sngan, quick)]),
    ]
    rows = []
    for name, experiment in experiments:
        try:
            rows += experiment()
        except Exception as err:  # pylint: disable=broad-exception-caught
            # One failing experiment must not hide the others; the row carries the reason.
            rows.append(dict(task="profile", experiment=name, status="error",
                             reason=f"{type(err).__name__}: {err}".splitlines()[0]))
    return rows
