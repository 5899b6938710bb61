"""Raw and gzipped sizes of exported artifacts."""

import gzip
import os


def _files_under(path):
    if os.path.isfile(path):
        return [path]
    return sorted(os.path.join(root, name) for root, _, names in os.walk(path) for name in names)


def artifact_sizes(path):
    """(raw bytes, gzipped bytes) of a file, or summed over the files of a directory (gzip in memory).

    The gzipped size (level 9) is what a download of the artifact costs; it also shows how much the
    zeros of a sparse model are worth without any sparse storage format.
    """
    raw = gzipped = 0
    for name in _files_under(os.fspath(path)):
        with open(name, "rb") as f:
            data = f.read()
        raw += len(data)
        gzipped += len(gzip.compress(data, compresslevel=9))
    return raw, gzipped
