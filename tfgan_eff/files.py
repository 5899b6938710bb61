"""Atomic file writes: a reader (a resumed run, another process) never sees a half-written file.

This module imports nothing from the package so that every layer can use it.
"""

import json
import os
import tempfile


def atomic_write(path, write_fn):
    """Calls `write_fn(tmp_path)` on a temp file next to `path`, then renames it to `path` (creating the directory).

    The temp name ends with `path`'s name, so writers that pick a format by suffix (PIL, Keras' .weights.h5) see the
    right one. If write_fn raises, the temp file is removed and `path` is untouched.
    """
    directory, name = os.path.split(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(prefix=".tmp-", suffix="-" + name, dir=directory)
    os.close(fd)
    try:
        write_fn(tmp_path)
        os.chmod(tmp_path, 0o644)  # mkstemp creates 0600; caches and work dirs may be shared
        os.replace(tmp_path, path)
    finally:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)


def write_bytes(path, data):
    """Writes `data` to `path` atomically; returns the absolute path."""

    def write(tmp_path):
        with open(tmp_path, "wb") as f:
            f.write(data)

    atomic_write(path, write)
    return os.path.abspath(path)


def write_text(path, text):
    """Writes `text` (UTF-8) to `path` atomically; returns the absolute path."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path, obj):
    """Writes `obj` as indented JSON (sorted keys; non-JSON values as strings) atomically; returns the path."""
    return write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str))


def read_json(path):
    """Reads a JSON file."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)
