"""Checkpoints hold every weight of layers kept in lists, dicts and nested collections."""

import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.config import presets
from tfgan_eff.models import registry


@pytest.mark.parametrize("g_arch,d_arch", [("dcgan", "dcgan"), ("sngan", "sngan"), ("genotype", "autogan")])
def test_checkpoint_holds_every_weight_of_layer_lists(tmp_path, g_arch, d_arch):
    """Keras 3 hides layers kept in lists from tf.train.Checkpoint unless CheckpointCollections is mixed in; the
    genotype G keeps its edges in a dict of lists (nested collections)."""
    cfg = presets.baseline()
    cfg.model.g.update(arch=g_arch, ch=8, genotype="alphagan_s")
    cfg.model.d.update(arch=d_arch, ch=8)
    cfg.data.resolution = 16
    rng = np.random.default_rng(0)
    saved = [registry.build_generator(cfg), registry.build_discriminator(cfg)]
    for model in saved:  # make every weight, incl. BN statistics and SN vectors, distinct from a fresh build
        for v in model.weights:
            v.assign(rng.normal(size=v.shape).astype(np.float32))
    path = tf.train.Checkpoint(g=saved[0], d=saved[1]).write(str(tmp_path / "ckpt"))
    restored = [registry.build_generator(cfg), registry.build_discriminator(cfg)]
    tf.train.Checkpoint(g=restored[0], d=restored[1]).read(path).assert_consumed()
    for a, b in zip(saved, restored):
        for va, vb in zip(a.weights, b.weights):
            np.testing.assert_array_equal(va.numpy(), vb.numpy(), err_msg=va.path)


def test_supernet_checkpoint_holds_every_weight_of_its_nested_edges(tmp_path):
    from tfgan_eff.search.supernet import SupernetGenerator

    saved, restored = (SupernetGenerator(latent_dim=8, resolution=8, ch=4).build_for_inputs() for _ in range(2))
    rng = np.random.default_rng(0)
    for v in saved.weights:
        v.assign(rng.normal(size=v.shape).astype(np.float32))
    path = tf.train.Checkpoint(g=saved).write(str(tmp_path / "ckpt"))
    tf.train.Checkpoint(g=restored).read(path).assert_consumed()
    assert len(saved.non_trainable_weights) > 0  # the candidates' BN statistics
    for va, vb in zip(saved.weights, restored.weights):
        np.testing.assert_array_equal(va.numpy(), vb.numpy(), err_msg=va.path)
