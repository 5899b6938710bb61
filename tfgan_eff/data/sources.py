"""Image sources, all loaded to memory as uint8 NHWC: built-in offline sets, a local TFDS data dir, an image folder.

Nothing is downloaded: TFDS is read with download=False from the directory the user gives.
"""

import os

import numpy as np
import tensorflow as tf
from absl import logging
from PIL import Image, UnidentifiedImageError

from tfgan_eff.data import offline
from tfgan_eff.data.names import folder_problem
from tfgan_eff.errors import UserError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
# A folder image whose shorter side is upscaled more than this to data.resolution is skipped (with a warning): it is
# mostly interpolation (a 1x1 image becomes a flat colour), not data.
MAX_UPSCALE = 4


class DataNotFoundError(UserError, FileNotFoundError):
    """A dataset the config names is not where the config says; the message says what to pass."""


def center_crop_resize(image, resolution):
    """Centre-crops a PIL image to a square and resizes it (bicubic) to resolution x resolution."""
    w, h = image.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    return image.crop((left, top, left + side, top + side)).resize((resolution, resolution), Image.Resampling.BICUBIC)


def _finish(images, channels):
    if channels == 1 and images.shape[-1] == 3:
        return np.round(images.mean(axis=-1, keepdims=True)).astype(np.uint8)
    if channels == 3 and images.shape[-1] == 1:
        return np.repeat(images, 3, axis=-1)
    return images


def load_folder(path, resolution, channels=3, max_examples=0):
    """Loads every image file under `path` (recursively), centre-cropped and resized.

    Labels come from first-level sub-folder names (sorted) when there are sub-folders, else 0. Unreadable files are
    skipped and counted. Returns (images, labels, stats dict with `skipped`).
    """
    if not os.path.isdir(path):
        raise DataNotFoundError(f"image folder {path!r} {folder_problem(path)}; pass "
                                "data.source=folder:/path/to/images")
    classes = sorted(e.name for e in os.scandir(path) if e.is_dir())
    files = []
    for root, _, names in os.walk(path):
        files += [os.path.join(root, n) for n in sorted(names) if n.lower().endswith(IMAGE_EXTENSIONS)]
    files.sort()
    images, labels, skipped, upscaled = [], [], 0, 0
    for file in files:
        if max_examples and len(images) >= max_examples:
            break
        try:
            with Image.open(file) as im:
                side = min(im.size)
                if side * MAX_UPSCALE < resolution:
                    raise ValueError(f"{im.size[0]}x{im.size[1]} px would be upscaled over {MAX_UPSCALE}x to "
                                     f"{resolution} px")
                upscaled += side < resolution
                image = center_crop_resize(im.convert("RGB"), resolution)
        except (UnidentifiedImageError, OSError, ValueError) as err:
            skipped += 1
            logging.warning("skipping image %s: %s", file, err)
            continue
        images.append(np.asarray(image, np.uint8))
        rel = os.path.relpath(file, path).split(os.sep)
        labels.append(classes.index(rel[0]) if len(rel) > 1 and rel[0] in classes else 0)
    if not images:
        raise DataNotFoundError(f"no usable images ({', '.join(IMAGE_EXTENSIONS)}) under {path!r} ({skipped} "
                                "unreadable or too small, see the warnings); point data.source=folder:PATH at a folder "
                                "of images")
    if upscaled:
        logging.warning("folder %s: %d of %d images are smaller than %d px and were upscaled (blurred)", path,
                        upscaled, len(images), resolution)
    logging.info("folder %s: %d images, %d skipped", path, len(images), skipped)
    return _finish(np.stack(images), channels), np.asarray(labels, np.int64), {"skipped": skipped}


def load_tfds(name, data_dir, split, resolution, channels=3, max_examples=0):
    """Reads a prepared TFDS dataset from a local data dir (never downloads)."""
    # Optional at run time: tensorflow_datasets takes seconds to import and only `tfds:` sources need it.
    import tensorflow_datasets as tfds

    searched = data_dir or os.environ.get("TFDS_DATA_DIR", "~/tensorflow_datasets")
    try:
        ds = tfds.load(name, split=split, data_dir=data_dir or None, download=False)
    except Exception as err:  # tfds raises several types (AssertionError, DatasetNotFoundError, ...)
        raise DataNotFoundError(
            f"TFDS dataset {name!r} (split {split!r}) is not prepared in {searched!r}: {err}. Prepare it on a machine "
            f"with internet (`tfds build {name} --data_dir=DIR`), copy DIR here and pass "
            f"--config.data.tfds_data_dir=DIR") from err
    if max_examples:
        ds = ds.take(max_examples)
    images, labels = [], []
    for example in tfds.as_numpy(ds):
        image = example["image"]
        if image.shape[0] != resolution or image.shape[1] != resolution:
            side = min(image.shape[:2])
            image = tf.image.resize_with_crop_or_pad(image, side, side)
            image = tf.image.resize(image, (resolution, resolution), antialias=True).numpy()
            image = np.clip(np.round(image), 0, 255).astype(np.uint8)
        images.append(image)
        labels.append(int(example.get("label", 0)))
    return _finish(np.stack(images), channels), np.asarray(labels, np.int64)


def load_images(data_cfg):
    """Loads the source named by `data_cfg.source` as (uint8 images [N,H,W,C], int64 labels [N])."""
    source = data_cfg.source
    if source in offline.OFFLINE_DATASETS:
        return offline.load(source, data_cfg.resolution, data_cfg.channels, data_cfg.num_examples, seed=0)
    if source.startswith("tfds:"):
        return load_tfds(source[5:], data_cfg.tfds_data_dir, data_cfg.split, data_cfg.resolution,
                         data_cfg.channels, data_cfg.max_examples)
    if source.startswith("folder:"):
        images, labels, _ = load_folder(source[7:], data_cfg.resolution, data_cfg.channels, data_cfg.max_examples)
        return images, labels
    raise ValueError(f"unknown data.source {source!r}; use digits, shapes, tfds:NAME or folder:PATH")
