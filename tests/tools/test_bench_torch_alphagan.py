"""The PyTorch alphaGAN peer (benchmarks.torch_alphagan) builds the networks of our search space: same edge layout,
parameter counts and conv/matmul FLOPs as tfgan_eff's supernet and derived nets; its fused supernet computes what
the official (unfused) one does; its search step updates what ours does (optional: needs torch, the `bench`
extra)."""

import math

import pytest

torch = pytest.importorskip("torch")

from benchmarks import configs, flops, torch_alphagan  # noqa: E402
from tfgan_eff.models import flops as model_flops  # noqa: E402
from tfgan_eff.models import registry  # noqa: E402
from tfgan_eff.search import genotype as genotype_lib  # noqa: E402
from tfgan_eff.search import space  # noqa: E402
from tfgan_eff.search.genotype_generator import GenotypeGenerator  # noqa: E402
from tfgan_eff.search.supernet import SupernetGenerator  # noqa: E402
from tfgan_eff.training.loop import count_params  # noqa: E402

TINY = dict(configs.search_settings(configs.search(quick=True)), ch=4, d_ch=4, latent_dim=8, batch=4)


def test_edge_layout_is_the_search_spaces():
    assert {t: (tuple(c), tuple(s)) for t, (c, s) in torch_alphagan.EDGES.items()} == \
        {t: (tuple(c), tuple(s)) for t, (c, s) in space.ARCH_TENSORS.items()}
    assert list(torch_alphagan.EDGES) == list(space.ARCH_TENSORS)  # the alphas' order
    assert torch_alphagan.SKIPS == space.SKIPS


def _tf_counts(g, d):
    return (count_params(g), flops.conv_matmul_flops(g, model_flops.generator_input_specs(g)), count_params(d),
            flops.conv_matmul_flops(d, model_flops.discriminator_input_specs(d)))


def _torch_counts(g, d, s):
    info = torch_alphagan.describe(g, d, s)
    return info["g_params"], info["g_conv_flops"], info["d_params"], info["d_conv_flops"]


def _search_cfg(s):
    cfg = configs.search(quick=True)
    cfg.model.latent_dim = s["latent_dim"]
    cfg.search.update(ch=s["ch"], op_set=s["op_set"], padding=s["padding"])
    return cfg


def _sn_matvec_flops(d):
    """TF's spectral norm at training=False computes v = u W^T and sigma = (v W) . u: 2 x 2 x |W| FLOPs per layer;
    torch's (eval mode) one mat-vec product, which its flop counter does not count."""
    return 4 * sum(v.shape.num_elements() for v in d.trainable_variables if "kernel" in v.path)


@pytest.mark.parametrize("op_set,padding", [("normalized", "reflect"), ("paper", "zero")])
def test_fused_supernet_and_derived_net_count_the_same_as_ours(op_set, padding):
    s = dict(TINY, op_set=op_set, padding=padding)
    cfg = _search_cfg(s)
    g = SupernetGenerator(s["latent_dim"], s["resolution"], ch=s["ch"], op_set=op_set, padding=padding)
    d = registry.build_discriminator(cfg, cfg.search.d_width)
    s["d_ch"] = registry.scaled_width(cfg.model.d.ch, cfg.model.d.width * cfg.search.d_width)
    step = torch_alphagan.SearchStep(s, fused=True)
    tf_g_params, tf_g_flops, tf_d_params, tf_d_flops = _tf_counts(g.build_for_inputs(), d)
    g_params, g_flops, d_params, d_flops = _torch_counts(step.g_net, step.d_net, s)
    assert (g_params, g_flops, d_params) == (tf_g_params, tf_g_flops, tf_d_params)
    assert tf_d_flops - d_flops == _sn_matvec_flops(d)  # the rest of D (its convs and head) counts the same
    # the official supernet computes every plain conv on its own: more FLOPs, the same parameters
    unfused = torch_alphagan.SearchStep(s)
    assert torch_alphagan.count_params(unfused.g_net) == g_params
    assert torch_alphagan.describe(unfused.g_net, unfused.d_net, s)["g_conv_flops"] > g_flops

    genotype = genotype_lib.Genotype(**{**genotype_lib.ALPHAGAN_L.to_dict(), "op_set": op_set, "padding": padding})
    derived = GenotypeGenerator(s["latent_dim"], s["resolution"], genotype, ch=s["ch"]).build_for_inputs()
    peer = torch_alphagan.CellGenerator(s, {t: genotype.ops(t) for t in torch_alphagan.EDGES})
    assert (torch_alphagan.count_params(peer), torch_alphagan.forward_flops(peer, [torch.zeros(1, s["latent_dim"])])) \
        == _tf_counts(derived, d)[:2]


