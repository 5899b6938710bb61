"""MaskUpdater: one prune-and-regrow update with kernel, optimizer-moment and ever-active bookkeeping."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.pieces.drop_grow import cosine_drop_fraction, drop_grow
from tfgan_eff.pieces.masks import sparsify
from tfgan_eff.pieces.mask_update import MaskUpdater, optimizer_moments


def loss_fn(model, inputs):
    return tf.reduce_mean(tf.square(model(*inputs, training=True) - 0.5))


def trained(make_model, inputs, seed=0):
    """A sparsified model after two masked Adam steps, so weights and moments are non-trivial."""
    model = make_model(seed=seed)
    mask_set = sparsify(model, 0.3, seed=seed)
    optimizer = keras.optimizers.Adam(1e-2)
    optimizer.build(model.trainable_variables)
    for _ in range(2):
        with tf.GradientTape() as tape:
            loss = loss_fn(model, inputs)
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        mask_set.apply()
    return model, mask_set, optimizer


def kernel_grads(model, mask_set, inputs):
    """Dense gradients of the loss with respect to the masked kernels."""
    with tf.GradientTape() as tape:
        loss = loss_fn(model, inputs)
    return tape.gradient(loss, mask_set.kernels)


def snapshot(mask_set, optimizer):
    return {
        "kernels": [k.numpy() for k in mask_set.kernels],
        "masks": [m.numpy() for m in mask_set.masks],
        "ever": [e.numpy() for e in mask_set.ever_active],
        "moments": [[v.numpy() for v in optimizer_moments(optimizer, k)] for k in mask_set.kernels],
    }


@pytest.mark.parametrize("reset", [True, False])
def test_gradient_update_bookkeeping(make_model, inputs, reset):
    model, mask_set, optimizer = trained(make_model, inputs)
    grads = kernel_grads(model, mask_set, inputs)
    before = snapshot(mask_set, optimizer)
    newly_active = MaskUpdater(mask_set, optimizer, reset_optimizer_state=reset).update(0.5, grads)
    after = snapshot(mask_set, optimizer)

    assert len(before["moments"][0]) == 2  # Adam m and v
    for i in range(len(mask_set.kernels)):
        expected_mask, expected_new = drop_grow(before["kernels"][i], before["masks"][i], tf.abs(grads[i]), 0.5)
        new = expected_new.numpy() > 0
        np.testing.assert_array_equal(after["masks"][i], expected_mask.numpy())
        np.testing.assert_array_equal(newly_active[i].numpy(), expected_new.numpy())
        assert after["masks"][i].sum() == before["masks"][i].sum()  # nnz constant per layer
        assert new.any()
        # Regrown weights start at zero, dropped ones are zeroed, kept ones are untouched.
        kept = (before["masks"][i] > 0) & (after["masks"][i] > 0)
        assert np.all(after["kernels"][i][after["masks"][i] == 0] == 0)
        assert np.all(after["kernels"][i][new] == 0)
        np.testing.assert_array_equal(after["kernels"][i][kept], before["kernels"][i][kept])
        np.testing.assert_array_equal(after["ever"][i], np.maximum(before["ever"][i], after["masks"][i]))
        for moment_before, moment_after in zip(before["moments"][i], after["moments"][i]):
            assert np.all(moment_before[new] != 0)  # dense gradients made every moment non-zero
            if reset:
                assert np.all(moment_after[new] == 0)
                np.testing.assert_array_equal(moment_after[~new], moment_before[~new])
            else:
                np.testing.assert_array_equal(moment_after, moment_before)


@pytest.mark.parametrize("reset", [False, True])
def test_regrown_weight_takes_the_hand_computed_adam_step(make_model, inputs, reset):
    """The first step of a regrown weight (value 0) is Keras Adam's step from the moments it keeps (the official
    STU-GAN code) or from zeroed moments (RigL): then m = (1 - b1) g and v = (1 - b2) g^2, a step of about
    lr_t (1 - b1) / sqrt(1 - b2) whatever |g| is."""
    model, mask_set, optimizer = trained(make_model, inputs)
    moments = [[v.numpy() for v in optimizer_moments(optimizer, k)] for k in mask_set.kernels]
    newly_active = MaskUpdater(mask_set, optimizer, reset_optimizer_state=reset).update(
        0.5, kernel_grads(model, mask_set, inputs))
    with tf.GradientTape() as tape:
        loss = loss_fn(model, inputs)
    grads = dict(zip([id(v) for v in model.trainable_variables], tape.gradient(loss, model.trainable_variables)))
    optimizer.apply_gradients([(grads[id(v)], v) for v in model.trainable_variables])

    lr, b1, b2, eps = 1e-2, optimizer.beta_1, optimizer.beta_2, optimizer.epsilon
    t = 3  # two steps in trained(), this is the third
    lr_t = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    for kernel, new, (m0, v0) in zip(mask_set.kernels, newly_active, moments):
        new = new.numpy() > 0
        g = grads[id(kernel)].numpy().astype(np.float64)[new]
        m0, v0 = (0.0, 0.0) if reset else (m0[new], v0[new])
        m, v = b1 * m0 + (1 - b1) * g, b2 * v0 + (1 - b2) * g ** 2
        np.testing.assert_allclose(kernel.numpy()[new], -lr_t * m / (np.sqrt(v) + eps), rtol=1e-4, atol=1e-9)
        if reset:  # the step no longer depends on the gradient's size
            big = np.abs(g) > 1e-4
            np.testing.assert_allclose(np.abs(kernel.numpy()[new][big]), lr_t * (1 - b1) / np.sqrt(1 - b2),
                                       rtol=1e-2)


def test_random_growth_reproducible_for_same_step(make_model, inputs):
    results = []
    for step in (5, 5, 6):
        _, mask_set, optimizer = trained(make_model, inputs)
        MaskUpdater(mask_set, optimizer, grow="random", seed=3).update(0.3, step=step)
        results.append([m.numpy() for m in mask_set.masks])
    assert all(np.array_equal(a, b) for a, b in zip(results[0], results[1]))
    assert not all(np.array_equal(a, c) for a, c in zip(results[0], results[2]))


def test_update_in_tf_function_matches_eager(make_model, inputs):
    masks = []
    for compiled in (False, True):
        model, mask_set, optimizer = trained(make_model, inputs)
        updater = MaskUpdater(mask_set, optimizer)
        nnz = mask_set.nnz()

        def update_step():
            # pylint: disable=cell-var-from-loop  # called in this iteration
            grads = kernel_grads(model, mask_set, inputs)
            updater.update(cosine_drop_fraction(optimizer.iterations, 10), grads, step=optimizer.iterations)

        (tf.function(update_step) if compiled else update_step)()
        assert mask_set.nnz() == nnz
        masks.append([m.numpy() for m in mask_set.masks])
    assert all(np.array_equal(a, b) for a, b in zip(*masks))


def test_errors_say_what_to_pass(make_model, inputs):
    model = make_model()
    mask_set = sparsify(model, 0.3)
    with pytest.raises(ValueError, match="grow must be"):
        MaskUpdater(mask_set, None, grow="magnitude")
    with pytest.raises(ValueError, match="needs the optimizer"):
        MaskUpdater(mask_set, None, reset_optimizer_state=True)
    with pytest.raises(ValueError, match="one gradient per masked kernel"):
        MaskUpdater(mask_set, None).update(0.1)
    unbuilt = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="build the optimizer"):
        MaskUpdater(mask_set, unbuilt, reset_optimizer_state=True).update(0.1, kernel_grads(model, mask_set, inputs))
    sgd = keras.optimizers.SGD()
    sgd.build(model.trainable_variables)
    with pytest.raises(ValueError, match="reset_optimizer_state=False"):
        optimizer_moments(sgd, mask_set.kernels[0])
