"""On-device compression (`--method=compress`): a trained teacher -> a small generator for a phone, composing
DGL-GAN's teacher-guided stages with STU-GAN's sparse weights and alphaGAN's genotypes as students, exported to
float32 / dynamic-range int8 / full int8 and verified in LiteRT. method.py registers it; plan.py holds its sub-runs."""
