"""Computes reference feature statistics of real images and writes them, with their protocol, to an .npz.

Examples:
  python tools/compute_ref_stats.py --dataset=digits --extractor=offline --out=refs/digits32_offline.npz
  python tools/compute_ref_stats.py --dataset=shapes --extractor=inception \
      --inception_weights=/path/inception_v3_weights_tf_dim_ordering_tf_kernels.h5 --out=refs/shapes32_incv3.npz

The .npz holds mean, cov, n, a uniform subset of raw features (for KID / precision-recall / density-coverage),
logits, and the protocol (dataset, split, N, resolution, channels, extractor protocol) as JSON; evaluation under
a different protocol refuses to use it.
"""

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


def real_image_batches(dataset, split, resolution, channels, num_samples, batch_size, seed):
    """The one place real images come from: returns (iterable of uint8 batches, data protocol dict)."""
    if dataset not in offline.OFFLINE_DATASETS:
        raise FlagError(f"--dataset must be one of {offline.OFFLINE_DATASETS}, got {dataset!r}")
    if split != "train":
        raise FlagError(f"offline datasets have only split 'train', got --split={split!r}")
    images, _ = offline.load(dataset, resolution=resolution, channels=channels, num_examples=num_samples, seed=seed)
    images = images[:num_samples]
    batches = (images[start:start + batch_size] for start in range(0, len(images), batch_size))
    protocol = {"dataset": dataset, "split": split, "resolution": resolution, "channels": channels,
                "data_seed": seed, "source": "tfgan_eff.data.offline"}
    return batches, protocol


def make_extractor(name, dataset, resolution, channels, inception_weights, offline_classifier, cache_dir):
    """Builds the extractor named by the flags."""
    if name == "inception":
        return build_extractor("inception", weights_path=inception_weights)
    return build_extractor("offline", dataset=offline_classifier or dataset, resolution=resolution,
                           channels=channels, cache_dir=cache_dir or None)


def compute(dataset, out, *, split="train", extractor="offline", inception_weights="", offline_classifier="",
            cache_dir="", num_samples=10000, resolution=32, channels=3, seed=0, batch_size=256, max_features=10000):
    """Computes and saves reference statistics; returns the FeatureStats (with .protocol)."""
    batches, data_protocol = real_image_batches(dataset, split, resolution, channels, num_samples, batch_size, seed)
    feature_extractor = make_extractor(extractor, dataset, resolution, channels, inception_weights,
                                       offline_classifier, cache_dir)
    stats = compute_ref_stats(batches, feature_extractor, data_protocol, max_features=max_features, seed=seed)
    save_ref_stats(out, stats)
    return stats


def main(argv):
    del argv
    with cli.user_errors():  # a user error is one line (the traceback with --debug)
        stats = compute(FLAGS.dataset, FLAGS.out, split=FLAGS.split, extractor=FLAGS.extractor,
                        inception_weights=FLAGS.inception_weights, offline_classifier=FLAGS.offline_classifier,
                        cache_dir=FLAGS.cache_dir, num_samples=FLAGS.num_samples, resolution=FLAGS.resolution,
                        channels=FLAGS.channels, seed=FLAGS.seed, batch_size=FLAGS.batch_size,
                        max_features=FLAGS.max_features)
    print(f"wrote {FLAGS.out}: N={stats.n}, feature_dim={stats.mean.shape[0]}, protocol={stats.protocol}")


if __name__ == "__main__":
    flags.mark_flag_as_required("out")
    app.run(main)
