"""DGL-GAN (`--method=dgl`): the method's registration (method.py) and its sub-runs teacher -> stage 1 -> stage 2 ->
baselines (plan.py); the teacher and its loss terms are pieces (tfgan_eff.pieces.teacher, .guidance).
Method: Tian et al., "DGL-GAN: Discriminator Guided Learning for GAN Compression", arXiv:2112.06502."""
