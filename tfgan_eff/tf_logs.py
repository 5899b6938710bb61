"""TensorFlow's own log noise off for the command lines: C++ lines (oneDNN banners, "E0000 ... remapper failed",
cpu_feature_guard, LiteRT's "Created TensorFlow Lite XNNPACK delegate") and the `tensorflow` Python logger's
INFO/WARNING lines ("Sharding callback duration", SavedModel asset messages). Our absl progress and result lines are
untouched. This module imports nothing from the package, so every layer can use `native_lines_hidden`."""

import contextlib
import logging
import os

from absl import logging as absl_logging

_hidden = False  # pylint: disable=invalid-name  # process state, set by configure(): TF's logs are hidden


def configure(show=False):
    """Silences TF's logs unless `show`, and imports TensorFlow. Call it before anything imports TensorFlow.

    TF_CPP_MIN_LOG_LEVEL=3 hides C++ INFO/WARNING/ERROR lines (a healthy run prints an E-line; real failures still
    raise); a value the user set is kept. The oneDNN banner is printed during `import tensorflow` before TF's C++
    logging reads any setting, so stderr goes to /dev/null for the import only.
    """
    global _hidden  # pylint: disable=global-statement  # one setting for the whole process
    if show:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    _hidden = True
    with native_lines_hidden():
        import tensorflow  # the import is the point
    handler = absl_logging.get_absl_handler()
    if not any(isinstance(f, _BelowErrorFrom) for f in handler.filters):
        handler.addFilter(_BelowErrorFrom(os.path.dirname(tensorflow.__file__)))


@contextlib.contextmanager
def native_lines_hidden():
    """Sends the process's stderr (fd 2) to /dev/null for the body when configure() hid TF's logs, else does
    nothing: for C++ code that prints whatever TF_CPP_MIN_LOG_LEVEL says (the banners of `import tensorflow`,
    LiteRT's delegate line on an interpreter's first allocate_tensors). Failures still raise."""
    if not _hidden:
        yield
        return
    saved_stderr = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(devnull)


class _BelowErrorFrom(logging.Filter):
    """Drops INFO/WARNING records logged from code under `root` (TF modules log through absl, as we do)."""

    def __init__(self, root):
        super().__init__()
        self.root = root + os.sep

    def filter(self, record):
        return record.levelno >= logging.ERROR or not record.pathname.startswith(self.root)
