"""The one schema every run config follows: a locked ConfigDict with every key and its type.

Each registered method adds its own sections (config.registry); they are part of every config so that a typo in any
key is an error, whatever the method.
"""

import ml_collections
from absl import logging

from tfgan_eff.config import registry

LOSSES = ("hinge", "non_saturating", "wasserstein")
G_ARCHS = ("dcgan", "sngan", "biggan")  # built in; methods register more (registry.generator_archs)
D_ARCHS = ("dcgan", "sngan", "autogan", "biggan")
STRATEGIES = ("auto", "cpu", "mirrored", "multi_worker", "tpu")
PRECISIONS = ("float32", "mixed_bfloat16")  # train.precision, see ops/precision.py
# The names eval.metrics and export.modes may list: those of metrics/suite.py ALL_METRICS and export/tflite.py MODES,
# restated here because the config layer imports neither (tests/config/test_validate_names.py checks that they match).
EVAL_METRICS = ("fid", "kid", "is", "pr", "dc")
EXPORT_MODES = ("float32", "dynamic_int8", "full_int8")


def _optimizer(lr=2e-4, beta1=0.0, beta2=0.9):
    return ml_collections.ConfigDict(dict(lr=lr, beta1=beta1, beta2=beta2, eps=1e-8))


def base_config():
    """Returns the unlocked base config with every key the package reads, at baseline defaults."""
    c = ml_collections.ConfigDict()
    c.method = "baseline"
    c.name = "baseline_digits"
    c.seed = 0
    c.data = ml_collections.ConfigDict(dict(
        source="digits",          # digits | shapes | tfds:NAME | folder:PATH
        resolution=32,
        channels=3,
        num_examples=10000,       # size of the generated `shapes` set
        max_examples=0,           # cap for tfds/folder sources (0 = all)
        tfds_data_dir="",         # local TFDS data dir (nothing is downloaded)
        split="train",
        conditional=False,        # feed labels to G and D (BigGAN-style models)
        num_classes=0,            # set from the data when conditional
        diffaug="",               # DiffAugment policy, e.g. "color,translation,cutout"
    ))
    c.model = ml_collections.ConfigDict(dict(
        latent_dim=128,
        # kernel_init: conv/dense kernel init of alphaGAN cell networks (genotype, supernet): glorot_uniform (the
        # paper's xavier) or he_uniform (keeps the signal's variance through the ReLU->conv chains of BN-free cells).
        g=ml_collections.ConfigDict(dict(arch="dcgan", ch=64, width=1.0, spectral_norm=False, genotype="",
                                         kernel_init="glorot_uniform")),
        d=ml_collections.ConfigDict(dict(arch="dcgan", ch=64, width=1.0, spectral_norm=True)),
    ))
    c.train = ml_collections.ConfigDict(dict(
        steps=1500,               # generator steps
        batch_size=64,            # global D batch (per D step)
        g_batch_size=0,           # global G batch (0 = batch_size)
        n_critic=1,               # D steps per G step
        loss="hinge",
        r1_gamma=0.0,             # R1 weight (0 = off), applied lazily every r1_every D steps
        r1_every=16,
        gp_weight=0.0,            # WGAN-GP weight (0 = off)
        g_opt=_optimizer(),
        d_opt=_optimizer(),
        ema_decay=0.999,          # 0 = no EMA generator
        ema_start=0,
        log_every=50,
        sample_every=500,
        ckpt_every=250,
        keep_checkpoints=3,
        nan_policy="stop",        # stop | skip
        # nan_policy=skip: stop the run (one-line error, last good checkpoint kept) after more than this many steps
        # in a row had a NaN/Inf loss and were skipped (0 = never stop); summary.json counts skipped steps.
        max_skipped_in_row=10,
        strategy="auto",
        # CPU thread pools of TensorFlow, set when a run starts (0 = TF's default, one per core). A graph of many
        # small parallel ops (alphaGAN's supernet) runs faster with intra_op_threads=1 (docs/methods/search.md,
        # "Threads"). TF fixes them when it starts: a later run in the same process keeps them (with a warning).
        intra_op_threads=0,       # threads one op may use
        inter_op_threads=0,       # ops that may run at once
        # Comma list of the method's sub-runs to run in this process (empty = all, in plan order), e.g. to run
        # independent sub-runs as separate processes; the others are read back when finished, and the method's
        # summary is written once every sub-run has finished.
        subruns="",
        # Sub-runs trained at once (1 = one after the other in this process): those that need none of each other's
        # results (e.g. STU-GAN's comparison runs, DGL's teacher and stage 1), each in a process of its own pinned to
        # its share of the cores, with cores / jobs TF threads where intra_op_threads / inter_op_threads are 0.
        jobs=1,
        # float32 | mixed_bfloat16 (bfloat16 compute, float32 variables): 1.2-1.6x faster DCGAN/SNGAN/DGL steps on
        # CPUs with AVX512_BF16/AMX (README "Speed"), but slower for alphaGAN's supernet and wherever bfloat16 is
        # emulated. Exports and load_generator run float32 either way.
        precision="float32",
    ))
    c.eval = ml_collections.ConfigDict(dict(
        every=0,                  # FID every N G steps during training (0 = only at the end)
        at_end=True,
        # after training, FID at every kept checkpoint (train.ckpt_every, train.keep_checkpoints) in fid_curve.json
        curve=False,
        num_samples=2000,
        batch_size=250,
        extractor="offline",      # offline | inception
        inception_weights="",     # local InceptionV3 .h5 for extractor=inception
        ref_stats="",             # .npz from tools/compute_ref_stats.py (default: computed from the training data)
        metrics="fid,kid,is,pr,dc",
        kid_subsets=10,
    ))
    c.export = ml_collections.ConfigDict(dict(
        enabled=True,
        modes=",".join(EXPORT_MODES),
    ))
    for method in registry.methods():
        for name, section in method.sections.items():
            c[name] = section()
    return c


def generator_archs():
    """Every valid model.g.arch: the built-in ones and those the registered methods add."""
    return G_ARCHS + tuple(registry.generator_archs())


def config_from_json(values, base=None):
    """A run config rebuilt from a `config.json` dict on top of `base` (default: the schema's base config).

    Keys the current schema does not know are skipped with a warning and keys it added since keep their defaults (a
    run written by another version).
    """
    cfg = base if base is not None else base_config()

    def merge(target, source, prefix):
        for key, value in source.items():
            if key not in target:
                logging.warning("config key %s%s is unknown here; ignored", prefix, key)
            elif isinstance(target[key], ml_collections.ConfigDict) and isinstance(value, dict):
                merge(target[key], value, f"{prefix}{key}.")
            else:
                target[key] = type(target[key])(value) if isinstance(target[key], float) else value

    merge(cfg, values, "")
    return cfg
