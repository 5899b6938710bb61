"""DGL-GAN on the built-in digits: the default of `python -m tfgan_eff.train --method=dgl`.

Teacher: DCGAN ch 48 (G and D), trained here for 2000 steps. Student: G at half width (ch 24), D_S at full width;
stage 1 (plain GAN) for 500 steps, then stage 2 with lambda = 0.1 * hinge(D_T(G_S(z))) to step 2000, plus the plain
student baseline from the same stage-1 checkpoint. Evaluation with the offline digits classifier; the DGL student is
exported to SavedModel + TFLite (float32, dynamic int8, full int8).

  python -m tfgan_eff.train --config=configs/dgl_digits.py [--smoke] [--config.dgl.baselines=plain,l1,boost]
"""

from tfgan_eff.config import presets


def get_config():
    return presets.get("dgl")
