"""DGL-GAN with BigGAN-style class-conditional ResNets on CIFAR-10 (TFDS), the paper's BigGAN setting.

Teacher: G and D at ch 96 (conditional BN in G, projection D, spectral norm in both, G EMA); student G at half width
(96 -> 48 channels, ~1/4 of G's parameters) with D_S kept at 96. Hinge loss, lambda = 0.1, stage 2 from half way.
Optimiser settings from BigGAN-PyTorch's CIFAR recipe: Adam(2e-4, 0, 0.999) for G and D, 4 D steps per G step,
batch 50, EMA from step 1000.

Needs the CIFAR-10 TFDS files on disk and local InceptionV3 weights (nothing is downloaded):
  python -m tfgan_eff.train --config=configs/dgl_cifar10_biggan.py --config.data.tfds_data_dir=/data/tfds \
      --config.eval.inception_weights=/path/to/inception_v3_weights_tf_dim_ordering_tf_kernels.h5
An already trained teacher: --config.dgl.teacher_workdir=DIR (a train_gan work dir of this config at width 1).
"""

from tfgan_eff.config import presets


def get_config():
    c = presets.get("dgl")
    c.name = "dgl_cifar10_biggan"
    c.data.update(source="tfds:cifar10", resolution=32, channels=3, conditional=True)
    c.model.latent_dim = 128
    c.model.g.update(arch="biggan", ch=96, spectral_norm=True)
    c.model.d.update(arch="biggan", ch=96, spectral_norm=True)
    c.train.update(steps=100000, batch_size=50, n_critic=4, loss="hinge", ema_decay=0.9999, ema_start=1000,
                   log_every=100, sample_every=5000, ckpt_every=2000)
    for opt in (c.train.g_opt, c.train.d_opt):
        opt.update(lr=2e-4, beta1=0.0, beta2=0.999)
    c.eval.update(extractor="inception", num_samples=10000, batch_size=100)
    c.dgl.update(teacher_steps=100000, student_g_width=0.5, student_d_width=1.0, lambda_teacher=0.1,
                 switch_fraction=0.5, switch_step=-1, baselines="plain,l1")
    return c
