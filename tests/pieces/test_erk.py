"""ERK / uniform density allocation and exact zero counts."""

import math

import numpy as np
import pytest

from tfgan_eff.pieces.erk import erk_densities, zero_counts


def test_erk_matches_hand_computed_case():
    shapes = {"a": (3, 3, 3, 16), "b": (3, 3, 16, 16), "c": (1, 1, 16, 3)}
    # N = 432, 2304, 48 (total 2784); r = 25/432, 38/2304, 21/48; sum r*N = 84.
    # First eps = 0.3 * 2784 / 84 = 9.94 makes c's density 9.94 * 21/48 = 4.35 > 1, so c turns dense.
    # Re-solve without c: eps = (835.2 - 48) / (25 + 38) = 12.495..., a = eps*25/432, b = eps*38/2304 (both < 1).
    eps = (0.3 * 2784 - 48) / 63
    densities = erk_densities(shapes, 0.3)
    assert densities["c"] == 1.0
    assert densities["a"] == pytest.approx(eps * 25 / 432, rel=1e-12)
    assert densities["b"] == pytest.approx(eps * 38 / 2304, rel=1e-12)


def test_erk_meets_budget_and_favours_small_layers():
    rng = np.random.default_rng(0)
    for density in (0.05, 0.2, 0.5, 0.9):
        shapes = {f"l{i}": tuple(int(x) for x in rng.choice([1, 3, 4, 8, 16, 32, 64], size=4)) for i in range(7)}
        densities = erk_densities(shapes, density)
        sizes = {name: math.prod(shape) for name, shape in shapes.items()}
        kept = sum(densities[name] * sizes[name] for name in shapes)
        assert kept == pytest.approx(density * sum(sizes.values()), rel=1e-9)
        assert all(0.0 < d <= 1.0 for d in densities.values())
        # Exact zero counts stay within half a weight per layer of the real-valued budget.
        zeros = zero_counts(shapes, densities)
        nnz = sum(sizes[name] - zeros[name] for name in shapes)
        assert abs(nnz - density * sum(sizes.values())) <= 0.5 * len(shapes) + 1e-6
        # Non-dense layers: density ordered like the ERK score sum(dims) / prod(dims).
        sparse = [name for name in shapes if densities[name] < 1.0]
        by_score = sorted(sparse, key=lambda name: sum(shapes[name]) / sizes[name])  # pylint: disable=cell-var-from-loop
        assert [densities[name] for name in by_score] == sorted(densities[name] for name in by_score)


def test_uniform_and_full_density():
    shapes = {"a": (3, 3, 3, 16), "b": (1, 1, 16, 3)}
    assert erk_densities(shapes, 0.25, "uniform") == {"a": 0.25, "b": 0.25}
    assert erk_densities(shapes, 1.0) == {"a": 1.0, "b": 1.0}
    assert zero_counts(shapes, {"a": 1.0, "b": 1.0}) == {"a": 0, "b": 0}


def test_zero_counts_round_half_up():
    shapes = {"a": (1, 1, 2, 5), "b": (1, 1, 1, 3)}  # 10 and 3 weights
    assert zero_counts(shapes, {"a": 0.25, "b": 0.5}) == {"a": 8, "b": 2}  # 7.5 -> 8, 1.5 -> 2


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="density"):
        erk_densities({"a": (3, 3, 3, 3)}, 0.0)
    with pytest.raises(ValueError, match="distribution"):
        erk_densities({"a": (3, 3, 3, 3)}, 0.5, "random")
