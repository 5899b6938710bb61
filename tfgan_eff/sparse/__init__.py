"""STU-GAN sparse-to-sparse training (`--method=sparse`): the registration (method.py) and the sparse run with its
comparison runs (plan.py); masks, ERK, prune-and-regrow, sparse EMA and diagnostics are pieces
(tfgan_eff.pieces.sparse_weights and the modules it uses)."""
