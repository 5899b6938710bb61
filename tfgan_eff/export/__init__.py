"""Export: SavedModel with a `serve(z[, y])` signature, TFLite (float32 / dynamic int8 / full int8),
each verified in TF / LiteRT against the Keras generator (see pipeline.export_generator).

The names below load their module (and TensorFlow) when first used: `python -m tfgan_eff.export` imports this
package before its main() has quieted TensorFlow's start-up lines (tfgan_eff/tf_logs.py).
"""

import importlib

_MODULE_OF = {
    "ExportSettings": "pipeline",
    "MODES": "tflite",
    "check_modes": "tflite",
    "convert_to_tflite": "tflite",
    "export_generator": "pipeline",
    "export_saved_model": "saved_model",
    "read_export_metadata": "saved_model",
    "verify_saved_model": "verify",
    "verify_tflite": "verify",
}
__all__ = sorted(_MODULE_OF)


def __getattr__(name):
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
