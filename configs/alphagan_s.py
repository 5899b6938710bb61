"""Retrain the published alphaGAN(s) genotype (2.953M-parameter G) on CIFAR-10 with the paper's hyper-parameters.

Needs a prepared TFDS cifar10 and local InceptionV3 weights (nothing is downloaded):
  python -m tfgan_eff.train --config=configs/alphagan_s.py --config.data.tfds_data_dir=DIR \
    --config.eval.inception_weights=/path/to/inception_v3_weights_tf_dim_ordering_tf_kernels.h5
--config.retrain.genotype= (empty) runs the paper's (s) search first and retrains the genotype it finds.
"""

from tfgan_eff.search import method as search_method
from tfgan_eff.config.schema import base_config


def get_config():
    c = search_method.published_cifar10(base_config(), "s")
    c.eval.extractor = "inception"  # the offline classifiers only know digits and shapes
    return c
