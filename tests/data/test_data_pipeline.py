"""The input pipeline: deterministic batches per (seed, step), replica slices, DiffAugment."""

import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.data import diffaug, pipeline

IMAGES = np.random.default_rng(0).integers(0, 255, (20, 8, 8, 3), dtype=np.uint8)
LABELS = np.arange(20) % 4
SPEC = pipeline.BatchSpec(batch_size=4, g_batch_size=6, n_critic=2, latent_dim=3, num_classes=4, seed=1)


def _take(ds, n):
    return [{k: v.numpy() for k, v in e.items()} for e in ds.take(n)]


def test_element_shapes_and_ranges():
    (e,) = _take(pipeline.make_dataset(IMAGES, LABELS, SPEC), 1)
    assert e["real"].shape == (2, 4, 8, 8, 3) and e["z_d"].shape == (2, 4, 3) and e["z_g"].shape == (6, 3)
    assert e["aug_d"].shape == (2, 4, 2, diffaug.NOISE_DIM) and e["alpha_d"].shape == (2, 4)
    assert -1 <= e["real"].min() and e["real"].max() <= 1
    assert set(e["fake_labels_g"]) <= set(range(4))


def test_resume_starts_at_the_same_batch():
    full = _take(pipeline.make_dataset(IMAGES, LABELS, SPEC, start_step=0), 4)
    resumed = _take(pipeline.make_dataset(IMAGES, LABELS, SPEC, start_step=2), 2)
    for a, b in zip(full[2:], resumed):
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(full[0]["z_g"], full[1]["z_g"])


def test_fixed_prefetch_without_autotuning():
    """tf.data's autotuning is off (with it, freeing the iterator at the end of a run could take tens of seconds)."""
    ds = pipeline.make_dataset(IMAGES, LABELS, SPEC)
    assert ds.options().autotune.enabled is False


def test_replica_slices_tile_the_global_batch():
    whole = pipeline.step_batch(IMAGES, LABELS, SPEC, 3, 0, 1)
    parts = [pipeline.step_batch(IMAGES, LABELS, SPEC, 3, r, 2) for r in range(2)]
    np.testing.assert_array_equal(np.concatenate([p["real"] for p in parts], axis=1), whole["real"])
    np.testing.assert_array_equal(np.concatenate([p["z_g"] for p in parts], axis=0), whole["z_g"])


def test_indivisible_batch_refused():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])  # 1 replica: fine
    pipeline.make_dataset(IMAGES, LABELS, SPEC, strategy=strategy)

    class TwoReplicas:
        num_replicas_in_sync = 2
    bad = pipeline.BatchSpec(batch_size=5, g_batch_size=6, n_critic=1, latent_dim=3)
    with pytest.raises(ValueError, match="not divisible by the 2 replicas"):
        pipeline.make_dataset(IMAGES, LABELS, bad, strategy=TwoReplicas())


def test_diffaug_is_a_function_of_noise():
    x = tf.random.normal((3, 8, 8, 3))
    noise = tf.random.uniform((3, diffaug.NOISE_DIM))
    a = diffaug.diff_augment(x, noise, "color,translation,cutout")
    b = diffaug.diff_augment(x, noise, "color,translation,cutout")
    np.testing.assert_array_equal(a, b)
    assert a.shape == x.shape and not np.allclose(a, x)
    # cutout zeroes a square of ratio 0.5 (4x4 at 8x8), clipped where it leaves the image
    cut = diffaug.diff_augment(tf.ones((3, 8, 8, 1)), noise, "cutout").numpy()
    assert ((cut == 0).sum(axis=(1, 2, 3)) <= 16).all()
    centred = diffaug.diff_augment(tf.ones((1, 8, 8, 1)), np.full((1, diffaug.NOISE_DIM), 0.5, np.float32),
                                   "cutout").numpy()[0, ..., 0]
    assert (centred[2:6, 2:6] == 0).all() and centred.sum() == 64 - 16


def test_translation_shifts_with_zero_fill():
    x = tf.reshape(tf.range(1, 65, dtype=tf.float32), (1, 8, 8, 1))
    noise = np.zeros((1, diffaug.NOISE_DIM), np.float32)
    noise[0, 3] = 0.99  # dy = +1 (max shift), dx = -1 (min)
    out = diffaug.diff_augment(x, noise, "translation").numpy()[0, ..., 0]
    np.testing.assert_array_equal(out[1:, :-1], x.numpy()[0, :-1, 1:, 0])
    assert (out[0] == 0).all() and (out[:, -1] == 0).all()


def test_batch_larger_than_the_data_warns(caplog):
    """Legal (indices are drawn with replacement) but said once, with both numbers."""
    big = pipeline.BatchSpec(batch_size=len(IMAGES) + 1, g_batch_size=2, n_critic=1, latent_dim=3, num_classes=0,
                             seed=1)
    with caplog.at_level("WARNING"):
        (step,) = _take(pipeline.make_dataset(IMAGES, LABELS, big), 1)
    assert step["real"].shape[1] == len(IMAGES) + 1
    assert f"train.batch_size={len(IMAGES) + 1} is larger than the {len(IMAGES)} training images" in caplog.text
    caplog.clear()
    pipeline.make_dataset(IMAGES, LABELS, SPEC)
    assert "is larger than" not in caplog.text
