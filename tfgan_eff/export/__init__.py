"""Export: SavedModel with a `serve(z[, y])` signature, TFLite (float32 / dynamic int8 / full int8),
each verified in TF / LiteRT against the Keras generator (see pipeline.export_generator)."""

from tfgan_eff.export.pipeline import export_generator
from tfgan_eff.export.saved_model import export_saved_model, read_export_metadata
from tfgan_eff.export.tflite import MODES, convert_to_tflite
from tfgan_eff.export.verify import verify_saved_model, verify_tflite

__all__ = [
    "MODES",
    "convert_to_tflite",
    "export_generator",
    "export_saved_model",
    "read_export_metadata",
    "verify_saved_model",
    "verify_tflite",
]
