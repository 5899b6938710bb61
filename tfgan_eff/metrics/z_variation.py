"""Mode collapse as a number: the share of a generator's output variance that varies with z.

  z_share = mean over output values (pixel x channel) of their variance across samples
            / variance of all output values of all samples pooled.
The pooled variance is that across-sample part plus the variance over positions of the per-value means, the part
that is the same for every z (a template). A G that ignores z draws one image: z_share ~ 0. A G whose every output
value varies with z around one common mean: 1. On digits (32 px) healthy generators measure ~0.55, collapsed ones
0.05-0.11, the training images themselves 0.44.

Computed from per-value sums, so samples can stream through in batches (`output_moments` of each batch, added).
"""

import numpy as np

# Below this a run is reported as collapsed: between the collapsed (<= 0.11) generators and the healthy ones (0.55)
# and real digits (0.44), about the geometric mean of 0.11 and 0.55.
COLLAPSE_THRESHOLD = 0.25


def output_moments(images):
    """(count, per-value sum, per-value sum of squares) of images [N, ...] in float64; add them over batches."""
    x = np.asarray(images, np.float64)
    return x.shape[0], x.sum(axis=0), np.square(x).sum(axis=0)


def z_share_from_moments(count, value_sum, value_sum_sq):
    """z_share of samples summarised by `output_moments` (0 when the output is one constant: nothing varies)."""
    if count < 2:
        raise ValueError(f"z_share needs at least 2 samples, got {count}")
    mean = value_sum / count
    across_samples = np.maximum(value_sum_sq / count - np.square(mean), 0.0)
    pooled = np.mean(value_sum_sq) / count - np.square(np.mean(mean))
    return float(np.mean(across_samples) / pooled) if pooled > 0 else 0.0


def z_variation_share(images):
    """z_share of images [N, ...] (N >= 2 samples of one generator)."""
    return z_share_from_moments(*output_moments(images))


def is_collapsed(z_share, threshold=COLLAPSE_THRESHOLD):
    """True when less than `threshold` of the output variance varies with z."""
    return bool(z_share < threshold)
