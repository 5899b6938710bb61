"""STU-GAN sparse-to-sparse training: conv-kernel masks, ERK allocation, prune-and-regrow, sparse EMA, diagnostics."""
