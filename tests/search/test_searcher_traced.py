"""The suite's one traced search round: the five tf.function steps end where their eager run ends (the other search
tests run the steps eagerly; tracing the supernet costs over a minute of CPU, so this module stands alone for the
test scheduler)."""

import numpy as np
import pytest

from tiny_search import relative_diffs, round_from_seed  # pylint: disable=import-error

pytestmark = pytest.mark.long(85)  # run early (tests/conftest.py)


def test_a_traced_round_gives_the_eager_rounds_update(tiny_cfg, tiny_images):
    tiny_cfg.search.update(n_critic=1, inner_steps=1, arch_steps=1)  # one step of each kind
    start, eager_end, eager_record = round_from_seed(tiny_cfg, tiny_images)
    traced_start, traced_end, traced_record = round_from_seed(tiny_cfg, tiny_images, run_eagerly=False)
    for a, b in zip(start, traced_start):
        np.testing.assert_array_equal(a, b)
    # Measured 7e-8 (alphas) and 1.3e-4 (weights: graph kernels sum in other orders, and Adam's sign-like first
    # step turns a few noise-level gradients into full steps); a step that runs differently when traced moves them
    # apart by tens of per cent.
    alphas_diff, weights_diff = relative_diffs(start, eager_end, traced_end)  # ||traced - eager|| / ||eager update||
    assert alphas_diff < 1e-5 and weights_diff < 1e-3, (alphas_diff, weights_diff)
    terms = ("dg", "minmax", "maxmin")
    np.testing.assert_allclose([traced_record[k] for k in terms], [eager_record[k] for k in terms], rtol=1e-5)