def test_fused_supernet_computes_the_official_one():
    torch.manual_seed(0)
    official, fused = torch_alphagan.CellGenerator(TINY), torch_alphagan.CellGenerator(TINY, fused=True)
    fused.alphas = official.alphas
    weights = dict(official.named_parameters())
    conv_at = "2"  # ReLU, BN, conv in op set "normalized"
    for name, param in fused.named_parameters():  # the same weights: plain conv k's is fused.convs[k]
        parts = name.split(".")
        if "fused" in parts:
            at = parts.index("fused")
            param.data.copy_(weights[".".join(parts[:at] + ["candidates", parts[at + 2], conv_at, parts[-1]])])
        else:
            if parts[1].startswith("normal") and "candidates" in parts:  # after the 3 fused plain convs
                at = parts.index("candidates")
                parts[at + 1] = str(int(parts[at + 1]) + len(torch_alphagan.PLAIN_CONVS))
            param.data.copy_(weights[".".join(parts)])
    z = torch.randn(6, TINY["latent_dim"])
    torch.testing.assert_close(fused(z), official(z), rtol=1e-4, atol=1e-5)


def test_search_step_updates_d_g_weights_and_alphas_each_by_its_own_step():
    step = torch_alphagan.SearchStep(TINY)
    g0 = [p.detach().clone() for p in step.g_net.parameters()]
    d0 = [p.detach().clone() for p in step.d_net.parameters()]
    a0 = [a.detach().clone() for a in step.alphas]
    worst = [p.detach().clone() for p in step.g_worst_net.parameters()]
    assert all(math.isfinite(v) for v in step())
    assert any(not torch.equal(a, b) for a, b in zip(g0, step.g_net.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d0, step.d_net.parameters()))
    assert all(not torch.equal(a, b) for a, b in zip(a0, step.alphas))
    assert all(torch.equal(a, b) for a, b in zip(worst, step.g_worst_net.parameters()))  # not trained by this step
    # the G step leaves the alphas alone, the architecture step the weights
    g1, a1 = [p.detach().clone() for p in step.g_net.parameters()], [a.detach().clone() for a in step.alphas]
    step._g_step()  # pylint: disable=protected-access
    assert all(torch.equal(a, b) for a, b in zip(a1, step.alphas))
    g2 = [p.detach().clone() for p in step.g_net.parameters()]
    step._arch_step()  # pylint: disable=protected-access
    assert all(torch.equal(a, b) for a, b in zip(g2, step.g_net.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(g1, g2))


def test_channels_last_runs_the_same_search_step():
    eager, other = torch_alphagan.SearchStep(TINY), torch_alphagan.SearchStep(TINY, channels_last=True)
    torch.testing.assert_close(torch.tensor(other()), torch.tensor(eager()), rtol=1e-3, atol=1e-4)


def test_derived_step_trains_the_genotypes_net():
    s = dict(TINY, g_batch=4, n_critic=1, beta1=0.5, beta2=0.999, ema_decay=0.99)
    genotype = {t: genotype_lib.ALPHAGAN_S.ops(t) for t in torch_alphagan.EDGES}
    step = torch_alphagan.derived_step(s, genotype)
    assert isinstance(step.g, torch_alphagan.CellGenerator) and step.g.alphas is None
    assert all(math.isfinite(v) for v in step())


def test_on_threads_sets_torch_threads_for_the_call_only():
    seen = []
    step = torch_alphagan.OnThreads(lambda: seen.append(torch.get_num_threads()), 1)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        step()
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
