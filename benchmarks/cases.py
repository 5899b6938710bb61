"""Timed cases: one training step (or mask update, or search round) of each model and method, built from the
methods' own trainers on a fixed batch of `tfgan_eff.data.pipeline`.

A builder returns a `Case` or raises `Skipped(reason)` when it cannot run in this process (e.g. too few logical
devices); nothing is ever estimated in place of a measurement.
"""

import dataclasses
import functools
import os
import tempfile
from typing import Any, Callable, Optional

import tensorflow as tf

from benchmarks import configs
from benchmarks.flops import conv_matmul_flops, gan_step_flops, search_d_plus_g_flops, search_step_flops
from tfgan_eff.data import pipeline
from tfgan_eff.models import flops as model_flops
from tfgan_eff.models import registry
from tfgan_eff.search import genotype as genotype_lib
from tfgan_eff.search.baselines import sngan_width
from tfgan_eff.search.searcher import Searcher
from tfgan_eff.pieces.guidance import TeacherGuidance
from tfgan_eff.pieces.sparse_weights import SparseWeights
from tfgan_eff.sparse.plan import sparse_trainer
from tfgan_eff.training.loop import Run, batch_spec, count_params, load_data
from tfgan_eff.training.trainer import GANTrainer


_SCRATCH = []  # one TemporaryDirectory per process, removed when the process exits


def scratch_dir(prefix="bench_"):
    """A new empty directory (for a Run's checkpoints, traces) inside this process's temporary directory."""
    if not _SCRATCH:
        # Kept open for the process's life; removed when the interpreter exits.
        _SCRATCH.append(tempfile.TemporaryDirectory(prefix="tfgan_eff_bench_"))  # pylint: disable=consider-using-with
    return tempfile.mkdtemp(prefix=prefix, dir=_SCRATCH[0].name)


class Skipped(Exception):
    """The case cannot run here; str(err) says why (e.g. the method's module is missing)."""


@dataclasses.dataclass
class Case:
    """One timed unit of work. `step()` runs it once and blocks until it is done."""
    name: str
    method: str
    step: Callable[[], object]
    images_per_step: Optional[int]
    flops_per_step: Optional[int]
    info: dict
    xla: Optional[bool] = False
    warmup: Optional[int] = None  # None = the benchmark's default
    owner: Any = None  # keeps the models/trainer alive (e.g. a loop.Run) for export or inspection


def forward_flops(model):
    """Batch-1 forward FLOPs of a generator or discriminator."""
    if hasattr(model, "latent_dim"):
        return model_flops.count_flops(model, model_flops.generator_input_specs(model))
    return model_flops.count_flops(model, model_flops.discriminator_input_specs(model))


def fixed_batch(cfg):
    """Step 0's batch of the training pipeline for `cfg` (one replica)."""
    images, labels = load_data(cfg)
    return pipeline.step_batch(tf.constant(images), tf.constant(labels), batch_spec(cfg), 0, 0, 1)


def train_function_step(trainer, batch, xla, dataset=None, strategy=None):
    """A blocking call of Keras' compiled train function (what `fit` runs per step) on `batch` repeated, or on
    the elements of `dataset` when given; compiled inside `strategy`'s scope (default: the current strategy)."""
    with (strategy or tf.distribute.get_strategy()).scope():
        trainer.compile(jit_compile=xla)
        trainer.make_train_function()
    iterator = iter(tf.data.Dataset.from_tensors(batch).repeat() if dataset is None else dataset)

    def step():
        logs = trainer.train_function(iterator)
        return {k: v.numpy() for k, v in logs.items()}
    return step


def peer_flops(g, d):
    """Batch-1 forward FLOPs of the convolutions and matmuls alone of G and D: what a PyTorch peer's flop counter
    counts (benchmarks.flops.conv_matmul_flops)."""
    return dict(g_conv_flops=conv_matmul_flops(g, model_flops.generator_input_specs(g)),
                d_conv_flops=conv_matmul_flops(d, model_flops.discriminator_input_specs(d)))


