"""STU-GAN on the built-in digits (the default of `--method=sparse`): d_G=0.2, d_D=0.3, dynamic G, with dense and
static-mask comparison runs. `python -m tfgan_eff.train --config=configs/sparse_digits.py`."""

from tfgan_eff.config import presets


def get_config():
    return presets.get("sparse")
