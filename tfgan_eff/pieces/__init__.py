"""The methods' training-time pieces, below the method folders so that any method can compose them: a frozen
teacher and its loss terms (DGL-GAN; teacher.py, guidance.py), and sparse weights (STU-GAN; masks, ERK,
prune-and-regrow, sparse EMA, diagnostics, the mask-update callback; sparse_weights.py and the modules it uses).
keys.py holds what config checks need from them without loading TensorFlow."""
