"""A minimal PyTorch SNGAN 32 px training step, the same networks and step as `tfgan_eff`'s SNGAN-ResNet GANTrainer
step, for a side-by-side timing (optional extra `bench`: torch==2.13.0).

Same as the TensorFlow row: G = Linear -> 4x4xch -> 3 up blocks (BN-ReLU-up-conv3-BN-ReLU-conv3 + up-conv1
shortcut) -> BN-ReLU-conv3-tanh; D = optimized down block, down block, 2 plain blocks, ReLU, spatial sum,
Linear(1) with spectral norm on every D layer (one power iteration per training call); hinge loss, Adam(lr, b1, b2),
n_critic D steps on `batch` real + fake images, one G step on `g_batch`, G-EMA of the weights (buffers copied).
As in TF, G runs in training mode (BN statistics update) inside D steps but is not differentiated there, and D's
weights are not differentiated in the G step. The inputs (real images, z) are fixed tensors made once.

`settings.TORCH_CONFIGS` names the CPU configurations of the same step (SNGANStep options) that
`benchmarks.interleave` times against TF's.
"""

import contextlib

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import spectral_norm


def _sn(layer, on):
    return spectral_norm(layer) if on else layer


class GBlock(nn.Module):
    """SNGAN up block."""

    def __init__(self, cin, cout):
        super().__init__()
        self.bn1, self.bn2 = nn.BatchNorm2d(cin, momentum=0.1, eps=1e-5), nn.BatchNorm2d(cout, momentum=0.1, eps=1e-5)
        self.conv1, self.conv2 = nn.Conv2d(cin, cout, 3, padding=1), nn.Conv2d(cout, cout, 3, padding=1)
        self.shortcut = nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        h = F.interpolate(F.relu(self.bn1(x)), scale_factor=2, mode="nearest")
        h = self.conv2(F.relu(self.bn2(self.conv1(h))))
        return h + self.shortcut(F.interpolate(x, scale_factor=2, mode="nearest"))


class Generator(nn.Module):
    """z -> 32 px image in [-1, 1] (NCHW)."""

    def __init__(self, latent_dim, ch, resolution=32, channels=3):
        super().__init__()
        self.ch, self.bottom = ch, 4
        n_up = {8: 1, 16: 2, 32: 3, 64: 4}[resolution]
        self.stem = nn.Linear(latent_dim, self.bottom * self.bottom * ch)
        self.blocks = nn.Sequential(*[GBlock(ch, ch) for _ in range(n_up)])
        self.head_bn = nn.BatchNorm2d(ch, momentum=0.1, eps=1e-5)
        self.head = nn.Conv2d(ch, channels, 3, padding=1)

    def forward(self, z):
        h = self.stem(z).view(-1, self.ch, self.bottom, self.bottom)
        return torch.tanh(self.head(F.relu(self.head_bn(self.blocks(h)))))


class DBlock(nn.Module):
    """SNGAN D block; `optimized` is the first block (no leading ReLU, pool-then-conv shortcut)."""

    def __init__(self, cin, cout, downsample, optimized, sn=True):
        super().__init__()
        self.downsample, self.optimized = downsample, optimized
        self.conv1 = _sn(nn.Conv2d(cin, cout, 3, padding=1), sn)
        self.conv2 = _sn(nn.Conv2d(cout, cout, 3, padding=1), sn)
        self.learnable = optimized or downsample or cin != cout
        self.shortcut = _sn(nn.Conv2d(cin, cout, 1), sn) if self.learnable else None

    def forward(self, x):
        h = self.conv2(F.relu(self.conv1(x if self.optimized else F.relu(x))))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        if self.optimized:
            s = self.shortcut(F.avg_pool2d(x, 2))
        elif self.learnable:
            s = self.shortcut(x)
            s = F.avg_pool2d(s, 2) if self.downsample else s
        else:
            s = x
        return h + s


class Discriminator(nn.Module):
    """Image -> logits [B]."""

    def __init__(self, ch, resolution=32, channels=3):
        super().__init__()
        n_down = max(1, {8: 1, 16: 2, 32: 3, 64: 4}[resolution] - 1)
        blocks = [DBlock(channels, ch, True, True)] + [DBlock(ch, ch, True, False) for _ in range(n_down - 1)]
        blocks += [DBlock(ch, ch, False, False) for _ in range(2)]
        self.blocks = nn.Sequential(*blocks)
        self.head = _sn(nn.Linear(ch, 1, bias=False), True)

    def forward(self, x):
        return self.head(F.relu(self.blocks(x)).sum(dim=(2, 3))).squeeze(-1)


