"""Export a generator to SavedModel + TFLite modes, verify each against Keras, write report.json."""

import dataclasses
import json
import os
import time
from typing import Optional

import ai_edge_litert
import keras
import numpy as np
import tensorflow as tf
from absl import logging

from tfgan_eff import files
from tfgan_eff.export.saved_model import export_saved_model, generator_metadata
from tfgan_eff.export.tflite import MODES, check_modes, convert_to_tflite, representative_inputs
from tfgan_eff.export.verify import (
    count_sparse_tensors,
    eval_inputs,
    keras_kernel_sparsity,
    reference_images,
    verify_saved_model,
    verify_tflite,
)
from tfgan_eff.ops.precision import compute_in

SAVED_MODEL_DIR = "saved_model"
REPORT_NAME = "report.json"


def tflite_filename(mode, sparsify=False):
    """File name of a mode's flatbuffer inside the export directory."""
    return f"generator_{mode}{'_sparse' if sparsify else ''}.tflite"


def _remove_earlier_tflite(out_dir):
    """Removes the .tflite files an earlier export left (any mode): out_dir holds what its report.json lists."""
    for name in (tflite_filename(mode, sparse) for mode in MODES for sparse in (False, True)):
        if os.path.exists(os.path.join(out_dir, name)):
            os.remove(os.path.join(out_dir, name))


def _generator_summary(generator, sparsity_report, source):
    summary = generator_metadata(generator)
    if source is not None:
        summary["source"] = source
    summary["params_total"] = int(sum(int(np.prod(v.shape)) for v in generator.variables))
    summary["params_trainable"] = int(sum(int(np.prod(v.shape)) for v in generator.trainable_variables))
    if sparsity_report:
        summary["kernel_sparsity"] = keras_kernel_sparsity(generator)
    return summary


def _convert(mode, sparsify, saved_model_path, representative, batch_size):
    start = time.perf_counter()
    model_bytes = convert_to_tflite(
        saved_model_path, mode, batch_size=batch_size, representative_data=representative, sparsify=sparsify
    )
    return model_bytes, time.perf_counter() - start


def _error_entry(mode, sparsify, err):
    logging.error("TFLite export %s%s failed: %s: %s", mode, " (sparse)" if sparsify else "", type(err).__name__, err)
    return {"mode": mode, "sparsify": sparsify, "error": f"{type(err).__name__}: {err}"}


@dataclasses.dataclass(frozen=True)
class ExportSettings:
    """How a generator is exported and verified: recorded whole in the report's `settings`.

    Attributes:
      modes: a non-empty subset of ("float32", "dynamic_int8", "full_int8"), or them comma-separated (checked here:
        ExportModeError before anything is written).
      num_representative: calibration examples for full_int8, drawn with seed + 1 (not the eval z).
      seed: seed of the eval z (and labels) all artifacts are compared on.
      num_eval: number of eval z; must be a multiple of batch_size.
      batch_size: static TFLite batch (1 = per-image latency); None keeps a dynamic batch.
      num_runs: timed runs for the median latency.
      num_threads: LiteRT interpreter threads.
      sparsity_report: add exact-zero fractions of the Keras and flatbuffer kernels, and for each mode also
        convert with EXPERIMENTAL_SPARSITY, recording whether the converter applied it (any sparse-encoded tensor);
        when it did, the file is written as generator_<mode>_sparse.tflite and verified like the others.
    """
    modes: tuple = MODES
    num_representative: int = 64
    seed: int = 0
    num_eval: int = 16
    batch_size: Optional[int] = 1
    num_runs: int = 10
    num_threads: int = 1
    sparsity_report: bool = False

    def __post_init__(self):
        object.__setattr__(self, "modes", check_modes(self.modes))


