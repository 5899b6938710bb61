"""SavedModel -> TFLite flatbuffer in three modes, with a fixed batch size (1 by default).

Modes:
  float32       plain conversion.
  dynamic_int8  dynamic-range quantisation: int8 weights, float activations (no calibration data).
  full_int8     full-integer quantisation: int8 weights and activations, calibrated on a representative
                set of z (and labels); only int8 builtin ops are allowed, so a model with an op that has
                no int8 kernel fails to convert instead of silently keeping float ops. Input z and output
                images stay float32 (the converter inserts QUANTIZE / DEQUANTIZE at the edges), labels y
                stay int32, so every mode has the same interface.

The TFLite signature is called "serve" (inputs "z"[, "y"], output "images") like the SavedModel.
"""

import os
import tempfile

import numpy as np
import tensorflow as tf

from tfgan_eff.errors import UserError
from tfgan_eff.export.saved_model import SIGNATURE_KEY, read_export_metadata, serving_input_signature
from tfgan_eff.lists import comma_list

MODES = ("float32", "dynamic_int8", "full_int8")


class ExportModeError(UserError, ValueError):
    """Export modes that are not TFLite modes, or none at all."""


def check_mode(mode):
    """Raises ExportModeError unless `mode` is one of MODES."""
    check_modes((mode,))


def check_modes(modes):
    """`modes` (a sequence of names, or one comma-separated string) as a tuple; raises ExportModeError naming the
    valid modes when it is empty or holds another name."""
    modes = tuple(comma_list(modes)) if isinstance(modes, str) else tuple(modes)
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        problem = f"unknown TFLite mode(s) {', '.join(map(repr, unknown))}" if unknown else "no TFLite mode given"
        raise ExportModeError(f"{problem}: pass one or more of {', '.join(MODES)} (e.g. --modes={','.join(MODES)})")
    return modes


def representative_inputs(latent_dim, num_classes, num_examples, batch_size=1, seed=1):
    """Calibration inputs: a list of {"z": float32 [B, latent_dim], ("y": int32 [B])} with z ~ N(0, 1).

    Use a seed different from the evaluation z so errors are not measured on the calibration set.
    """
    rng = np.random.default_rng(seed)
    examples = []
    for _ in range(num_examples):
        example = {"z": rng.standard_normal((batch_size, latent_dim)).astype(np.float32)}
        if num_classes > 0:
            example["y"] = rng.integers(0, num_classes, size=(batch_size,)).astype(np.int32)
        examples.append(example)
    return examples


def _save_fixed_batch(saved_model_path, batch_size, out_dir):
    """Re-saves the `serve` signature with a static batch dimension (None keeps it dynamic)."""
    loaded = tf.saved_model.load(saved_model_path)
    if SIGNATURE_KEY not in loaded.signatures:
        raise ValueError(
            f"{saved_model_path} has no {SIGNATURE_KEY!r} signature (found {list(loaded.signatures)}); "
            "export it with tfgan_eff.export.export_saved_model."
        )
    serve = loaded.signatures[SIGNATURE_KEY]
    kw_specs = serve.structured_input_signature[1]
    latent_dim = int(kw_specs["z"].shape[-1])
    conditional = "y" in kw_specs
    specs = serving_input_signature(latent_dim, 1 if conditional else 0, batch_size)

    module = tf.Module()
    module.loaded = loaded  # tracks the variables
    if conditional:
        fixed = tf.function(lambda z, y: serve(z=z, y=y), input_signature=specs)
    else:
        fixed = tf.function(lambda z: serve(z=z), input_signature=specs)
    module.serve = fixed
    tf.saved_model.save(module, out_dir, signatures={SIGNATURE_KEY: fixed.get_concrete_function()})
    return latent_dim, conditional


def convert_to_tflite(
    saved_model_path,
    mode,
    *,
    batch_size=1,
    representative_data=None,
    num_representative=64,
    num_classes=None,
    seed=1,
    sparsify=False,
):
    """Converts the `serve` signature of a SavedModel to a TFLite flatbuffer.

    Args:
      saved_model_path: a directory written by `export_saved_model`.
      mode: "float32" | "dynamic_int8" | "full_int8" (see module docstring).
      batch_size: static batch of the TFLite inputs; 1 (default) is the on-device case and what
        per-image latency is measured with. None keeps a dynamic batch (callers then resize inputs).
      representative_data: full_int8 only; a list (or zero-arg callable returning an iterable) of
        {"z": [batch_size, latent_dim] float32, "y": [batch_size] int32} dicts. Default:
        `num_representative` draws from `representative_inputs` with `seed`.
      num_representative: number of calibration examples when representative_data is None.
      num_classes: label range for default calibration labels; read from the SavedModel's
        assets.extra/generator.json when None.
      seed: seed of the default calibration inputs.
      sparsify: also apply `tf.lite.Optimize.EXPERIMENTAL_SPARSITY` (stores sufficiently sparse
        weights in a compressed format decoded by DENSIFY ops).

    Returns:
      The flatbuffer as bytes.
    """
    check_mode(mode)
    saved_model_path = os.fspath(saved_model_path)
    with tempfile.TemporaryDirectory(prefix="tfgan_eff_tflite_") as tmp:
        fixed_path = os.path.join(tmp, "fixed")
        latent_dim, conditional = _save_fixed_batch(saved_model_path, batch_size, fixed_path)
        converter = tf.lite.TFLiteConverter.from_saved_model(fixed_path, signature_keys=[SIGNATURE_KEY])
        optimizations = [] if mode == "float32" else [tf.lite.Optimize.DEFAULT]
        if sparsify:
            optimizations.append(tf.lite.Optimize.EXPERIMENTAL_SPARSITY)
        converter.optimizations = optimizations
        if mode == "full_int8":
            if representative_data is None:
                if conditional and num_classes is None:
                    num_classes = read_export_metadata(saved_model_path)["num_classes"]
                representative_data = representative_inputs(
                    latent_dim, num_classes if conditional else 0, num_representative, batch_size or 1, seed
                )
            data = representative_data
            converter.representative_dataset = data if callable(data) else (lambda: iter(data))
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = tf.float32
            converter.inference_output_type = tf.float32
        return converter.convert()
