"""Reference statistics of real data: computed once, saved as .npz with the protocol that made them.

The protocol (dataset, split, N, resolution, extractor protocol, ...) is stored inside the file as a JSON
string; loading under a different expected protocol is an error naming the keys that differ, so FIDs computed
against statistics of another dataset, resolution or feature network are never reported by mistake.
"""

import json

import numpy as np

from tfgan_eff.files import atomic_write
from tfgan_eff.metrics.streaming import FeatureStats, accumulate_features
from tfgan_eff.nested import flatten


def _normalise(protocol):
    """JSON round trip: tuples become lists, numpy scalars must be converted by the caller."""
    return json.loads(json.dumps(protocol, sort_keys=True))


def protocol_differences(stored, expected):
    """Lists 'key: stored=... expected=...' for every (flattened) key whose values differ or is missing."""
    stored, expected = flatten(_normalise(stored)), flatten(_normalise(expected))

    def show(flat, key):
        return repr(flat[key]) if key in flat else "<missing>"

    return [f"{key}: stored={show(stored, key)} expected={show(expected, key)}"
            for key in sorted(set(stored) | set(expected))
            if key not in stored or key not in expected or stored[key] != expected[key]]


def check_protocol(stored, expected, what="reference statistics"):
    """Raises ValueError listing the differing keys when two protocols differ."""
    differences = protocol_differences(stored, expected)
    if differences:
        raise ValueError(f"{what} were computed under a different protocol; differing keys:\n  "
                         + "\n  ".join(differences)
                         + "\nRecompute them with tools/compute_ref_stats.py under the protocol you evaluate with.")


def save_ref_stats(path, stats, protocol=None):
    """Saves FeatureStats (mean, cov, n, optional feature subset and logits) and its protocol to an .npz.

    protocol defaults to stats.protocol. The write is atomic (temp file + os.replace).
    """
    protocol = protocol if protocol is not None else stats.protocol
    if protocol is None:
        raise ValueError("save_ref_stats needs a protocol: pass protocol=... or set stats.protocol")
    arrays = {"mean": stats.mean, "cov": stats.cov, "n": np.int64(stats.n),
              "protocol": np.array(json.dumps(_normalise(protocol), sort_keys=True))}
    if stats.features is not None:
        arrays["features"] = stats.features
    if stats.logits is not None:
        arrays["logits"] = stats.logits

    def write(tmp_path):
        with open(tmp_path, "wb") as f:  # a file object stops np.savez appending a second .npz suffix
            np.savez(f, **arrays)

    atomic_write(path, write)


def load_ref_stats(path, expected_protocol=None):
    """Loads FeatureStats saved by save_ref_stats; raises ValueError if expected_protocol differs from the stored one.

    Pass expected_protocol=None only to inspect a file; evaluation code should always pass one.
    """
    with np.load(path, allow_pickle=False) as data:
        protocol = json.loads(str(data["protocol"]))
        stats = FeatureStats(mean=data["mean"], cov=data["cov"], n=int(data["n"]),
                             features=data["features"] if "features" in data else None,
                             logits=data["logits"] if "logits" in data else None, protocol=protocol)
    if expected_protocol is not None:
        check_protocol(protocol, expected_protocol, what=f"reference statistics in {path}")
    return stats


def ref_protocol(data_protocol, extractor, num_samples):
    """The full protocol of reference statistics: the data description, N and the extractor's protocol."""
    return dict(_normalise(data_protocol), num_samples=int(num_samples), extractor=_normalise(extractor.protocol))


def compute_ref_stats(images_iterable, extractor, protocol, num_samples=None, max_features=10000, seed=0):
    """Streams real images through the extractor and returns FeatureStats with .protocol set.

    Args:
      images_iterable: iterable of image batches (uint8 or [-1, 1] floats; (images, labels) tuples accepted).
      extractor: feature extractor with a .protocol.
      protocol: description of the data (e.g. dataset, split, resolution, channels).
      num_samples: stop after this many images (default: all).
      max_features: size of the raw-feature subset kept for KID / precision-recall / density-coverage.
      seed: reservoir sampling seed.
    """
    stats = accumulate_features(images_iterable, extractor, num_samples=num_samples, max_features=max_features,
                                keep_logits=True, seed=seed)
    stats.protocol = ref_protocol(protocol, extractor, stats.n)
    return stats
