"""Per-layer density allocation for sparse training: Erdos-Renyi-Kernel (ERK) or uniform.

Pure Python on shapes, no TensorFlow: the result only depends on the kernel shapes and the budget.
"""

import math

DISTRIBUTIONS = ("erk", "uniform")


def erk_densities(shapes, density, distribution="erk"):
    """Returns {name: layer density} so that the whole set of kernels keeps a `density` fraction of its weights.

    ERK (STU-GAN / RigL): layer score r_l = sum(dims) / prod(dims). Solve eps so that
    sum_l eps * r_l * N_l = density * sum_l N_l; every layer with eps * r_l > 1 becomes dense and eps is re-solved
    over the remaining layers until none exceeds 1. Layer density is eps * r_l (1.0 for the dense ones).
    "uniform" gives every layer `density`.

    Args:
      shapes: dict name -> kernel shape (tuple of ints).
      density: overall fraction of weights kept, in (0, 1].
      distribution: "erk" or "uniform".
    """
    if not 0.0 < density <= 1.0:
        raise ValueError(f"density must be in (0, 1], got {density}")
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"distribution must be one of {DISTRIBUTIONS}, got {distribution!r}")
    if distribution == "uniform":
        return {name: float(density) for name in shapes}

    sizes = {name: math.prod(shape) for name, shape in shapes.items()}
    scores = {name: sum(shape) / sizes[name] for name, shape in shapes.items()}
    total = sum(sizes.values())
    dense = set()
    eps = 0.0
    while len(dense) < len(shapes):
        budget = density * total - sum(sizes[name] for name in dense)
        divisor = sum(scores[name] * sizes[name] for name in shapes if name not in dense)
        eps = budget / divisor
        # Making a layer dense only raises eps for the others, so every layer over 1 now stays over 1 later:
        # moving all of them at once gives the same result as RigL's one-at-a-time loop.
        over = {name for name in shapes if name not in dense and eps * scores[name] > 1.0}
        if not over:
            break
        dense |= over
    return {name: 1.0 if name in dense else min(1.0, eps * scores[name]) for name in shapes}


def zero_counts(shapes, densities):
    """Returns {name: exact number of zeros} = round((1 - d_l) * N_l), rounding halves up."""
    counts = {}
    for name, shape in shapes.items():
        size = math.prod(shape)
        zeros = math.floor((1.0 - densities[name]) * size + 0.5)
        counts[name] = min(max(zeros, 0), size)
    return counts
