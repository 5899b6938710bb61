"""Atomic writes of files and directories: a reader (a resumed run, another process) never sees a half-written one.
What they publish gets the modes of the process's umask, like any file or directory it creates.

This module imports nothing from the package so that every layer can use it.
"""

import json
import os
import shutil
import tempfile

# The process's umask. Reading it means setting it, so it is read once here, while no other thread creates files.
_UMASK = os.umask(0o022)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK  # what open() gives a new file: temp files start private, published ones get this
DIR_MODE = 0o777 & ~_UMASK  # what os.makedirs gives a new directory


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
        os.chmod(tmp_path, FILE_MODE)  # mkstemp creates 0600; caches and work dirs may be shared
        os.replace(tmp_path, path)
    finally:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)


def atomic_write_dir(path, write_fn):
    """Calls `write_fn(tmp_dir)` on an empty temp directory next to `path`, then swaps it in as `path` (an existing
    `path` is moved aside first and removed after), so readers see the old tree or the new one, never a half-written
    one. The directory gets the umask's mode like any other (mkdtemp creates 0700). If write_fn raises, the temp
    directory is removed and `path` is untouched. Returns the absolute path."""
    path = os.path.abspath(os.fspath(path))
    parent, name = os.path.split(path)
    os.makedirs(parent, exist_ok=True)
    tmp_path = tempfile.mkdtemp(dir=parent, prefix=f".{name}.tmp-")
    try:
        write_fn(tmp_path)
        os.chmod(tmp_path, DIR_MODE)
        if os.path.exists(path):
            old = tempfile.mkdtemp(dir=parent, prefix=f".{name}.old-")
            os.rmdir(old)  # a free name next to `path`
            os.replace(path, old)
            os.replace(tmp_path, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp_path, path)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)
    return path


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
