"""Retrain the published alphaGAN(s) genotype (2.953M-parameter G) on CIFAR-10 with the paper's hyper-parameters.

Needs a prepared TFDS cifar10: --config.data.tfds_data_dir=DIR (nothing is downloaded).
--config.retrain.genotype= (empty) runs the paper's (s) search first and retrains the genotype it finds.
"""

from tfgan_eff.config import search_section
from tfgan_eff.config.schema import base_config


def get_config():
    return search_section.published_cifar10(base_config(), "s")
