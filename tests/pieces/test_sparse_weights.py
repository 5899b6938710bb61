"""SparseWeights (a GANTrainer piece): exact masks, re-masking after every optimizer step, prune-and-regrow
bookkeeping, sparse EMA.

Resume and 2-replica runs through train_gan are in test_sparse_plan.py.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.config import presets
from tfgan_eff.data import pipeline
from tfgan_eff.models import registry
from tfgan_eff.models.ema import copy_weights
from tfgan_eff.pieces import erk
from tfgan_eff.pieces.drop_grow import drop_grow
from tfgan_eff.pieces.mask_update import optimizer_moments
from tfgan_eff.pieces.sparse_weights import SparseWeights
from tfgan_eff.training.loop import batch_spec, load_data
from tfgan_eff.training.trainer import GANTrainer


def tiny_cfg():
    """The sparse smoke preset, 4 steps."""
    cfg = presets.smoke(presets.get("sparse"))
    cfg.model.latent_dim = 8
    cfg.train.update(steps=4, log_every=100)
    cfg.sparse.update(mode="dynamic_gd", update_every=2)
    cfg.eval.at_end = False
    cfg.export.enabled = False
    return cfg


def sparse_trainer(cfg, g, d, mode=None, seed=0, **kwargs):
    """A GANTrainer with a SparseWeights piece of cfg.sparse."""
    return GANTrainer(g, d, cfg.train, pieces=(SparseWeights(cfg.sparse, mode=mode, seed=seed),), **kwargs)


def sparse_of(trainer):
    return trainer.piece(SparseWeights)


def exact_zero_counts(mask_set, density):
    shapes = mask_set.shapes()
    return erk.zero_counts(shapes, erk.erk_densities(shapes, density))


def masked_positions_are_zero(mask_set):
    return all(np.all(k.numpy()[m.numpy() == 0] == 0) for k, m in zip(mask_set.kernels, mask_set.masks))


@pytest.fixture(scope="module")
def trained_trainer():
    """(cfg, a dynamic_gd sparse trainer after 2 fit steps, its mask update fn, its dataset, zeros per mask at init).

    Its updates reset the regrown weights' Adam moments (the RigL option); the official default keeps them.
    """
    cfg = tiny_cfg()
    cfg.sparse.reset_optimizer_state = True
    images, labels = load_data(cfg)
    keras.utils.set_random_seed(0)
    g, d, ema = registry.build_generator(cfg), registry.build_discriminator(cfg), registry.build_generator(cfg)
    copy_weights(ema, g)
    trainer = sparse_trainer(cfg, g, d, seed=3, ema_generator=ema)
    trainer.build_optimizers()
    trainer.compile()
    init_zeros = {"g": [int((m.numpy() == 0).sum()) for m in sparse_of(trainer).g_masks.masks],
                  "d": [int((m.numpy() == 0).sum()) for m in sparse_of(trainer).d_masks.masks]}
    dataset = pipeline.make_dataset(images, labels, batch_spec(cfg))
    trainer.fit(dataset, epochs=1, steps_per_epoch=2, verbose=0)
    update_fn = sparse_of(trainer).mask_update_function(trainer, tf.distribute.get_strategy(), batch_spec(cfg),
                                             (cfg.data.resolution,) * 2 + (cfg.data.channels,))
    return cfg, trainer, update_fn, dataset, init_zeros


def test_exact_nnz_after_init_and_masked_weights_after_steps(trained_trainer):
    cfg, trainer, _, _, init_zeros = trained_trainer
    for key, masks, density in (("g", sparse_of(trainer).g_masks, cfg.sparse.g_density),
                                ("d", sparse_of(trainer).d_masks, cfg.sparse.d_density)):
        assert init_zeros[key] == [exact_zero_counts(masks, density)[n] for n in masks.names]
        assert masked_positions_are_zero(masks)  # after 2 D and 2 G Adam steps on dense gradients
    ema_kernels = [layer.kernel.numpy()
                   for layer in trainer.ema_generator._flatten_layers()  # pylint: disable=protected-access
                   if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))]
    assert all(np.all(k[m.numpy() == 0] == 0) for k, m in zip(ema_kernels, sparse_of(trainer).g_masks.masks))
    assert int(trainer.step.numpy()) == 2
    assert np.isfinite(sparse_of(trainer).balance_ratio())  # measured on step 2, the step before the update


def test_update_keeps_nnz_and_zeroes_regrown_weights_and_moments(trained_trainer):
    cfg, trainer, update_fn, dataset, _ = trained_trainer
    sparse = sparse_of(trainer)
    sets = {"g": (sparse.g_masks, trainer.g_optimizer), "d": (sparse.d_masks, trainer.d_optimizer)}
    before = {key: ([m.numpy() for m in masks.masks], masks.nnz()) for key, (masks, _) in sets.items()}
    drop_fraction = update_fn(2)
    assert drop_fraction == pytest.approx(0.005 + 0.495 * 0.5 * (1 + np.cos(np.pi * 2 / cfg.train.steps)))
    regrown_g = []
    for key, (masks, optimizer) in sets.items():
        old_masks, old_nnz = before[key]
        assert masks.nnz() == old_nnz  # exact per-layer nnz through the update
        changed = False
        for old, mask, kernel, ever in zip(old_masks, masks.masks, masks.kernels, masks.ever_active):
            mask = mask.numpy()
            new = (mask == 1) & (old == 0)
            changed |= bool(new.any())
            assert np.all(kernel.numpy()[new] == 0) and np.all(kernel.numpy()[mask == 0] == 0)
            for moment in optimizer_moments(optimizer, kernel):
                assert np.all(moment.numpy()[new] == 0)
            np.testing.assert_array_equal(ever.numpy(), np.maximum(old, mask))
            if key == "g":
                regrown_g.append(new)
        assert changed, f"{key} masks did not change"
    # The next step trains the regrown weights; the sparse EMA takes their current value there (not a stale 0).
    trainer.fit(dataset, epochs=1, steps_per_epoch=1, verbose=0)
    ema_kernels = [layer.kernel.numpy()
                   for layer in trainer.ema_generator._flatten_layers()  # pylint: disable=protected-access
                   if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))]
    for new, ema_kernel, kernel in zip(regrown_g, ema_kernels, sparse_of(trainer).g_masks.kernels):
        np.testing.assert_array_equal(ema_kernel[new], kernel.numpy()[new])
    sparse = sparse_of(trainer)
    assert masked_positions_are_zero(sparse.g_masks) and masked_positions_are_zero(sparse.d_masks)


@pytest.fixture(scope="module")
def dynamic_g_trainer():
    """(cfg, a dynamic_g sparse trainer after 2 steps, its mask update fn, its batch iterator, D masks at init)."""
    cfg = tiny_cfg()
    cfg.sparse.mode = "dynamic_g"
    images, labels = load_data(cfg)
    keras.utils.set_random_seed(1)
    trainer = sparse_trainer(cfg, registry.build_generator(cfg), registry.build_discriminator(cfg), seed=5)
    trainer.build_optimizers()
    trainer.compile()
    d_masks = [m.numpy() for m in sparse_of(trainer).d_masks.masks]
    batches = iter(pipeline.make_dataset(images, labels, batch_spec(cfg)))
    for _ in range(2):
        trainer.train_step(next(batches))  # eagerly: tracing fit's step would cost more than these tests
    update_fn = sparse_of(trainer).mask_update_function(trainer, tf.distribute.get_strategy(), batch_spec(cfg),
                                             (cfg.data.resolution,) * 2 + (cfg.data.channels,))
    return cfg, trainer, update_fn, batches, d_masks


def _hinge_g_loss_grads(trainer, batch):
    """Dense gradients of -mean D(G(z)) w.r.t. G's masked kernels, written out here (no trainer code), with G's and
    D's state (BN statistics, spectral-norm vectors) put back afterwards."""
    g, d = trainer.generator, trainer.discriminator
    state = g.non_trainable_variables + d.non_trainable_variables
    saved = [v.numpy() for v in state]
    with tf.GradientTape() as tape:
        loss = -tf.reduce_mean(d(g(batch["z_g"], training=True), training=True))
    grads = tape.gradient(loss, sparse_of(trainer).g_masks.kernels)
    for var, value in zip(state, saved):
        var.assign(value)
    return [grad.numpy() for grad in grads]


