"""Latency per image (batch 1) and file size of each method's exported TFLite generator, via
`tfgan_eff.export.export_generator` on freshly built (untrained: speed and size do not depend on the weights)
generators."""

import tempfile

import numpy as np
import tensorflow as tf

from benchmarks import configs
from benchmarks.cases import forward_flops
from benchmarks.timing import time_calls
from tfgan_eff.compress.method import widths
from tfgan_eff.export import ExportSettings, export_generator
from tfgan_eff.models import registry
from tfgan_eff.pieces.masks import sparsify
from tfgan_eff.training.loop import count_params


def _sparse(quick):
    """The sparse preset's G with STU-GAN masks at d_G (zeros inside dense kernels)."""
    cfg = configs.preset("sparse", quick)
    g = registry.build_generator(cfg)
    sparsify(g, cfg.sparse.g_density, cfg.sparse.distribution, seed=cfg.seed, init="random")
    return g


def _compress_student(quick):
    """The first student G of the compress preset (its width of the teacher's, i.e. of the DGL teacher G above)."""
    cfg = configs.preset("compress", quick)
    return registry.build_generator(cfg, widths(cfg)[0])


def _genotype(quick):
    """The published alphaGAN(s) genotype at the search preset's retraining width and resolution."""
    cfg = configs.preset("search", quick)
    cfg.model.g.genotype = "alphagan_s"
    return registry.build_generator(cfg)


GENERATORS = {
    "baseline DCGAN G": lambda quick: registry.build_generator(configs.preset("baseline", quick)),
    "SNGAN G": lambda quick: registry.build_generator(configs.sngan(quick)),
    "DGL teacher G": lambda quick: registry.build_generator(configs.preset("dgl", quick)),
    "DGL student G": lambda quick: registry.build_generator(configs.student(configs.preset("dgl", quick))),
    "compress student G": _compress_student,
    "sparse G (d_G masks)": _sparse,
    "alphaGAN(s) genotype G": _genotype,
}


def keras_latency_ms(generator, repeats):
    """Median ms of one batch-1 `generator(z, training=False)` in a tf.function (TF, all threads)."""
    z = tf.constant(np.random.default_rng(0).standard_normal((1, generator.latent_dim)), tf.float32)
    labels = tf.zeros([1], tf.int32) if generator.num_classes else None
    fn = tf.function(lambda: generator(z, labels, training=False))
    return 1e3 * time_calls(lambda: fn().numpy(), 2, repeats)["median_s"]


def export_row(name, build, quick, modes, repeats):
    """Exports one generator and returns its row (sizes, LiteRT and Keras latencies, params, FLOPs)."""
    generator = build(quick)
    row = dict(task="export", name=name, status="ok", g_params=count_params(generator),
               g_forward_flops=forward_flops(generator), keras_ms_per_image=keras_latency_ms(generator, repeats))
    with tempfile.TemporaryDirectory(prefix="bench_export_") as out:
        report = export_generator(generator, out, ExportSettings(modes=modes, batch_size=1, num_runs=repeats,
                                                                 num_threads=1))
    for key, entry in report["artifacts"].items():
        if "error" in entry:
            row[f"{key}_error"] = entry["error"]
        else:
            row.update({f"{key}_{field}": entry[name] for field, name in (
                ("bytes", "size_bytes"), ("gzip_bytes", "gzip_bytes"), ("ms_per_image", "latency_ms_per_image"),
                ("max_abs_diff", "max_abs_diff")) if entry.get(name) is not None})
    return row


def export_rows(quick, modes, repeats):
    """One row per generator of GENERATORS."""
    return [export_row(name, build, quick, modes, repeats) for name, build in GENERATORS.items()]
