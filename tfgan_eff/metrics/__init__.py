"""Evaluation metrics: distances.py (FID, KID, IS, precision-recall, density-coverage on features),
streaming.py (batch-by-batch feature statistics), extractors.py (Inception / offline classifier),
ref_stats.py (reference statistics with their protocol), evaluate.py (evaluate_generator)."""
