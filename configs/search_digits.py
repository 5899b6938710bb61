"""alphaGAN on the built-in digits: search (16-channel supernet, 30 rounds) then retrain the derived genotype.

About 25 minutes on 2 CPU cores. Run: python -m tfgan_eff.train --config=configs/search_digits.py --workdir=runs/x
Retrain only: add --config.retrain.genotype=runs/x/search/genotype.json (or alphagan_s / alphagan_l).
"""

from tfgan_eff.search import method as search_method
from tfgan_eff.config.schema import base_config


def get_config():
    return search_method.preset(base_config())
