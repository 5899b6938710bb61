"""Sparse EMA and the sparse-training diagnostics against NumPy."""

import types

import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.pieces.sparsity_callback import SparsityCallback, read_diagnostics
from tfgan_eff.pieces.sparse_diagnostics import (balance_ratio, density, exploration_rate, regrowth_summary,
                                          sparsity_summary)
from tfgan_eff.pieces.sparse_ema import align, sparse_ema, sparse_ema_update
from tfgan_eff.pieces.masks import sparsify
from tfgan_eff.pieces.mask_update import MaskUpdater


def test_sparse_ema_formula():
    rng = np.random.default_rng(0)
    ema, weight = rng.standard_normal((2, 3, 3, 2, 4)).astype(np.float32)
    mask = (rng.random(ema.shape) < 0.5).astype(np.float32)
    fresh = mask * (rng.random(ema.shape) < 0.3)
    expected = (0.9 * ema + 0.1 * weight) * mask
    np.testing.assert_allclose(sparse_ema(ema, weight, mask, 0.9).numpy(), expected, rtol=1e-6)
    expected_fresh = np.where(fresh > 0, weight, expected)
    np.testing.assert_allclose(sparse_ema(ema, weight, mask, 0.9, fresh).numpy(), expected_fresh, rtol=1e-6)
    np.testing.assert_allclose(sparse_ema(ema, weight, None, 0.9).numpy(), 0.9 * ema + 0.1 * weight, rtol=1e-6)


def test_sparse_ema_update_on_model_weights(make_model):
    model, ema_model = make_model(seed=0), make_model(seed=1)
    mask_set = sparsify(model, 0.3)
    masks = align(model.weights, mask_set.kernels, mask_set.masks)
    assert sum(m is not None for m in masks) == len(mask_set.kernels)
    fresh = [np.zeros(k.shape, np.float32) for k in mask_set.kernels]
    fresh[0] = mask_set.masks[0].numpy()  # pretend every active weight of layer 0 was just grown
    newly_active = align(model.weights, mask_set.kernels, fresh)
    ema_before = [v.numpy() for v in ema_model.weights]
    tf.function(lambda: sparse_ema_update(ema_model.weights, model.weights, masks, 0.99, newly_active))()
    for ema_old, ema_var, weight, mask, new in zip(ema_before, ema_model.weights, model.weights, masks, newly_active):
        expected = 0.99 * ema_old + 0.01 * weight.numpy()
        if mask is not None:
            expected = np.where(new > 0, weight.numpy(), expected * mask.numpy())
        np.testing.assert_allclose(ema_var.numpy(), expected, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="model's weights"):
        align(model.weights[:1], mask_set.kernels, mask_set.masks)


def test_balance_ratio_and_density():
    rng = np.random.default_rng(1)
    d_real, d_pre, d_post = rng.standard_normal((3, 16)).astype(np.float32)
    expected = np.mean(d_post - d_pre) / (np.mean(d_real) - np.mean(d_pre))
    assert float(balance_ratio(d_real, d_pre, d_post)) == pytest.approx(expected, rel=1e-5)
    assert float(density(np.array([[1.0, 0.0], [0.0, 0.0]]))) == 0.25
    assert float(exploration_rate([np.ones((2, 2)), np.array([1.0, 0.0, 0.0, 0.0])])) == pytest.approx(5 / 8)


def test_exploration_grows_with_updates(make_model):
    model = make_model()
    mask_set = sparsify(model, 0.3)
    start = sparsity_summary(mask_set)
    assert start["exploration_rate"] == pytest.approx(start["density/overall"])
    assert start["density/overall"] == pytest.approx(0.3, abs=1e-3)
    assert all(f"density/{name}" in start for name in mask_set.names)
    MaskUpdater(mask_set, None, grow="random", reset_optimizer_state=False).update(0.5, step=1)
    after = sparsity_summary(mask_set)
    assert after["density/overall"] == start["density/overall"]
    assert after["exploration_rate"] > start["exploration_rate"]


def test_regrowth_summary_counts_redrops_and_magnitudes():
    before = [np.array([1, 1, 1, 1, 0, 0], bool), np.array([[1, 1], [1, 0]], bool)]
    after = [np.array([1, 0, 1, 0, 1, 1], bool), np.array([[1, 1], [0, 1]], bool)]
    grown_before = [np.array([0, 1, 1, 0, 0, 0], bool), np.array([[0, 1], [0, 0]], bool)]
    magnitudes = [np.array([4.0, 0.5, 1.5, 2.0, 0.0, 0.0]), np.array([[6.0, 1.0], [3.0, 0.0]])]
    summary = regrowth_summary(before, after, magnitudes, grown_before)
    # Grown last time: 3 weights, one of them (layer 0, index 1) dropped now; |w| 0.5, 1.5, 1 vs 4, 2, 6, 3.
    assert summary["regrown_redropped"] == pytest.approx(1 / 3)
    assert summary["regrown_magnitude_ratio"] == pytest.approx(1.0 / 3.75)
    assert regrowth_summary(before, after, magnitudes, None) == {"regrown_redropped": None,
                                                                "regrown_magnitude_ratio": None}


def test_callback_records_that_untrained_regrown_weights_are_dropped_again(make_model, tmp_path):
    # Regrown weights start at zero: with no training step between two updates they are the smallest active
    # weights, so the second update (same drop fraction) drops every one of them again. Its growth scores are 0 at
    # the positions grown first, so none of them is grown back at once (which would not count as a drop).
    mask_set = sparsify(make_model(), 0.5)
    updater = MaskUpdater(mask_set, None, grow="gradient", reset_optimizer_state=False)
    sparse = types.SimpleNamespace(update_every=1, g_masks=mask_set, d_masks=None, g_updater=updater,
                                   d_updater=None)
    grown = [tf.zeros(k.shape) for k in mask_set.kernels]

    def update_fn(step):
        grown[:] = updater.update(0.3, grads=[1.0 - g for g in grown], step=step)
        return 0.3

    callback = SparsityCallback(sparse, update_fn, start_step=0, workdir=str(tmp_path))
    for batch in (1, 2):
        callback.on_train_batch_begin(batch)
    first, second = read_diagnostics(str(tmp_path))
    assert first["g/regrown_redropped"] is None and first["g/regrown_magnitude_ratio"] is None
    assert second["g/regrown_redropped"] == 1.0 and second["g/regrown_magnitude_ratio"] == 0.0
    assert "d/regrown_redropped" not in second  # D's masks are not updated
