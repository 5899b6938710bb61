"""Evaluates a generator's samples against real data with every metric, streaming (library function)."""

import dataclasses

from tfgan_eff.metrics import distances
from tfgan_eff.metrics.ref_stats import check_protocol
from tfgan_eff.metrics.streaming import FeatureStats, accumulate_features
from tfgan_eff.metrics.z_variation import COLLAPSE_THRESHOLD, is_collapsed, output_moments, z_share_from_moments

ALL_METRICS = ("fid", "kid", "is", "pr", "dc")
_NEEDS_FEATURE_SUBSET = ("kid", "pr", "dc")


@dataclasses.dataclass(frozen=True)
class EvalProtocol:
    """How generated samples are scored: recorded (with the extractor and the real data) in every result.

    Attributes:
      num_samples: number of generated samples.
      batch_size: samples per sample_fn call.
      metrics: subset of ("fid", "kid", "is", "pr", "dc").
      max_features: raw features kept per side for KID / PR / DC (uniform reservoir subset).
      kid_subsets, kid_subset_size: KID subsets (subset size is capped by the kept features).
      is_splits: Inception Score splits.
      pr_k, dc_k: nearest-neighbour k for precision-recall and density-coverage.
      seed: seed for reservoir sampling and KID subsets.
      collapse_threshold: z_share below which "collapsed" is True.
    """
    num_samples: int = 10000
    batch_size: int = 64
    metrics: tuple = ALL_METRICS
    max_features: int = 10000
    kid_subsets: int = 100
    kid_subset_size: int = 1000
    is_splits: int = 10
    pr_k: int = 3
    dc_k: int = 5
    seed: int = 0
    collapse_threshold: float = COLLAPSE_THRESHOLD

    def __post_init__(self):
        object.__setattr__(self, "metrics", tuple(self.metrics))
        unknown = sorted(set(self.metrics) - set(ALL_METRICS))
        if unknown:
            raise ValueError(f"unknown metrics {unknown}; choose from {ALL_METRICS}")


def evaluate_generator(sample_fn, extractor, real_stats_or_real_batches, protocol=EvalProtocol()):
    """Computes FID / KID / IS / precision-recall / density-coverage of generated samples, and always how much of
    their output varies with z (z_variation.py), flagging a collapsed generator.

    Args:
      sample_fn: callable n -> n images in [-1, 1] ([n, H, W, C]); called in batches of `protocol.batch_size`.
      extractor: feature extractor (see extractors.py) with a .protocol.
      real_stats_or_real_batches: FeatureStats of the real data (e.g. from load_ref_stats; when it carries a
        protocol, its extractor part must equal extractor.protocol), or an iterable of real image batches.
      protocol: an EvalProtocol.

    Returns:
      dict with the requested metrics as floats (fid; kid_mean, kid_std; is_mean, is_std; precision, recall;
      density, coverage), z_share (float) and collapsed (bool), num_samples, num_real, and "protocol" describing
      how they were computed (the EvalProtocol's fields, the extractor's and the real data's protocols).
    """
    p = protocol
    metrics, seed = p.metrics, p.seed
    keep = p.max_features if any(m in metrics for m in _NEEDS_FEATURE_SUBSET) else 0

    real = real_stats_or_real_batches
    if isinstance(real, FeatureStats):
        if real.protocol is not None:
            check_protocol(real.protocol.get("extractor", {}), extractor.protocol,
                           what="reference statistics (extractor part)")
    else:
        real = accumulate_features(real, extractor, max_features=keep, keep_logits=False, seed=seed)
    if keep and real.features is None:
        raise ValueError(f"metrics {[m for m in metrics if m in _NEEDS_FEATURE_SUBSET]} need raw real features, "
                         "but the real statistics hold none; recompute them with max_features > 0 or drop them")
    moments = []

    def sample_and_track(n):
        images = sample_fn(n)
        moments.append(output_moments(images))
        return images

    fake = accumulate_features(sample_and_track, extractor, num_samples=p.num_samples, batch_size=p.batch_size,
                               max_features=keep, keep_logits="is" in metrics, seed=seed + 1)

    results = {}
    if "fid" in metrics:
        results["fid"] = distances.frechet_distance(fake.mean, fake.cov, real.mean, real.cov)
    if "kid" in metrics:
        results["kid_mean"], results["kid_std"] = distances.kid(
            real.features, fake.features, num_subsets=p.kid_subsets, subset_size=p.kid_subset_size, seed=seed)
    if "is" in metrics:
        results["is_mean"], results["is_std"] = distances.inception_score(fake.logits, num_splits=p.is_splits)
    if "pr" in metrics:
        results["precision"], results["recall"] = distances.precision_recall(real.features, fake.features, k=p.pr_k)
    if "dc" in metrics:
        results["density"], results["coverage"] = distances.density_coverage(real.features, fake.features, k=p.dc_k)
    results["z_share"] = z_share_from_moments(*(sum(parts) for parts in zip(*moments)))
    results["collapsed"] = is_collapsed(results["z_share"], p.collapse_threshold)
    results["num_samples"] = fake.n
    results["num_real"] = real.n
    results["protocol"] = {
        "extractor": extractor.protocol,
        "real": real.protocol if real.protocol is not None else {"num_samples": real.n},
        **dataclasses.asdict(p),
        "num_samples": fake.n,
    }
    return results
