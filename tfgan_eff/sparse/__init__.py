"""STU-GAN sparse-to-sparse training: conv-kernel masks, ERK allocation, prune-and-regrow, sparse EMA, diagnostics."""

from tfgan_eff.sparse.diagnostics import balance_ratio, density, exploration_rate, sparsity_summary
from tfgan_eff.sparse.drop_grow import cosine_drop_fraction, drop_grow
from tfgan_eff.sparse.ema import align, sparse_ema, sparse_ema_update
from tfgan_eff.sparse.erk import erk_densities, zero_counts
from tfgan_eff.sparse.masks import MaskSet, has_masks, sparsify, strip_masks
from tfgan_eff.sparse.update import MaskUpdater, optimizer_moments

__all__ = [
    "MaskSet", "MaskUpdater", "align", "balance_ratio", "cosine_drop_fraction", "density", "drop_grow",
    "erk_densities", "exploration_rate", "has_masks", "optimizer_moments", "sparse_ema", "sparse_ema_update",
    "sparsify", "sparsity_summary", "strip_masks", "zero_counts",
]