def gan_case(name, method, cfg, xla, trainer_factory=None, *, teacher=None, extra_info=None, strategy=None, peer=False):
    """A GANTrainer(-subclass) step of `cfg`'s models; `teacher` adds its D's FLOPs to the G step. With a
    `strategy`, the models live in its scope and each step takes the next batch of the training pipeline
    distributed by it (as train_gan feeds them); without, the current strategy on a fixed batch. `peer`: the info
    also holds the conv/matmul FLOPs a PyTorch peer is checked against (`peer_flops`)."""
    run = Run(cfg, scratch_dir(), strategy or tf.distribute.get_strategy(), trainer_factory)
    spec = batch_spec(cfg)
    g_f, d_f = forward_flops(run.generator), forward_flops(run.discriminator)
    t_f = forward_flops(teacher) if teacher is not None else 0
    flops = None if None in (g_f, d_f, t_f) else gan_step_flops(g_f, d_f, spec.batch_size, spec.g_batch_size,
                                                                spec.n_critic, t_f)
    info = dict(g_arch=cfg.model.g.arch, d_arch=cfg.model.d.arch,
                g_ch=registry.scaled_width(cfg.model.g.ch, cfg.model.g.width),
                d_ch=registry.scaled_width(cfg.model.d.ch, cfg.model.d.width),
                resolution=cfg.data.resolution, batch=spec.batch_size, g_batch=spec.g_batch_size,
                n_critic=spec.n_critic, precision=cfg.train.precision, g_params=count_params(run.generator),
                d_params=count_params(run.discriminator),
                g_forward_flops=g_f, d_forward_flops=d_f, ema=cfg.train.ema_decay > 0, **(extra_info or {}))
    if peer:
        info.update(peer_flops(run.generator, run.discriminator))
    if strategy is None:
        step = train_function_step(run.trainer, fixed_batch(cfg), xla)
    else:
        images, labels = load_data(cfg)
        step = train_function_step(run.trainer, None, xla, pipeline.make_dataset(images, labels, spec, 0, strategy),
                                   strategy)
    return Case(name, method, step, spec.n_critic * spec.batch_size, flops, info, xla, owner=run)


def _gan(name, method, config, **kwargs):
    """Builder of the GANTrainer step of `config(quick)` (`gan_case`)."""
    return lambda quick, xla: gan_case(name, method, config(quick), xla, **kwargs)


def dgl_stage2(quick, xla):
    """DGL-GAN stage 2: the student step plus lambda * V(G_S, D_T) through the frozen teacher D."""
    teacher_cfg = configs.preset("dgl", quick)
    teacher_d = registry.build_discriminator(teacher_cfg)
    guidance = TeacherGuidance(teacher_d, weight=teacher_cfg.dgl.lambda_teacher, switch_step=0)
    return gan_case("DGL stage 2 (student + D_T)", "dgl", configs.student(teacher_cfg), xla,
                    functools.partial(GANTrainer, pieces=(guidance,)), teacher=teacher_d,
                    extra_info=dict(teacher_d_ch=teacher_cfg.model.d.ch,
                                    teacher_d_forward_flops=forward_flops(teacher_d)))


def _sparse_factory(cfg, mode):
    return functools.partial(sparse_trainer, sparse_cfg=cfg.sparse, mode=mode, seed=cfg.seed)


def sparse_masked(mode):
    """Builder of the masked step of a SparseWeights trainer in `mode` (static or dynamic_g)."""
    def build(quick, xla):
        cfg = configs.preset("sparse", quick)
        return gan_case(f"sparse {mode} masked step", "sparse", cfg, xla, _sparse_factory(cfg, mode),
                        extra_info=dict(g_density=cfg.sparse.g_density, d_density=cfg.sparse.d_density, mode=mode,
                                        flops_note="dense FLOPs: TF runs masked kernels densely"))
    build.__doc__ = f"SparseWeights ({mode}) step: masked kernels re-masked after every update, sparse EMA."
    return build


def sparse_update(quick, xla):
    """One STU-GAN prune-and-regrow update of G (gradient growth) at an update boundary, as the callback runs it."""
    del xla  # the update is its own tf.function
    cfg = configs.preset("sparse", quick)
    run = Run(cfg, scratch_dir(), tf.distribute.get_strategy(), _sparse_factory(cfg, "dynamic_g"))
    trainer = run.trainer
    shape = (cfg.data.resolution, cfg.data.resolution, cfg.data.channels)
    update = trainer.piece(SparseWeights).mask_update_function(trainer, tf.distribute.get_strategy(), batch_spec(cfg),
                                                                shape)
    boundary = cfg.sparse.update_every
    info = dict(g_density=cfg.sparse.g_density, update_every=boundary, grow="gradient",
                g_params=count_params(run.generator))
    return Case("sparse drop/grow update (G)", "sparse", lambda: update(boundary), None, None, info, None, owner=run)


