"""The PyTorch SNGAN reference has the same networks as tfgan_eff's SNGAN-ResNet (same parameter counts), its
step trains, and its CPU configurations run the same step (optional: needs torch, the `bench` extra)."""

import math

import pytest

torch = pytest.importorskip("torch")

from benchmarks import configs, settings, torch_sngan  # noqa: E402
from benchmarks.settings import sngan_settings  # noqa: E402
from tfgan_eff.models import registry  # noqa: E402
from tfgan_eff.training.loop import count_params  # noqa: E402


@pytest.mark.parametrize("resolution", [16, 32])
def test_same_parameter_counts_as_tf(resolution):
    s = dict(sngan_settings(quick=True), resolution=resolution)
    cfg = configs.sngan(quick=True)
    cfg.data.resolution = resolution
    step = torch_sngan.SNGANStep(s)
    assert torch_sngan.count_params(step.g) == count_params(registry.build_generator(cfg))
    assert torch_sngan.count_params(step.d) == count_params(registry.build_discriminator(cfg))


def test_step_updates_d_g_and_ema():
    step = torch_sngan.SNGANStep(sngan_settings(quick=True))
    g0 = [p.detach().clone() for p in step.g.parameters()]
    d0 = [p.detach().clone() for p in step.d.parameters()]
    ema0 = [p.detach().clone() for p in step.ema.parameters()]
    d_loss, g_loss = step()
    assert math.isfinite(d_loss) and math.isfinite(g_loss)
    assert all(not torch.equal(a, b) for a, b in zip(g0, step.g.parameters()) if a.dim() > 1)
    assert any(not torch.equal(a, b) for a, b in zip(d0, step.d.parameters()))
    # EMA moved by (1 - decay) of the way towards the updated G.
    decay = sngan_settings(quick=True)["ema_decay"]
    for e0, e, g in zip(ema0, step.ema.parameters(), step.g.parameters()):
        torch.testing.assert_close(e, e0 + (1 - decay) * (g.detach() - e0))


@pytest.mark.parametrize("config", ["channels_last", "oneDNN off"])
def test_cpu_configurations_run_the_same_step(config):
    s = sngan_settings(quick=True)
    eager, other = torch_sngan.SNGANStep(s), torch_sngan.SNGANStep(s, **settings.TORCH_CONFIGS[config])
    enabled = torch.backends.mkldnn.enabled
    # same seed, same inputs: the same losses up to kernel rounding
    torch.testing.assert_close(torch.tensor(other()), torch.tensor(eager()), rtol=1e-3, atol=1e-4)
    assert torch.backends.mkldnn.enabled == enabled  # oneDNN off for the step only
    if config == "channels_last":
        weight = other.d.blocks[0].conv1.parametrizations.weight.original
        assert weight.is_contiguous(memory_format=torch.channels_last)
        assert other.real[0].is_contiguous(memory_format=torch.channels_last)
