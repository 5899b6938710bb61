"""SavedModel export of a generator with a `serve(z[, y]) -> {"images"}` signature."""

import json
import os

import keras
import numpy as np
import tensorflow as tf

from tfgan_eff.errors import UserError
from tfgan_eff.files import atomic_write_dir

SIGNATURE_KEY = "serve"
OUTPUT_KEY = "images"
# Sidecar read by the TFLite converter (representative labels) and by loaders; assets.extra is the
# SavedModel convention for files TF itself ignores.
METADATA_RELPATH = os.path.join("assets.extra", "generator.json")
_SERVING_KEYS = ("latent_dim", "num_classes", "resolution", "channels")  # what a loader needs from the metadata


def generator_metadata(generator):
    """The generator attributes an exported model needs to be used without its Python class."""
    for name in ("latent_dim", "num_classes"):
        if not hasattr(generator, name):
            raise ValueError(
                f"generator {type(generator).__name__} has no `{name}` attribute; generators must expose "
                "latent_dim, num_classes, resolution and channels (tfgan_eff.models.base.Generator)."
            )
    return {
        "latent_dim": int(generator.latent_dim),
        "num_classes": int(generator.num_classes),
        "resolution": int(getattr(generator, "resolution", 0)),
        "channels": int(getattr(generator, "channels", 0)),
        "class_name": type(generator).__name__,
        "output_range": [-1.0, 1.0],
        "signature": SIGNATURE_KEY,
        "output_key": OUTPUT_KEY,
    }


def serving_input_signature(latent_dim, num_classes, batch_size=None):
    """TensorSpecs of the serve signature: z float32 [B, latent_dim] and, if conditional, y int32 [B]."""
    specs = [tf.TensorSpec([batch_size, latent_dim], tf.float32, name="z")]
    if num_classes > 0:
        specs.append(tf.TensorSpec([batch_size], tf.int32, name="y"))
    return specs


def _ensure_built(generator, meta):
    # Variables must exist before tracing the endpoint: creating them inside tf.function fails.
    if generator.built:
        return
    z = np.zeros((1, meta["latent_dim"]), np.float32)
    labels = np.zeros((1,), np.int32) if meta["num_classes"] > 0 else None
    generator(z, labels=labels, training=False)


def _serve_fn(generator, conditional):
    if conditional:

        def serve(z, y):
            return {OUTPUT_KEY: tf.cast(generator(z, labels=y, training=False), tf.float32)}

    else:

        def serve(z):
            return {OUTPUT_KEY: tf.cast(generator(z, training=False), tf.float32)}

    return serve


def export_saved_model(generator, path, source=None):
    """Exports `generator` as a SavedModel with signature `serve` (also aliased as `serving_default`).

    Inputs: `z` float32 [None, latent_dim] and, when `generator.num_classes > 0`, `y` int32 [None].
    Output: {"images": float32 [None, H, W, C] in [-1, 1]} computed with `training=False`.
    Also writes `assets.extra/generator.json` (latent_dim, num_classes, resolution, channels, and `source`, what the
    generator holds, e.g. {"step": N, "checkpoint": prefix}, when given).
    The directory is written next to `path` and renamed into place, so `path` is never half-written.

    Returns:
      The absolute path of the SavedModel directory.
    """
    meta = generator_metadata(generator)
    _ensure_built(generator, meta)
    if source is not None:
        meta["source"] = source

    def write(tmp_path):
        archive = keras.export.ExportArchive()
        # No archive.track(generator): endpoint variables are tracked automatically, and tracking a
        # subclassed model makes TF trace Keras' default `serving_default(inputs)`, which fails for
        # generators whose call needs labels.
        archive.add_endpoint(
            SIGNATURE_KEY,
            _serve_fn(generator, meta["num_classes"] > 0),
            input_signature=serving_input_signature(meta["latent_dim"], meta["num_classes"]),
        )
        archive.write_out(tmp_path, verbose=False)
        os.makedirs(os.path.join(tmp_path, "assets.extra"), exist_ok=True)
        with open(os.path.join(tmp_path, METADATA_RELPATH), "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=2)

    return atomic_write_dir(path, write)


class NotAGeneratorExportError(UserError, FileNotFoundError):
    """A SavedModel that `export_saved_model` did not write (a discriminator's, another model's) or a damaged one."""

    def __init__(self, path, reason):
        super().__init__(f"{path} is not a generator SavedModel exported by tfgan_eff ({reason}): export the run with "
                         "`python -m tfgan_eff.export --workdir=RUN_DIR` and pass RUN_DIR/export/saved_model, or "
                         "pass the run's work dir itself")


def read_export_metadata(saved_model_path):
    """Reads the generator metadata written by `export_saved_model` (a dict, see `generator_metadata`); raises
    NotAGeneratorExportError when `saved_model_path` has none (another model's SavedModel) or it is damaged."""
    meta_path = os.path.join(os.fspath(saved_model_path), METADATA_RELPATH)
    try:
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
        missing = [key for key in _SERVING_KEYS if not isinstance(meta.get(key), int)]
    except FileNotFoundError as err:
        raise NotAGeneratorExportError(saved_model_path, f"it has no {METADATA_RELPATH}") from err
    except (OSError, ValueError, AttributeError) as err:  # unreadable, not JSON, or not a JSON object
        raise NotAGeneratorExportError(saved_model_path, f"its {METADATA_RELPATH} is unreadable ({err})") from err
    if missing:
        raise NotAGeneratorExportError(saved_model_path, f"its {METADATA_RELPATH} lacks {', '.join(missing)}")
    return meta