def count_params(module):
    """Trainable parameters (spectral norm's original weights; its u/v vectors are buffers)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def prepare(modules, tensors, channels_last, compiled):
    """Channels-last memory format for `modules` and image `tensors` (optional), then torch.compile of the named
    modules ({name: module}); returns (modules, tensors)."""
    if channels_last:
        for module in modules.values():
            module.to(memory_format=torch.channels_last)
        tensors = [t.contiguous(memory_format=torch.channels_last) for t in tensors]
    return {k: torch.compile(m) if k in compiled else m for k, m in modules.items()}, tensors


@contextlib.contextmanager
def onednn(enabled):
    """oneDNN (mkldnn) kernels on or off inside the block (the mkldnn.flags context would also reset TF32 settings)."""
    previous, torch.backends.mkldnn.enabled = torch.backends.mkldnn.enabled, enabled
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = previous


def d_step(d, opt, real, fake):
    """One hinge-loss Adam step of D on real and (not differentiated) fake images; returns the loss."""
    loss = F.relu(1 - d(real)).mean() + F.relu(1 + d(fake)).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss


def g_step(g, d, opt, z, inputs=None):
    """One step of G on -mean D(G(z)), D frozen; `inputs`: the tensors to differentiate (default: all leaves)."""
    d.requires_grad_(False)
    loss = -d(g(z)).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward(inputs=inputs)
    opt.step()
    d.requires_grad_(True)
    return loss


class SNGANStep:
    """n_critic hinge D steps + one G step + G-EMA on fixed inputs; `__call__` runs one full step.

    channels_last: models and real images in channels-last memory format; mkldnn: oneDNN kernels on (torch's
    default) or off; compiled: names of the modules ("g", "d") wrapped in torch.compile (compiled on the first
    call, which then fails if inductor cannot handle the module); make_g: builds another G (default: the SNGAN G).
    """

    def __init__(self, s, seed=0, channels_last=False, mkldnn=True, compiled=(), make_g=None):
        torch.manual_seed(seed)
        self.s = s
        make_g = make_g or (lambda: Generator(s["latent_dim"], s["g_ch"], s["resolution"], s["channels"]))
        self.g = make_g()
        self.d = Discriminator(s["d_ch"], s["resolution"], s["channels"])
        self.ema = make_g()
        self.ema.load_state_dict(self.g.state_dict())
        self.ema.requires_grad_(False)
        betas = (s["beta1"], s["beta2"])
        self.g_opt = torch.optim.Adam(self.g.parameters(), lr=s["lr"], betas=betas, eps=1e-8)
        self.d_opt = torch.optim.Adam(self.d.parameters(), lr=s["lr"], betas=betas, eps=1e-8)
        n, b, r, latent = s["n_critic"], s["batch"], s["resolution"], s["latent_dim"]
        self.real = torch.rand(n, b, s["channels"], r, r) * 2 - 1
        self.z_d = torch.randn(n, b, latent)
        self.z_g = torch.randn(s["g_batch"], latent)
        self.g.train()
        self.d.train()
        self.mkldnn = mkldnn
        # The optimizers and the EMA hold the original modules' parameters, which the compiled wrappers share.
        nets, self.real = prepare(dict(g=self.g, d=self.d, ema=self.ema), self.real, channels_last, compiled)
        self.g, self.d = nets["g"], nets["d"]

    def _d_step(self, k):
        with torch.no_grad():
            fake = self.g(self.z_d[k])
        return d_step(self.d, self.d_opt, self.real[k], fake)

    def _g_step(self):
        return g_step(self.g, self.d, self.g_opt, self.z_g)

    @torch.no_grad()
    def _update_ema(self):
        decay = self.s["ema_decay"]
        for e, p in zip(self.ema.parameters(), self.g.parameters()):
            e.lerp_(p, 1.0 - decay)
        for e, b in zip(self.ema.buffers(), self.g.buffers()):
            e.copy_(b)

    def __call__(self):
        with onednn(self.mkldnn):
            for k in range(self.s["n_critic"]):
                d_loss = self._d_step(k)
            g_loss = self._g_step()
            self._update_ema()
        return float(d_loss.detach()), float(g_loss.detach())


def describe(step):
    """The sizes and parameter counts of `step` as a benchmark row's info."""
    s = step.s
    return dict(g_arch="sngan", g_ch=s["g_ch"], d_arch="sngan", d_ch=s["d_ch"], resolution=s["resolution"],
                batch=s["batch"], g_batch=s["g_batch"], n_critic=s["n_critic"], g_params=count_params(step.g),
                d_params=count_params(step.d), ema=True, threads=torch.get_num_threads(),
                torch_version=torch.__version__)
