"""DGL-GAN (`--method=dgl`): teacher loading/freezing (teacher.py), the teacher-guided trainers (trainer.py) and the
teacher -> stage 1 -> stage 2 -> baselines -> evaluation -> export pipeline (pipeline.py). See specs/dgl.md."""
