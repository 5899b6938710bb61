"""Models build by their first eager call: no symbolic trace, and the same weights as Keras' traced build."""

import keras
import numpy as np
import pytest

from tfgan_eff.config import presets
from tfgan_eff.models import registry
from tfgan_eff.ops.eager_build import keras_traced_build
from tfgan_eff.search.supernet import SupernetGenerator


def _config(arch):
    cfg = presets.baseline()
    cfg.data.update(resolution=16, conditional=arch == "biggan")
    cfg.model.g.update(arch=arch, ch=8, genotype="alphagan_s")
    cfg.model.d.update(arch="autogan" if arch == "genotype" else arch, ch=8)
    return cfg


BUILDERS = {
    **{f"{arch}_{part}": (lambda arch=arch, part=part: getattr(registry, f"build_{part}")(_config(arch)))
       for arch in ("dcgan", "sngan", "biggan", "genotype") for part in ("generator", "discriminator")},
    "supernet": lambda: SupernetGenerator(latent_dim=8, resolution=8, ch=4).build_for_inputs(),
}


def _seeded_weights(build):
    keras.backend.clear_session()  # layer names restart, so both builds name their weights alike
    keras.utils.set_random_seed(0)
    return [(v.path, v.numpy()) for v in build().weights]


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_same_weights_as_keras_traced_build(name):
    eager = _seeded_weights(BUILDERS[name])
    with keras_traced_build():  # Keras' default build: trace the call symbolically first
        traced = _seeded_weights(BUILDERS[name])
    assert [p for p, _ in eager] == [p for p, _ in traced] and len(eager) >= 5
    for (path, a), (_, b) in zip(eager, traced):
        np.testing.assert_array_equal(a, b, err_msg=path)


def test_no_symbolic_trace_while_building(symbolic_traces):
    BUILDERS["supernet"]()
    BUILDERS["biggan_generator"]()
    assert not symbolic_traces
