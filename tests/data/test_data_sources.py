"""Data sources: built-in digits and shapes, image folders, prepared TFDS data."""

import os

import numpy as np
import pytest

from tfgan_eff.config import presets
from tfgan_eff.data import offline, sources


def test_digits():
    images, labels = offline.load("digits", resolution=32, channels=3)
    assert images.shape == (1797, 32, 32, 3) and images.dtype == np.uint8
    assert images.max() == 255 and images.min() == 0
    assert set(labels) == set(range(10))
    gray, _ = offline.load("digits", resolution=16, channels=1)
    assert gray.shape == (1797, 16, 16, 1)


def test_shapes_are_seeded_and_sized():
    a, la = offline.load("shapes", resolution=32, num_examples=50, seed=3)
    b, lb = offline.load("shapes", resolution=32, num_examples=50, seed=3)
    c, _ = offline.load("shapes", resolution=32, num_examples=50, seed=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert not np.array_equal(a, c)
    assert a.shape == (50, 32, 32, 3) and set(la) <= {0, 1, 2}
    # a shape covers a real part of the image and is brighter than the dark background
    assert (a.max(axis=(1, 2, 3)) > 100).all()


def _write_folder(root):
    from PIL import Image
    rng = np.random.default_rng(0)
    for cls in ("cats", "dogs"):
        os.makedirs(root / cls)
        for i in range(3):
            Image.fromarray(rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)).save(root / cls / f"{i}.png")
    (root / "dogs" / "broken.jpg").write_bytes(b"not an image")
    (root / "notes.txt").write_text("ignored")


def test_folder_loader_crops_resizes_labels_and_skips(tmp_path):
    _write_folder(tmp_path)
    images, labels, stats = sources.load_folder(str(tmp_path), resolution=16, channels=3)
    assert images.shape == (6, 16, 16, 3)
    assert sorted(labels.tolist()) == [0, 0, 0, 1, 1, 1]
    assert stats["skipped"] == 1
    capped, _, _ = sources.load_folder(str(tmp_path), resolution=8, channels=1, max_examples=4)
    assert capped.shape == (4, 8, 8, 1)


def test_folder_errors(tmp_path):
    with pytest.raises(sources.DataNotFoundError, match="does not exist"):
        sources.load_folder(str(tmp_path / "missing"), 16)
    with pytest.raises(sources.DataNotFoundError, match="no usable images"):
        sources.load_folder(str(tmp_path), 16)
    with pytest.raises(sources.DataNotFoundError, match="is a file, not a folder"):
        sources.load_folder(__file__, 16)


def test_folder_skips_images_too_small_to_upscale(tmp_path, caplog):
    from PIL import Image
    for name, side in (("dot.png", 1), ("small.png", 3), ("ok.png", 8), ("big.png", 20)):
        Image.fromarray(np.full((side, side, 3), 200, np.uint8)).save(tmp_path / name)
    with caplog.at_level("WARNING"):
        images, _, stats = sources.load_folder(str(tmp_path), resolution=16)
    assert images.shape[0] == 2 and stats["skipped"] == 2  # 1 and 3 px would be upscaled over 4x to 16 px
    assert "1x1 px would be upscaled over 4x" in caplog.text
    assert "1 of 2 images are smaller than 16 px and were upscaled" in caplog.text
    with pytest.raises(sources.DataNotFoundError, match="unreadable or too small"):
        sources.load_folder(str(tmp_path), resolution=128)


def test_tfds_source_reads_prepared_data_from_disk(tiny_tfds_dir, tiny_cifar10):
    cfg = presets.baseline().data
    cfg.update(source="tfds:cifar10", tfds_data_dir=tiny_tfds_dir, resolution=32, split="test")
    images, labels = sources.load_images(cfg)  # at its own size: the exact pixels and labels written
    np.testing.assert_array_equal(images, tiny_cifar10["test"][0])
    np.testing.assert_array_equal(labels, tiny_cifar10["test"][1])

    cfg.update(split="train", resolution=16, channels=1, max_examples=5)
    images, labels = sources.load_images(cfg)
    assert images.shape == (5, 16, 16, 1) and images.dtype == np.uint8
    np.testing.assert_array_equal(labels, tiny_cifar10["train"][1][:5])
    # Resized (antialiased) and averaged to gray: the mean brightness of each image survives.
    np.testing.assert_allclose(images.mean(axis=(1, 2, 3)), tiny_cifar10["train"][0][:5].mean(axis=(1, 2, 3)),
                               atol=2.0)


def test_tfds_missing_says_what_to_pass(tmp_path):
    cfg = presets.baseline().data
    cfg.update(source="tfds:cifar10", tfds_data_dir=str(tmp_path))
    with pytest.raises(sources.DataNotFoundError, match="tfds_data_dir"):
        sources.load_images(cfg)
