"""TensorFlow's own log noise off for the command lines: C++ lines (oneDNN banners, "E0000 ... remapper failed",
cpu_feature_guard) and the `tensorflow` Python logger's INFO/WARNING lines ("Sharding callback duration", SavedModel
asset messages). Our absl progress and result lines are untouched."""

import logging
import os

from absl import logging as absl_logging


def configure(show=False):
    """Silences TF's logs unless `show`, and imports TensorFlow. Call it before anything imports TensorFlow.

    TF_CPP_MIN_LOG_LEVEL=3 hides C++ INFO/WARNING/ERROR lines (a healthy run prints an E-line; real failures still
    raise); a value the user set is kept. The oneDNN banner is printed during `import tensorflow` before TF's C++
    logging reads any setting, so stderr goes to /dev/null for the import only.
    """
    if show:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    saved_stderr = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # pylint: disable=import-outside-toplevel  (the import is the point)
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(devnull)
    handler = absl_logging.get_absl_handler()
    if not any(isinstance(f, _BelowErrorFrom) for f in handler.filters):
        handler.addFilter(_BelowErrorFrom(os.path.dirname(tensorflow.__file__)))


class _BelowErrorFrom(logging.Filter):
    """Drops INFO/WARNING records logged from code under `root` (TF modules log through absl, as we do)."""

    def __init__(self, root):
        super().__init__()
        self.root = root + os.sep

    def filter(self, record):
        return record.levelno >= logging.ERROR or not record.pathname.startswith(self.root)
