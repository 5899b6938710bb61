"""The suite's one traced search round: the five tf.function steps end where their eager run ends (the other search
tests run the steps eagerly; tracing the supernet costs over a minute of CPU, so this module stands alone for the
test scheduler)."""

import keras
import numpy as np
import pytest

from tiny_search import compared_variables  # pylint: disable=import-error
from tfgan_eff.search.searcher import Searcher

pytestmark = pytest.mark.long(85)  # run early (tests/conftest.py)


def _arrays(variables):
    return [np.array(v) for v in variables]


def test_a_traced_round_gives_the_eager_rounds_update(tiny_cfg, tiny_images):
    tiny_cfg.search.update(n_critic=1, inner_steps=1, arch_steps=1)  # one step of each kind
    runs = []
    for eager in (True, False):
        keras.utils.set_random_seed(0)
        searcher = Searcher(tiny_cfg, tiny_images, run_eagerly=eager)
        before = _arrays(compared_variables(searcher))
        record = searcher.run_round(0)
        runs.append((before, _arrays(compared_variables(searcher)), [record[k] for k in ("dg", "minmax", "maxmin")],
                     len(searcher.g.arch_variables)))
    (start, eager_end, eager_terms, alphas), (traced_start, traced_end, traced_terms, _) = runs
    for a, b in zip(start, traced_start):
        np.testing.assert_array_equal(a, b)

    def relative_diff(first, last):  # ||traced - eager|| / ||eager update||
        update = np.concatenate([(b - a).ravel() for a, b in zip(start[first:last], eager_end[first:last])])
        apart = np.concatenate([(b - a).ravel() for a, b in zip(eager_end[first:last], traced_end[first:last])])
        return float(np.linalg.norm(apart) / np.linalg.norm(update))
    # Measured 7e-8 (alphas) and 1.3e-4 (weights: graph kernels sum in other orders, and Adam's sign-like first
    # step turns a few noise-level gradients into full steps); a step that runs differently when traced moves them
    # apart by tens of per cent.
    alphas_diff, weights_diff = relative_diff(0, alphas), relative_diff(alphas, len(start))
    assert alphas_diff < 1e-5 and weights_diff < 1e-3, (alphas_diff, weights_diff)
    np.testing.assert_allclose(traced_terms, eager_terms, rtol=1e-5)
