"""DGL-GAN (`--method=dgl`): the method's registration (method.py), teacher loading/freezing (teacher.py), the
teacher-guided trainers (trainer.py) and the sub-runs teacher -> stage 1 -> stage 2 -> baselines (plan.py).
Method: Tian et al., "DGL-GAN: Discriminator Guided Learning for GAN Compression", arXiv:2112.06502."""
