"""train.precision=mixed_bfloat16: bfloat16 compute, float32 variables and outputs; float32 exports of the same
weights; the global Keras policy is never left changed."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.config import presets
from tfgan_eff.config.validate import ConfigError, validate
from tfgan_eff.export import ExportSettings, export_generator
from tfgan_eff.inference import load_generator
from tfgan_eff.models import registry
from tfgan_eff.ops.precision import compute_in, policy_scope
from tfgan_eff.training.loop import train_gan

ARCHS = [("dcgan", "dcgan", False), ("sngan", "sngan", False), ("biggan", "biggan", True),
         ("genotype", "autogan", False)]


def _cfg(g_arch="dcgan", d_arch="dcgan", conditional=False, precision="mixed_bfloat16"):
    cfg = presets.smoke(presets.baseline())
    cfg.model.g.update(arch=g_arch, genotype="alphagan_s" if g_arch == "genotype" else "")
    cfg.model.d.arch = d_arch
    cfg.data.update(conditional=conditional, num_classes=10 if conditional else 0)
    cfg.train.precision = precision
    cfg.eval.at_end = False
    return cfg


def _conv_layers(model):
    return [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.Conv2D)]  # pylint: disable=protected-access


def test_policy_scope_restores_the_global_policy_even_on_error():
    with pytest.raises(RuntimeError):
        with policy_scope("mixed_bfloat16"):
            assert keras.config.dtype_policy().name == "mixed_bfloat16"
            raise RuntimeError
    assert keras.config.dtype_policy().name == "float32"


@pytest.mark.parametrize("g_arch,d_arch,conditional", ARCHS, ids=[a[0] for a in ARCHS])
def test_models_compute_in_bfloat16_keep_float32_variables_and_return_float32(g_arch, d_arch, conditional):
    cfg = _cfg(g_arch, d_arch, conditional)
    g, d = registry.build_generator(cfg), registry.build_discriminator(cfg)
    assert keras.config.dtype_policy().name == "float32"
    labels = tf.constant([1, 2]) if conditional else None
    images = g(tf.random.normal((2, cfg.model.latent_dim)), labels, training=True)
    logits = d(images, labels, training=True)
    assert images.dtype == tf.float32 and logits.dtype == tf.float32
    assert np.all(np.isfinite(images.numpy())) and np.all(np.isfinite(logits.numpy()))
    for model in (g, d):
        assert {v.dtype for v in model.weights} == {"float32"}
        convs = _conv_layers(model)
        assert convs and all(layer.compute_dtype == "bfloat16" for layer in convs)


def test_compute_in_float32_runs_the_same_weights_as_a_float32_model():
    mixed = registry.build_generator(_cfg())
    plain = registry.build_generator(_cfg(precision="float32"))
    for a, b in zip(plain.weights, mixed.weights):
        a.assign(b)
    z = tf.random.normal((4, 16))
    bf16_out = mixed(z, training=False).numpy()
    with compute_in(mixed, "float32"):
        np.testing.assert_array_equal(mixed(z, training=False).numpy(), plain(z, training=False).numpy())
    assert all(layer.compute_dtype == "bfloat16" for layer in _conv_layers(mixed))  # restored
    # bfloat16 keeps ~3 significant digits: close to, but not, the float32 images.
    difference = np.abs(bf16_out - plain(z, training=False).numpy()).max()
    assert 0 < difference < 0.1


def test_unknown_precision_is_a_config_error():
    cfg = _cfg(precision="float16")
    with pytest.raises(ConfigError, match="train.precision='float16' is not one of"):
        validate(cfg)


def test_mixed_bfloat16_run_trains_exports_float32_and_loads_back(tmp_path):
    cfg = _cfg()
    run, summary = train_gan(cfg, str(tmp_path))
    assert summary["steps"] == 4
    export_generator(run.sampling_generator, tmp_path / "export",
                     ExportSettings(modes=("float32",), seed=cfg.seed))
    assert run.trainer.g_optimizer.iterations.numpy() == 4
    with open(tmp_path / "export" / "report.json", encoding="utf-8") as f:
        report = json.load(f)
    # The export ran in float32: its TFLite file matches the (float32) Keras reference to float32 precision ...
    assert report["artifacts"]["float32"]["max_abs_diff"] < 1e-5
    # ... and load_generator serves the run's weights in float32.
    sampler = load_generator(str(tmp_path))
    images = sampler.generate(np.zeros((2, 16), np.float32))
    with compute_in(run.ema_generator, "float32"):
        expected = run.ema_generator(tf.zeros((2, 16)), training=False).numpy()
    np.testing.assert_allclose(images, expected, atol=1e-6)
