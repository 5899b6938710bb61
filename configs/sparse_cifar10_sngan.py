"""STU-GAN with the paper's SNGAN CIFAR-10 backbone (d_G=0.2, d_D=0.3, dynamic G, Delta_T=1000).

ResNet G 256 ch (no SN), D 128 ch with SN, z 128, hinge, Adam 2e-4 betas (0, 0.9), D batch 64 / G batch 128,
n_critic 5, 50k G steps, EMA 0.999. Comparison runs: dense and static masks (same backbone and steps).
Needs a prepared TFDS cifar10 and local InceptionV3 weights (nothing is downloaded):
  python -m tfgan_eff.train --config=configs/sparse_cifar10_sngan.py \
    --config.data.tfds_data_dir=/path/to/tensorflow_datasets \
    --config.eval.inception_weights=/path/to/inception_v3_weights.h5
"""

from tfgan_eff.config.schema import base_config


def get_config():
    c = base_config()
    c.method, c.name = "sparse", "sparse_cifar10_sngan"
    c.data.update(source="tfds:cifar10", split="train", resolution=32, channels=3)
    c.model.latent_dim = 128
    c.model.g.update(arch="sngan", ch=256, spectral_norm=False)
    c.model.d.update(arch="sngan", ch=128, spectral_norm=True)
    c.train.update(steps=50000, batch_size=64, g_batch_size=128, n_critic=5, loss="hinge", ema_decay=0.999,
                   ema_start=0, log_every=100, sample_every=5000, ckpt_every=1000, keep_checkpoints=3)
    for opt in (c.train.g_opt, c.train.d_opt):
        opt.update(lr=2e-4, beta1=0.0, beta2=0.9)
    c.eval.update(extractor="inception", num_samples=10000, metrics="fid,kid,is")
    c.sparse.update(g_density=0.2, d_density=0.3, distribution="erk", mode="dynamic_g", update_every=1000,
                    drop_fraction=0.5, drop_fraction_end=0.005, reset_optimizer_state=False,
                    comparisons="dense,static")
    return c
