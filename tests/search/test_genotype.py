"""Genotype derive / JSON / validation, the published genotypes' sizes, and the derived generator."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_eff.models.registry import build_generator
from tfgan_eff.search import genotype as genotype_lib
from tfgan_eff.search.genotype_generator import GenotypeGenerator
from tfgan_eff.search.space import ARCH_TENSORS
from tfgan_eff.search.supernet import SupernetGenerator


def _params(model):
    return sum(int(np.prod(v.shape)) for v in model.trainable_variables)


def test_derive_picks_argmax_per_edge():
    keras.utils.set_random_seed(0)
    g = SupernetGenerator(latent_dim=8, resolution=8, ch=4)
    rng = np.random.default_rng(3)
    chosen = {}
    for name, alpha in g.alphas.items():
        values = rng.normal(size=alpha.shape).astype(np.float32)
        alpha.assign(values)
        chosen[name] = [ARCH_TENSORS[name][0][i] for i in values.argmax(-1)]
    derived = genotype_lib.derive(g)
    for name in ARCH_TENSORS:
        assert list(derived.ops(name)) == chosen[name]


def test_json_round_trip(tmp_path):
    for genotype in (genotype_lib.ALPHAGAN_L, genotype_lib.ALPHAGAN_S,
                     genotype_lib.sample(np.random.default_rng(0))):
        assert genotype_lib.Genotype.from_json(genotype.to_json()) == genotype
        path = tmp_path / "g.json"
        genotype_lib.save(genotype, str(path))
        assert genotype_lib.load(str(path)) == genotype
        assert genotype_lib.resolve(str(path)) == genotype


@pytest.mark.parametrize("field,value,default", [("op_set", "normalized", "paper"), ("padding", "reflect", "zero")])
def test_space_fields_are_recorded_and_old_files_mean_the_paper(field, value, default, tmp_path):
    keras.utils.set_random_seed(0)
    supernet = SupernetGenerator(latent_dim=8, resolution=16, ch=4, **{field: value})
    assert getattr(genotype_lib.derive(supernet), field) == value
    genotype = genotype_lib.sample(np.random.default_rng(0), **{field: value})
    path = tmp_path / "genotype.json"
    genotype_lib.save(genotype, str(path))
    assert json.loads(path.read_text())[field] == value
    assert genotype_lib.load(str(path)) == genotype
    old = genotype.to_dict()
    del old[field]  # a file written before the field existed
    assert getattr(genotype_lib.Genotype.from_dict(old), field) == default
    assert getattr(genotype_lib.ALPHAGAN_L, field) == getattr(genotype_lib.ALPHAGAN_S, field) == default
    with pytest.raises(genotype_lib.GenotypeError, match=field):
        genotype_lib.Genotype.from_dict(dict(old, **{field: "bn"}))


def test_normalized_genotype_puts_an_affine_bn_before_each_plain_conv():
    base = genotype_lib.ALPHAGAN_L.to_dict()
    paper = GenotypeGenerator(latent_dim=8, resolution=8, genotype=genotype_lib.ALPHAGAN_L, ch=4).build_for_inputs()
    normalized = GenotypeGenerator(latent_dim=8, resolution=8, ch=4, genotype=genotype_lib.Genotype.from_dict(
        dict(base, op_set="normalized"))).build_for_inputs()
    n_plain = sum(op.startswith("conv_") for cell in base["normal"] for op in cell)
    assert n_plain == 7 and _params(normalized) - _params(paper) == n_plain * 2 * 4  # gamma and beta per channel
    edge = normalized.edges["normal_1"][0]
    assert edge.norm.center and edge.norm.scale and paper.edges["normal_1"][0].norm is None


@pytest.mark.parametrize("text,match", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "JSON object"),
    (json.dumps({"normal": [], "up": []}), "missing"),
    ("EXTRA", "unexpected"),
    ("BADOP", "unknown op 'conv_9x9'"),
    ("UPOP", "unknown op 'conv_1x1'"),
    ("SHORT", "must have 3 ops"),
    ("CELLS", "must list 3 cells"),
    ("SKIP", "'skip_3' must have 2 op"),
])
def test_invalid_genotypes_raise_clear_errors(text, match):
    base = genotype_lib.ALPHAGAN_S.to_dict()
    edits = {
        "EXTRA": lambda d: d.update(extra=1),
        "BADOP": lambda d: d["normal"][1].__setitem__(0, "conv_9x9"),
        "UPOP": lambda d: d["up"][0].__setitem__(0, "conv_1x1"),
        "SHORT": lambda d: d["normal"][2].pop(),
        "CELLS": lambda d: d["up"].pop(),
        "SKIP": lambda d: d.update(skip_3=["nearest"]),
    }
    if text in edits:
        edits[text](base)
        text = json.dumps(base)
    with pytest.raises(genotype_lib.GenotypeError, match=match):
        genotype_lib.Genotype.from_json(text)


def test_resolve_names_and_missing_files(tmp_path):
    assert genotype_lib.resolve("alphagan_l") is genotype_lib.ALPHAGAN_L
    assert genotype_lib.resolve("alphaGAN_s") is genotype_lib.ALPHAGAN_S
    with pytest.raises(FileNotFoundError, match="alphagan_l"):
        genotype_lib.resolve(str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(genotype_lib.GenotypeError, match="bad.json"):
        genotype_lib.resolve(str(bad))


def test_published_genotypes_match_spec():
    l, s = genotype_lib.ALPHAGAN_L, genotype_lib.ALPHAGAN_S
    assert l.normal[0] == ("conv_5x5", "conv_5x5", "sep_conv_5x5") and l.up[2] == ("nearest", "bilinear")
    assert l.skip_2 == ("nearest",) and l.skip_3 == ("bilinear", "nearest")
    assert s.normal[1] == ("sep_conv_5x5", "sep_conv_3x3", "sep_conv_3x3") and s.up[1] == ("deconv", "deconv")
    assert s.skip_3 == ("deconv", "bilinear")


@pytest.mark.parametrize("name,expected", [("alphagan_l", 8_618_499), ("alphagan_s", 2_952_707)])
def test_published_parameter_counts(name, expected):
    g = GenotypeGenerator(latent_dim=128, resolution=32, genotype=name, ch=256).build_for_inputs()
    assert _params(g) == expected
    assert round(expected / 1e6, 3) == {"alphagan_l": 8.618, "alphagan_s": 2.953}[name]


def test_registry_builds_genotype_generator(tmp_path):
    from tfgan_eff.config.schema import base_config

    path = tmp_path / "genotype.json"
    genotype_lib.save(genotype_lib.sample(np.random.default_rng(1)), str(path))
    cfg = base_config()
    cfg.data.resolution = 16
    cfg.model.latent_dim = 8
    cfg.model.g.arch = "genotype"
    cfg.model.g.ch = 8
    cfg.model.g.genotype = str(path)
    g = build_generator(cfg)
    assert isinstance(g, GenotypeGenerator) and g.genotype == genotype_lib.load(str(path))
    out = keras.ops.convert_to_numpy(g(tf.random.normal((2, 8)), training=False))
    assert out.shape == (2, 16, 16, 3) and np.all(np.abs(out) <= 1.0)
    # Derived BN has affine parameters: one gamma/beta pair per sep_conv BN plus the head BN.
    n_sep = sum(op.startswith("sep_conv") for name in ARCH_TENSORS for op in g.genotype.ops(name))
    assert sum(v.name == "gamma" for v in g.trainable_variables) == 2 * n_sep + 1
    cfg.model.g.genotype = ""
    with pytest.raises(ValueError, match="model.g.genotype"):
        build_generator(cfg)


def test_kernel_init_reaches_every_kernel_of_the_cell_networks():
    # he_uniform has twice glorot_uniform's variance when fan_in == fan_out (every conv between equal widths here).
    def kernel_stds(kernel_init, cls, **kwargs):
        keras.utils.set_random_seed(0)
        g = cls(latent_dim=8, resolution=16, ch=64, kernel_init=kernel_init, **kwargs).build_for_inputs()
        return [(v.shape, float(np.std(v))) for v in g.trainable_variables
                if v.name in ("kernel", "depthwise_kernel") and len(v.shape) == 4 and v.shape[-2] == v.shape[-1]]

    for cls, kwargs in ((GenotypeGenerator, dict(genotype="alphagan_s")), (SupernetGenerator, {})):
        glorot, he = kernel_stds("glorot_uniform", cls, **kwargs), kernel_stds("he_uniform", cls, **kwargs)
        assert [shape for shape, _ in glorot] == [shape for shape, _ in he] and len(he) >= 8
        for (shape, std), (_, glorot_std) in zip(he, glorot):
            assert std / glorot_std == pytest.approx(np.sqrt(2.0), rel=0.1), shape


def test_reflect_padding_adds_no_parameters_and_needs_16_px():
    base = genotype_lib.ALPHAGAN_S.to_dict()
    zero = GenotypeGenerator(latent_dim=8, resolution=16, genotype=genotype_lib.ALPHAGAN_S, ch=4).build_for_inputs()
    reflect = genotype_lib.Genotype.from_dict(dict(base, padding="reflect"))
    assert _params(GenotypeGenerator(latent_dim=8, resolution=16, ch=4, genotype=reflect).build_for_inputs()) == \
        _params(zero)
    with pytest.raises(ValueError, match="resolution >= 16"):
        GenotypeGenerator(latent_dim=8, resolution=8, ch=4, genotype=reflect)
