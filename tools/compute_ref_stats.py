"""Computes reference feature statistics of real images and writes them, with their protocol, to an .npz.

Examples:
  python tools/compute_ref_stats.py --dataset=digits --extractor=offline --out=refs/digits32_offline.npz
  python tools/compute_ref_stats.py --dataset=shapes --extractor=inception \
      --inception_weights=/path/inception_v3_weights_tf_dim_ordering_tf_kernels.h5 --out=refs/shapes32_incv3.npz

The .npz holds mean, cov, n, a uniform subset of raw features (for KID / precision-recall / density-coverage),
logits, and the protocol (dataset, split, N, resolution, channels, extractor protocol) as JSON; evaluation under
a different protocol refuses to use it.
"""

import dataclasses

from absl import app, flags

from tfgan_eff import cli
from tfgan_eff.data import offline
from tfgan_eff.errors import UserError
from tfgan_eff.metrics.extractors import build_extractor
from tfgan_eff.metrics.ref_stats import compute_ref_stats, save_ref_stats

FLAGS = flags.FLAGS
flags.adopt_module_key_flags(cli)  # --debug and --tf_logs in --help
flags.DEFINE_string("dataset", "digits", "Real data: an offline dataset (digits | shapes).")
flags.DEFINE_string("split", "train", "Split of the real data (offline datasets have only 'train').")
flags.DEFINE_enum("extractor", "offline", ["offline", "inception"], "Feature extractor.")
flags.DEFINE_string("inception_weights", "", "Local InceptionV3 weights file (extractor=inception).")
flags.DEFINE_string("offline_classifier", "", "Dataset the offline classifier is trained on (default: --dataset).")
flags.DEFINE_string("cache_dir", "", "Offline classifier cache (default: $TFGAN_EFF_CACHE or ~/.cache/tfgan_eff).")
flags.DEFINE_integer("num_samples", 10000, "Maximum number of real images (digits has 1,797).")
flags.DEFINE_integer("resolution", 32, "Image resolution.")
flags.DEFINE_integer("channels", 3, "Image channels (1 or 3).")
flags.DEFINE_integer("seed", 0, "Data seed (shapes); 0 is the data the GANs train on.")
flags.DEFINE_integer("batch_size", 256, "Images per extractor call.")
flags.DEFINE_integer("max_features", 10000, "Raw features kept for KID / PR / DC.")
flags.DEFINE_string("out", None, "Output .npz path.")


class FlagError(UserError, ValueError):
    """A flag value this tool cannot use."""


@dataclasses.dataclass(frozen=True)
class RefStatsRequest:
    """What reference statistics to compute: the real data and the feature extractor (the flags, as one value)."""
    dataset: str = "digits"
    split: str = "train"
    extractor: str = "offline"
    inception_weights: str = ""
    offline_classifier: str = ""
    cache_dir: str = ""
    num_samples: int = 10000
    resolution: int = 32
    channels: int = 3
    seed: int = 0
    batch_size: int = 256
    max_features: int = 10000


def real_image_batches(request):
    """The one place real images come from: returns (iterable of uint8 batches, data protocol dict)."""
    r = request
    if r.dataset not in offline.OFFLINE_DATASETS:
        raise FlagError(f"--dataset must be one of {offline.OFFLINE_DATASETS}, got {r.dataset!r}")
    if r.split != "train":
        raise FlagError(f"offline datasets have only split 'train', got --split={r.split!r}")
    images, _ = offline.load(r.dataset, resolution=r.resolution, channels=r.channels, num_examples=r.num_samples,
                             seed=r.seed)
    images = images[:r.num_samples]
    batches = (images[start:start + r.batch_size] for start in range(0, len(images), r.batch_size))
    protocol = {"dataset": r.dataset, "split": r.split, "resolution": r.resolution, "channels": r.channels,
                "data_seed": r.seed, "source": "tfgan_eff.data.offline"}
    return batches, protocol


def make_extractor(request):
    """Builds the extractor the request names."""
    r = request
    if r.extractor == "inception":
        return build_extractor("inception", weights_path=r.inception_weights)
    return build_extractor("offline", dataset=r.offline_classifier or r.dataset, resolution=r.resolution,
                           channels=r.channels, cache_dir=r.cache_dir or None)


def compute(request, out):
    """Computes reference statistics for a RefStatsRequest and saves them to `out`; returns the FeatureStats (with
    .protocol)."""
    batches, data_protocol = real_image_batches(request)
    stats = compute_ref_stats(batches, make_extractor(request), data_protocol, max_features=request.max_features,
                              seed=request.seed)
    save_ref_stats(out, stats)
    return stats


def main(argv):
    del argv
    with cli.user_errors():  # a user error is one line (the traceback with --debug)
        request = RefStatsRequest(**{field.name: FLAGS[field.name].value
                                     for field in dataclasses.fields(RefStatsRequest)})
        stats = compute(request, FLAGS.out)
    print(f"wrote {FLAGS.out}: N={stats.n}, feature_dim={stats.mean.shape[0]}, protocol={stats.protocol}")


if __name__ == "__main__":
    flags.mark_flag_as_required("out")
    app.run(main)