def export_generator(generator, out_dir, settings=ExportSettings(), *, source=None):
    """Exports `generator` and verifies every artifact against it.

    Writes out_dir/saved_model, out_dir/generator_<mode>.tflite per mode and out_dir/report.json; the .tflite
    files of an earlier export there (any mode) are removed, so the directory holds what report.json lists.
    A mode whose conversion or LiteRT run fails is recorded in the report as {"error": ...} and the
    other modes still run.

    Args:
      generator: a generator keras.Model (tfgan_eff.models.base.Generator).
      out_dir: export directory (created).
      settings: an ExportSettings.
      source: what the generator holds, e.g. {"step": 400, "checkpoint": ".../ckpt-400"}; recorded as the
        report's generator.source and in the SavedModel's assets.extra/generator.json.

    Returns:
      The report dict (also written to out_dir/report.json).
    """
    out_dir = os.path.abspath(os.fspath(out_dir))
    os.makedirs(out_dir, exist_ok=True)
    with compute_in(generator, "float32"):  # a mixed_bfloat16 run's float32 variables, served in float32
        return _export_prepared(generator, out_dir, settings, source)


def _export_prepared(generator, out_dir, settings, source):
    """export_generator's work on a prepared, float32 generator."""
    s = settings
    meta = generator_metadata(generator)
    latent_dim, num_classes = meta["latent_dim"], meta["num_classes"]
    z, labels = eval_inputs(latent_dim, num_classes, s.num_eval, s.seed)
    reference = reference_images(generator, z, labels)  # also builds an unbuilt generator
    report = {
        "generator": _generator_summary(generator, s.sparsity_report, source),
        "settings": {
            **dataclasses.asdict(s),
            "modes": list(s.modes),
            "representative_seed": s.seed + 1,
            "full_int8_io": "float32 z / images (int32 y); int8 inside",
            "versions": {
                "tensorflow": tf.__version__,
                "keras": keras.__version__,
                "ai_edge_litert": ai_edge_litert.__version__,
            },
        },
        "artifacts": {},
    }

    logging.info("Exporting SavedModel to %s", os.path.join(out_dir, SAVED_MODEL_DIR))
    saved_model_path = export_saved_model(generator, os.path.join(out_dir, SAVED_MODEL_DIR), source=source)
    entry = verify_saved_model(saved_model_path, z, labels, reference, num_runs=s.num_runs)
    entry["path"] = SAVED_MODEL_DIR
    report["artifacts"]["saved_model"] = entry
    logging.info("SavedModel: max abs diff %.3g, %d bytes", entry["max_abs_diff"], entry["size_bytes"])

    _remove_earlier_tflite(out_dir)
    representative = representative_inputs(latent_dim, num_classes, s.num_representative, s.batch_size or 1,
                                           s.seed + 1)
    verify_kwargs = dict(num_runs=s.num_runs, num_threads=s.num_threads, sparsity_report=s.sparsity_report)
    for mode in s.modes:
        for sparsify in (False, True) if s.sparsity_report else (False,):
            key = f"{mode}_sparse" if sparsify else mode
            name = tflite_filename(mode, sparsify)
            logging.info("Converting TFLite %s", key)
            try:
                model_bytes, seconds = _convert(mode, sparsify, saved_model_path, representative, s.batch_size)
                entry = {"mode": mode, "sparsify": sparsify, "convert_seconds": seconds}
                if sparsify:
                    # The converter only sparse-encodes kernels it finds sparse enough; the bytes differ
                    # anyway (conversion metadata), so "applied" means sparse-encoded tensors exist.
                    entry["sparse_encoded_tensors"] = count_sparse_tensors(model_bytes)
                    entry["applied"] = entry["sparse_encoded_tensors"] > 0
                if sparsify and not entry["applied"]:
                    entry["size_bytes"] = len(model_bytes)
                else:
                    path = files.write_bytes(os.path.join(out_dir, name), model_bytes)
                    entry.update(verify_tflite(path, z, labels, reference, **verify_kwargs), path=name)
                    logging.info(
                        "TFLite %s: max abs diff %.3g, %d bytes, %.3f ms/image",
                        key,
                        entry["max_abs_diff"],
                        entry["size_bytes"],
                        entry["latency_ms_per_image"],
                    )
            # One failing mode must not stop the others; it is reported.
            except Exception as err:  # pylint: disable=broad-exception-caught
                entry = _error_entry(mode, sparsify, err)
            report["artifacts"][key] = entry

    files.write_bytes(os.path.join(out_dir, REPORT_NAME), json.dumps(report, indent=2).encode())
    logging.info("Wrote %s", os.path.join(out_dir, REPORT_NAME))
    return report
