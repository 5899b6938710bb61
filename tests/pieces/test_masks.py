"""sparsify / MaskSet / strip_masks on a tiny generator with SpectralNorm, Conv2DTranspose, Dense, BN, Embedding."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.ops.spectral_norm import SpectralNorm
from tfgan_eff.pieces import erk
from tfgan_eff.pieces.masks import SLOT_ATTR, MaskSet, sparsify, strip_masks


def kernel_values(mask_set):
    return [k.numpy() for k in mask_set.kernels]


def test_finds_exactly_the_conv_kernels_including_spectral_norm(make_model):
    model = make_model()
    mask_set = sparsify(model, 0.3)
    expected = [model.up.kernel, model.conv_sn.layer.kernel, model.to_rgb.kernel]
    assert sorted(id(k) for k in mask_set.kernels) == sorted(id(k) for k in expected)
    assert isinstance(model.conv_sn, SpectralNorm)
    for layer in (model.fc, model.embed, model.bn, model.conv_sn):
        assert getattr(layer, SLOT_ATTR, None) is None
    # Masks are not Keras weights: the model's weight list is unchanged.
    assert all("mask" not in w.path and "ever_active" not in w.path for w in model.weights)


@pytest.mark.parametrize("distribution", ["erk", "uniform"])
def test_exact_zero_counts_and_masked_kernels(make_model, distribution):
    model = make_model()
    dense_before = [w.numpy() for w in model.fc.weights + model.bn.weights + model.embed.weights]
    mask_set = sparsify(model, 0.3, distribution=distribution, seed=3)
    shapes = mask_set.shapes()
    zeros = erk.zero_counts(shapes, erk.erk_densities(shapes, 0.3, distribution))
    for name, mask, kernel in zip(mask_set.names, mask_set.masks, mask_set.kernels):
        mask = mask.numpy()
        assert set(np.unique(mask)) <= {0.0, 1.0}
        assert int((mask == 0).sum()) == zeros[name]
        assert np.all(kernel.numpy()[mask == 0] == 0)
        assert np.count_nonzero(kernel.numpy()[mask == 1]) == mask.sum()  # active weights untouched (non-zero)
    np.testing.assert_array_equal(mask_set.masks[0].numpy(), mask_set.ever_active[0].numpy())
    assert mask_set.nnz() == {name: int(np.prod(shapes[name])) - zeros[name] for name in shapes}
    for before, after in zip(dense_before, model.fc.weights + model.bn.weights + model.embed.weights):
        np.testing.assert_array_equal(before, after.numpy())


def test_seed_controls_positions(make_model):
    masks_a = [m.numpy() for m in sparsify(make_model(), 0.3, seed=1).masks]
    masks_b = [m.numpy() for m in sparsify(make_model(), 0.3, seed=1).masks]
    masks_c = [m.numpy() for m in sparsify(make_model(), 0.3, seed=2).masks]
    assert all(np.array_equal(a, b) for a, b in zip(masks_a, masks_b))
    assert not all(np.array_equal(a, c) for a, c in zip(masks_a, masks_c))


def test_masked_weights_stay_zero_after_optimizer_step_and_apply(make_model, inputs):
    model = make_model()
    mask_set = sparsify(model, 0.2)
    optimizer = keras.optimizers.Adam(1e-2)
    optimizer.build(model.trainable_variables)

    @tf.function
    def train_step(z, labels):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(z, labels, training=True)))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))

    train_step(*inputs)
    # Gradients are dense, so the step itself revives masked weights...
    assert any(np.any(k[m.numpy() == 0] != 0) for k, m in zip(kernel_values(mask_set), mask_set.masks))
    tf.function(mask_set.apply)()
    # ... and apply() zeroes them again while active weights keep their new values.
    for kernel, mask in zip(kernel_values(mask_set), mask_set.masks):
        assert np.all(kernel[mask.numpy() == 0] == 0)
        assert np.count_nonzero(kernel[mask.numpy() == 1]) == mask.numpy().sum()


def test_masks_survive_checkpoint_restore_into_fresh_model(make_model, inputs, tmp_path):
    model = make_model(seed=0)
    mask_set = sparsify(model, 0.3, seed=11)
    saved_masks = [m.numpy() for m in mask_set.masks]
    path = tf.train.Checkpoint(model=model).save(str(tmp_path / "ckpt"))
    assert any(SLOT_ATTR in name for name, _ in tf.train.list_variables(path))

    fresh = make_model(seed=1)
    fresh_set = sparsify(fresh, 0.3, seed=12)  # different masks until restored
    assert not all(np.array_equal(a, b.numpy()) for a, b in zip(saved_masks, fresh_set.masks))
    tf.train.Checkpoint(model=fresh).restore(path).assert_consumed()
    for saved, restored in zip(saved_masks, fresh_set.masks):
        np.testing.assert_array_equal(saved, restored.numpy())
    np.testing.assert_allclose(fresh(*inputs).numpy(), model(*inputs).numpy(), atol=1e-6)


def test_strip_masks_keeps_outputs_and_zeros(make_model, inputs, tmp_path):
    model = make_model()
    mask_set = sparsify(model, 0.25)
    before = model(*inputs).numpy()
    zeros_before = [int((k == 0).sum()) for k in kernel_values(mask_set)]
    kernels = mask_set.kernels
    assert strip_masks(model) is model
    np.testing.assert_array_equal(model(*inputs).numpy(), before)
    assert [int((k.numpy() == 0).sum()) for k in kernels] == zeros_before
    assert all(getattr(layer, SLOT_ATTR, None) is None for layer in mask_set.layers)
    path = tf.train.Checkpoint(model=model).save(str(tmp_path / "plain"))
    assert not any(SLOT_ATTR in name for name, _ in tf.train.list_variables(path))
    with pytest.raises(ValueError, match="no masks"):
        MaskSet.from_model(model)


def test_from_model_and_errors(make_model):
    model = make_model()
    mask_set = sparsify(model, 0.5)
    again = MaskSet.from_model(model)
    assert [id(m) for m in again.masks] == [id(m) for m in mask_set.masks]
    with pytest.raises(ValueError, match="already has masks"):
        sparsify(model, 0.5)
    dense_only = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="no Conv2D"):
        sparsify(dense_only, 0.5)
    unbuilt = keras.Sequential([keras.layers.Conv2D(2, 3)])  # never called, so the conv has no kernel yet
    with pytest.raises(ValueError, match="not built"):
        sparsify(unbuilt, 0.5)


def test_magnitude_init_keeps_the_largest_weights_of_each_layer(make_model):
    model = make_model()
    before = {id(layer.kernel): layer.kernel.numpy() for layer in (model.up, model.conv_sn.layer, model.to_rgb)}
    mask_set = sparsify(model, 0.3, init="magnitude")
    shapes = mask_set.shapes()
    zeros = erk.zero_counts(shapes, erk.erk_densities(shapes, 0.3))
    for name, mask, kernel in zip(mask_set.names, mask_set.masks, mask_set.kernels):
        mask, weights = mask.numpy(), before[id(kernel)]
        assert int((mask == 0).sum()) == zeros[name]
        if zeros[name]:
            assert np.abs(weights[mask == 1]).min() >= np.abs(weights[mask == 0]).max()
    with pytest.raises(ValueError, match="init must be one of"):
        sparsify(make_model(), 0.3, init="lottery")
