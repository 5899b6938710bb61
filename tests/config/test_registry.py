"""The method registry: a method is one registration that config, validation, presets, --smoke and the executor use."""

import ml_collections
import pytest

from tfgan_eff.config import presets, registry, schema
from tfgan_eff.config.validate import ConfigError, validate
from tfgan_eff.models import dcgan
from tfgan_eff.models import registry as models


def _toy_method():
    return registry.Method(
        name="toy", help="a test method", plan_module="tfgan_eff.baseline.plan",
        sections={"toy": lambda: ml_collections.ConfigDict(dict(strength=1.0, rounds=8))},
        preset=lambda c: c.update(method="toy", name="toy_digits") or c,
        smoke=lambda c: c.toy.update(rounds=1) or c,
        checks=lambda c: [f"toy.strength must be <= 1, got {c.toy.strength}"] if c.toy.strength > 1 else [],
        generators={"toy_dcgan": "tfgan_eff.models.dcgan:toy_builder"})


@pytest.fixture
def toy(monkeypatch):
    """A toy method registered for one test; the registry is restored afterwards."""
    monkeypatch.setattr(registry, "_METHODS", dict(registry._METHODS))  # pylint: disable=protected-access
    return registry.register(_toy_method())


def test_the_package_registers_every_method_and_config_names_none():
    assert registry.names() == ["baseline", "dgl", "sparse", "search", "compress"]
    assert schema.generator_archs() == ("dcgan", "sngan", "biggan", "genotype")
    for name in ("dgl", "sparse", "search", "compress"):
        assert name in schema.base_config()  # each method's section is part of every config


def test_a_registered_method_adds_its_section_preset_smoke_and_checks(toy):
    assert registry.get("toy") is toy and registry.names()[-1] == "toy"
    cfg = presets.get("toy")
    assert (cfg.method, cfg.name, cfg.toy.rounds) == ("toy", "toy_digits", 8)
    assert presets.smoke(cfg).toy.rounds == 1
    validate(cfg)
    cfg = presets.get("toy")
    cfg.toy.strength = 2.0
    with pytest.raises(ConfigError, match="toy.strength must be <= 1, got 2.0"):
        validate(cfg)
    cfg = presets.get("dgl")
    cfg.toy.strenght = 1.0
    with pytest.raises(ConfigError, match="unknown key 'toy.strenght'; did you mean toy.strength"):
        validate(cfg)  # its keys are checked in every config, whatever the method


def test_a_method_generator_is_built_through_the_model_registry(toy, monkeypatch):
    del toy
    calls = []

    def toy_builder(cfg, ch):
        calls.append(ch)
        return dcgan.DCGANGenerator(latent_dim=cfg.model.latent_dim, resolution=cfg.data.resolution, ch=ch)

    monkeypatch.setattr(dcgan, "toy_builder", toy_builder, raising=False)
    cfg = presets.smoke(presets.baseline())
    cfg.model.g.update(arch="toy_dcgan", width=0.5)
    generator = models.build_generator(cfg)
    assert calls == [4] and generator.built  # looked up by arch, called with the scaled width, then built
    assert schema.generator_archs()[-1] == "toy_dcgan"
    assert registry.generator_builder("nope") is None


def test_unknown_and_duplicate_methods_are_refused(toy):
    with pytest.raises(ValueError, match="unknown method 'toys'; choose one of"):
        registry.get("toys")
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(_toy_method())
    assert registry.register(toy) is toy  # the same registration again is harmless