def replicas(count):
    """Builder of the baseline DCGAN step on `count` logical CPU devices (MirroredStrategy when > 1, the default
    strategy for 1) at the preset's global batch, fed by the training pipeline. The process must split its CPU
    (tfgan_eff.training.strategy.split_cpu) before TensorFlow starts."""
    def build(quick, xla):
        devices = tf.config.list_logical_devices("CPU")
        if len(devices) < count:
            raise Skipped(f"needs {count} logical CPU devices (split before TensorFlow starts), found {len(devices)}")
        strategy = tf.distribute.MirroredStrategy([d.name for d in devices[:count]]) if count > 1 \
            else tf.distribute.get_strategy()
        where = f"MirroredStrategy on {count} logical CPU devices" if count > 1 else "1 device"
        return gan_case(f"baseline DCGAN, {where}", "baseline", configs.preset("baseline", quick), xla,
                        extra_info=dict(replicas=count), strategy=strategy)
    build.__doc__ = f"The baseline DCGAN step on {count} logical CPU device(s), same global batch."
    return build


def _searcher(quick):
    """(search config, its images, a Searcher on them, the width of the D it trains)."""
    cfg = configs.search(quick)
    images, _ = load_data(cfg)
    return cfg, images, Searcher(cfg, images), registry.scaled_width(cfg.model.d.ch,
                                                                    cfg.model.d.width * cfg.search.d_width)


def search_supernet_step(quick, xla, arch_step=False):
    """alphaGAN supernet: one inner D step + one G step of the searcher (all candidate ops of every edge), on fixed
    real images and z; with `arch_step` also its architecture step (`search_step`)."""
    del xla  # the searcher compiles its own tf.functions
    cfg, images, searcher, d_ch = _searcher(quick)
    b, latent = cfg.search.batch_size, cfg.model.latent_dim
    real = tf.constant(images[:b].astype("float32") / 127.5 - 1.0)
    if arch_step:
        z, z2 = tf.unstack(tf.random.stateless_normal([2, b, latent], (0, 2)))
    else:
        z = tf.random.stateless_normal([b, latent], (0, 1))

    def step():
        # pylint: disable=protected-access
        searcher._d_step(real, z).numpy()
        g_loss = searcher._g_step(z).numpy()
        return [t.numpy() for t in searcher._arch_step(real, z, z2)] if arch_step else g_loss
    g_f, d_f = forward_flops(searcher.g), forward_flops(searcher.d)
    count = search_step_flops if arch_step else search_d_plus_g_flops
    info = dict(g_arch="supernet", g_ch=cfg.search.ch, d_arch=cfg.model.d.arch, d_ch=d_ch,
                resolution=cfg.data.resolution, batch=b, g_batch=b, n_critic=1,
                g_params=count_params(searcher.g), d_params=count_params(searcher.d), g_forward_flops=g_f,
                d_forward_flops=d_f, **(peer_flops(searcher.g, searcher.d) if arch_step else {}))
    name = "search step (D + G + architecture)" if arch_step else "search supernet D+G step"
    return Case(name, "search", step, b, None if None in (g_f, d_f) else count(g_f, d_f, b), info, None,
                owner=searcher)


def derived_genotype(quick):
    """The benchmark's derived genotype: the published alphaGAN(s)'s ops (the searched one is data dependent) in the
    supernet's own space (op set and padding of the search preset), so supernet and derived net compare like with
    like: reflect padding costs both."""
    s = configs.search(quick).search
    return dataclasses.replace(genotype_lib.ALPHAGAN_S, op_set=s.op_set, padding=s.padding)


def saved_genotype(genotype):
    """A JSON file of `genotype` in this process's scratch directory (what model.g.genotype takes)."""
    path = os.path.join(scratch_dir("genotype_"), "genotype.json")
    genotype_lib.save(genotype, path)
    return path


def search_derived_step(quick, xla):
    """The derived (discrete) network at the supernet's width, trained like the supernet: 1 D + 1 G step (GANTrainer,
    G-EMA) against the searcher's D (`derived_genotype`: alphaGAN(s)'s ops in the search preset's space)."""
    genotype = derived_genotype(quick)
    cfg = configs.derived(quick, saved_genotype(genotype))
    return gan_case("search derived net D+G step", "search", cfg, xla,
                    extra_info=dict(genotype=f"alphagan_s's ops, op_set {genotype.op_set}, padding {genotype.padding} "
                                             "(published; the searched one is data dependent)"), peer=True)


