"""Evaluation metrics: distances.py (FID, KID, IS, precision-recall, density-coverage on features),
streaming.py (batch-by-batch feature statistics), extractors.py (Inception / offline classifier),
ref_stats.py (reference statistics with their protocol), suite.py (evaluate_generator), z_variation.py (the collapse
check).

Public helpers on features and samples you already have: `fid_from_features(features1, features2)` (as TF-GAN's
frechet_classifier_distance_from_activations) and `z_variation_share(images)`."""

from tfgan_eff.metrics.distances import fid_from_features
from tfgan_eff.metrics.z_variation import z_variation_share

__all__ = ["fid_from_features", "z_variation_share"]
