"""Run by test_searcher.py in a fresh process: 2 logical CPUs must be configured before TF initialises.

One search round (one step of each kind: inner D and G, both worst-case fits, the architecture) of a tiny 8 px
supernet with the normalised op set (every candidate, the fused plain convs, the sep convs' custom depthwise gradient)
on one device and under MirroredStrategy on 2 logical CPUs, from the same initial weights and batches. Prints JSON:
how far apart the two rounds' alphas and weights end, relative to how far they moved, and both rounds' duality-gap
terms.
Zero padding at 8 px: reflect padding needs 16 px (4x the cost), and there Adam's sign-like first step flips a
few dozen weights whose gradient is float noise (docs/distribution.md); the reflect gather is tested against
MirrorPad on its own.
"""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2)

import numpy as np  # noqa: E402

# This directory is on sys.path: the script's own.
from tiny_search import make_tiny_config, relative_diffs, round_from_seed  # noqa: E402  pylint: disable=import-error


def main():
    cfg = make_tiny_config()
    cfg.search.update(op_set="normalized", n_critic=1, inner_steps=1, arch_steps=1)  # one step of each kind
    images = np.random.default_rng(0).integers(0, 256, (24, 8, 8, 3), dtype=np.uint8)
    start_one, one, rec_one = round_from_seed(cfg, images, tf.distribute.OneDeviceStrategy("/cpu:0"))
    start_two, two, rec_two = round_from_seed(cfg, images, tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    alphas_diff, weights_diff = relative_diffs(start_one, one, two)
    print(json.dumps({
        "same_start": all(np.array_equal(a, b) for a, b in zip(start_one, start_two)),
        "alphas_relative_diff": alphas_diff,
        "weights_relative_diff": weights_diff,
        "terms": [[rec[k] for k in ("dg", "minmax", "maxmin")] for rec in (rec_one, rec_two)],
        "n": len(one)}))


if __name__ == "__main__":
    main()