def test_growth_takes_top_dense_gradient_positions_of_the_g_loss(dynamic_g_trainer):
    cfg, trainer, update_fn, _, _ = dynamic_g_trainer
    assert cfg.train.loss == "hinge" and not cfg.data.diffaug and not trainer.conditional
    step = int(trainer.step.numpy())
    # The batch the update function draws for this step: the G loss never reads the real images.
    batch = pipeline.step_batch(tf.zeros([1, cfg.data.resolution, cfg.data.resolution, cfg.data.channels], tf.uint8),
                                tf.zeros([1], tf.int64), batch_spec(cfg), step, 0, 1)
    independent = _hinge_g_loss_grads(trainer, batch)
    probe = [grad.numpy() for grad in sparse_of(trainer).probe_gradients(trainer, batch)]
    masks = sparse_of(trainer).g_masks
    old_masks, weights = [m.numpy() for m in masks.masks], [k.numpy() for k in masks.kernels]
    for grad, ref, mask in zip(probe, independent, old_masks):
        np.testing.assert_allclose(grad, ref, rtol=1e-4, atol=1e-7)
        assert np.count_nonzero(grad[mask == 0]) > 0.9 * np.sum(mask == 0)  # dense: inactive positions too
    drop_fraction = update_fn(step)
    differs_from_masked = False
    for mask_var, old, weight, grad, ref in zip(masks.masks, old_masks, weights, probe, independent):
        new = mask_var.numpy()
        expected, grown = drop_grow(weight, old, np.abs(grad), drop_fraction)
        np.testing.assert_array_equal(new, expected.numpy())
        # Top-|gradient| of the independent gradient: every grown position outranks every eligible one left out.
        grown = grown.numpy() > 0
        kept = (old > 0) & (new > 0) & ~grown
        left_out = ~kept & ~(new > 0)
        assert grown.any() and np.abs(ref[grown]).min() >= np.abs(ref[left_out]).max() * (1 - 1e-4)
        # Masked gradients (zero where inactive) would re-grow the dropped weights and leave the mask as it was.
        from_masked, _ = drop_grow(weight, old, np.abs(grad * old), drop_fraction)
        differs_from_masked |= not np.array_equal(from_masked.numpy(), new)
    assert differs_from_masked