def search_round(quick, xla):
    """One whole alphaGAN (s) search round: inner steps, both worst-case fits and the architecture steps."""
    del xla
    cfg, _, searcher, d_ch = _searcher(quick)
    counter = iter(range(10 ** 6))
    s = cfg.search
    info = dict(g_ch=s.ch, d_ch=d_ch, resolution=cfg.data.resolution, batch=s.batch_size,
                inner_steps=searcher.inner_steps, worst_steps=searcher.worst_steps, arch_steps=s.arch_steps,
                n_critic=s.n_critic)
    return Case("search round (s)", "search", lambda: searcher.run_round(next(counter)), None, None, info, None,
                warmup=1)


# Seed 0's derived genotype of the reproduction's search (docs/methods/search.md: conv 5x5 on 5 normal edges, sep
# conv 7x7 on 4), the retraining whose cost the `retrain` group measures.
REPRODUCTION_GENOTYPE = genotype_lib.Genotype(
    normal=[["conv_5x5", "sep_conv_7x7", "conv_5x5"], ["sep_conv_7x7", "conv_5x5", "sep_conv_7x7"],
            ["sep_conv_7x7", "conv_5x5", "conv_5x5"]],
    up=[["deconv", "deconv"], ["deconv", "deconv"], ["bilinear", "bilinear"]], skip_2=["deconv"],
    skip_3=["deconv", "deconv"], op_set="normalized", padding="reflect")


def retrain_config(quick):
    """The search preset's retraining of `REPRODUCTION_GENOTYPE` (what `--method=search` trains after the search)."""
    cfg = configs.preset("search", quick)
    cfg.model.g.genotype = saved_genotype(REPRODUCTION_GENOTYPE)
    return cfg


def retrain_sngan(quick, xla):
    """The same retraining step with the reproduction's width-matched SNGAN-ResNet G (BN, no SN) in place of the
    genotype's: the channel width whose parameter count is closest to the derived G's."""
    cfg = retrain_config(quick)
    target = count_params(registry.build_generator(cfg))
    cfg.model.g.update(arch="sngan", genotype="", width=1.0, ch=sngan_width(cfg, target))
    return gan_case("retraining step, width-matched SNGAN-ResNet G", "search", cfg, xla,
                    extra_info=dict(width_matched_to=target))


CASES = {
    "baseline_dcgan": _gan("baseline DCGAN", "baseline", functools.partial(configs.preset, "baseline")),
    # SNGAN-ResNet 32 px, the sizes of the PyTorch reference
    "baseline_sngan": _gan("baseline SNGAN", "baseline", configs.sngan),
    # DGL-GAN stage 1: the student (half-width G) trained alone, a plain GANTrainer step
    "dgl_stage1": _gan("DGL stage 1 (student)", "dgl", lambda quick: configs.student(configs.preset("dgl", quick))),
    "dgl_stage2": dgl_stage2,
    # STU-GAN's dense comparison: the sparse preset's architecture without masks
    "sparse_dense": _gan("sparse preset, dense", "sparse", functools.partial(configs.preset, "sparse")),
    "sparse_static": sparse_masked("static"),
    "sparse_dynamic": sparse_masked("dynamic_g"),
    "sparse_update": sparse_update,
    "search_supernet": search_supernet_step,
    # one inner D step, one G step and one architecture step: the unit timed against the PyTorch peer
    "search_step": functools.partial(search_supernet_step, arch_step=True),
    "search_derived": search_derived_step,
    "search_round": search_round,
    # one retraining step (GANTrainer: D step, G step, G-EMA) of the reproduction's derived genotype
    "retrain_derived": _gan("retraining step, derived genotype", "search", retrain_config,
                            extra_info=dict(genotype="seed 0 of the reproduction: conv 5x5 x5, sep conv 7x7 x4")),
    "retrain_sngan": retrain_sngan,
}
# The same step on one device and on two replicas (benchmarks.interleave's 'mirrored' group splits the CPU first).
REPLICA_CASES = {"one_device": replicas(1), "mirrored_2": replicas(2)}
# Cases whose step is a Keras train function, so XLA can be switched on through trainer.compile(jit_compile=True).
XLA_CASES = ("baseline_dcgan", "baseline_sngan", "dgl_stage1", "dgl_stage2", "sparse_dense", "sparse_static",
             "sparse_dynamic", "search_derived")