def test_dynamic_g_explores_g_and_keeps_d_masks_fixed(dynamic_g_trainer):
    _, trainer, update_fn, batches, init_d_masks = dynamic_g_trainer
    assert sparse_of(trainer).d_updater is None
    g_before = [m.numpy() for m in sparse_of(trainer).g_masks.masks]
    update_fn(int(trainer.step.numpy()))
    trainer.train_step(next(batches))
    assert any(not np.array_equal(b, m.numpy()) for b, m in zip(g_before, sparse_of(trainer).g_masks.masks))
    d_masks = sparse_of(trainer).d_masks
    for init, mask, ever in zip(init_d_masks, d_masks.masks, d_masks.ever_active):
        np.testing.assert_array_equal(mask.numpy(), init)
        np.testing.assert_array_equal(ever.numpy(), init)  # no D position was ever switched on
    assert masked_positions_are_zero(sparse_of(trainer).d_masks)


def test_modes_and_errors():
    cfg = tiny_cfg()
    g, d = registry.build_generator(cfg), registry.build_discriminator(cfg)
    with pytest.raises(ValueError, match="sparse mode must be one of"):
        sparse_trainer(cfg, g, d, mode="dynamic")
    cfg.sparse.d_density = 1.0
    with pytest.raises(ValueError, match="set d_density < 1"):
        sparse_trainer(cfg, registry.build_generator(cfg), registry.build_discriminator(cfg), mode="dynamic_d")
    trainer = sparse_trainer(cfg, registry.build_generator(cfg), registry.build_discriminator(cfg), mode="static")
    assert sparse_of(trainer).d_masks is None and not sparse_of(trainer).explores
