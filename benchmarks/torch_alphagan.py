"""alphaGAN's search step and a derived network in PyTorch, written from the official code's definitions
(github.com/yuesongtian/AlphaGAN: models/operations_gan.py, models/cell.py, models/model_search_gan.py,
architect.py, functions.py) at the sizes of our benchmark cases, for a side-by-side timing (optional extra `bench`:
torch==2.13.0). No TensorFlow import: the sizes come in as a plain dict (`benchmarks.configs.alphagan_settings`).

Generator (official `Network_gen_Auto`): Linear(z) -> bottom x bottom x ch, 3 cells, BN -> ReLU -> conv3x3 -> tanh.
A cell with input x: node1 = up0(x), node3 = up1(x), node2 = normal0(node1), node4 = normal1(node2) +
normal2(node3) + skips (cell 2: skip_2 from cell 1's node1 at x2; cell 3: skip_3 from cell 1's node1 at x4 and from
cell 2's node1 at x2). Candidates (official OPS): conv_kxk = ReLU -> Conv2d(k, bias); sep_conv_kxk = ReLU -> depthwise
kxk -> pointwise -> BN -> ReLU -> depthwise kxk -> pointwise -> BN (no conv bias); deconv = ConvTranspose2d(2, 2) with
bias (one module applied twice at x4); nearest / bilinear = F.interpolate x2 (align_corners False). BN inside
candidates is non-affine in the supernet and affine in a derived net. Two settings of our search space are options:
op set "normalized" puts a BN between ReLU and conv in the plain convs (the official `conv_kxk_bn` order, without
its spectral norm), padding "reflect" reflect-pads every kxk conv instead of zero-padding it.

Supernet (official `MixedOp`): every edge is sum_k softmax(alpha)_k op_k(x), every candidate computed; with
`fused=True` the plain convs of an edge run as one conv of the alpha-weighted, zero-padded kernels (what our
supernet does; the same values up to float rounding, fewer FLOPs), so both sides can be compared at equal FLOPs.
The alphas are plain tensors outside `parameters()` (as in the official code), 8 tensors of 81 scalars.

Search step (`SearchStep`): one inner D step (G forward not differentiated, hinge loss on D(real) and D(G(z)), Adam),
one G step (-mean D(G(z)), D frozen, the weights only), and one first-order architecture step (official
`Architect_gen._backward_step`: DG = V(G, D_worst) - V(G_worst, D), differentiated into the alphas only, Adam with
coupled weight decay). D (and its worst-case copy) is the SNGAN/AutoGAN D of `benchmarks.torch_sngan` with spectral
norm; the worst-case copies run as the architecture step uses them (no update here: they are trained by other steps
of a round). Derived step (`derived_step`): the GANTrainer step of a genotype's net (`torch_sngan.SNGANStep` with
this G: n_critic D steps, one G step, G-EMA).
"""

# The cell wiring below is written again from the official code, on purpose (no TensorFlow import, and an
# independent reading of the official design): pylint sees it in tfgan_eff/search/space.py too.
# pylint: disable=duplicate-code
import torch
from torch import nn
from torch.nn import functional as F

from benchmarks import torch_sngan

NORMAL_OPS = ("conv_1x1", "conv_3x3", "conv_5x5", "sep_conv_3x3", "sep_conv_5x5", "sep_conv_7x7")
PLAIN_CONVS = NORMAL_OPS[:3]
UP_OPS = ("deconv", "nearest", "bilinear")
# The official generator's edges: tensor -> (candidates, up-sampling scale of each row), in its alphas' order.
EDGES = {**{f"normal_{c}": (NORMAL_OPS, (1, 1, 1)) for c in (1, 2, 3)},
         **{f"up_{c}": (UP_OPS, (2, 2)) for c in (1, 2, 3)},
         "skip_2": (UP_OPS, (2,)), "skip_3": (UP_OPS, (4, 2))}
SKIPS = {1: ("skip_2", (0,)), 2: ("skip_3", (0, 1))}  # cell index -> (tensor, source cell of each row)


def _conv(cin, cout, k, padding, groups=1, bias=True):
    """A size-preserving kxk conv, zero- or reflect-padded (odd k)."""
    return nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups, bias=bias,
                     padding_mode="zeros" if padding == "zero" else "reflect")


class PlainConv(nn.Sequential):
    """conv_kxk: ReLU -> Conv2d(k) with bias; op set "normalized": ReLU -> BN -> Conv2d."""

    def __init__(self, ch, k, affine, op_set, padding):
        norm = [nn.BatchNorm2d(ch, affine=affine)] if op_set == "normalized" else []
        super().__init__(nn.ReLU(), *norm, _conv(ch, ch, k, padding))


class SepConv(nn.Sequential):
    """DARTS sep conv: (ReLU -> depthwise kxk -> pointwise 1x1 -> BN) twice, convs without bias."""

    def __init__(self, ch, k, affine, padding):
        def half():
            return [nn.ReLU(), _conv(ch, ch, k, padding, groups=ch, bias=False), nn.Conv2d(ch, ch, 1, bias=False),
                    nn.BatchNorm2d(ch, affine=affine)]
        super().__init__(*half(), *half())


class Deconv(nn.Module):
    """ConvTranspose2d(k2, s2) with bias, applied log2(scale) times with the same weights."""

    def __init__(self, ch, scale):
        super().__init__()
        self.times = scale // 2
        self.deconv = nn.ConvTranspose2d(ch, ch, 2, stride=2)

    def forward(self, x):
        for _ in range(self.times):
            x = self.deconv(x)
        return x


class Resize(nn.Module):
    """x2 nearest / bilinear (half-pixel centres) interpolation, applied log2(scale) times."""

    def __init__(self, mode, scale):
        super().__init__()
        self.mode, self.times = mode, scale // 2

    def forward(self, x):
        for _ in range(self.times):
            x = F.interpolate(x, scale_factor=2, mode=self.mode, **({} if self.mode == "nearest" else
                                                                    dict(align_corners=False)))
        return x


def make_op(name, ch, scale, affine, op_set, padding):
    """The official candidate `name` for `ch` channels."""
    if name.startswith("sep_conv"):
        return SepConv(ch, int(name[-1]), affine, padding)
    if name in PLAIN_CONVS:
        return PlainConv(ch, int(name[-1]), affine, op_set, padding)
    if name == "deconv":
        return Deconv(ch, scale)
    return Resize(name, scale)


class FusedPlainConvs(nn.Module):
    """The plain convs of one supernet edge as one conv: sum_k w_k conv(h, K_k) + b_k = conv(h, sum_k w_k pad(K_k)) +
    sum_k w_k b_k, with h = ReLU(x) (op set "normalized": one non-affine BN of it, which each candidate's own
    parameter-free BN would compute alike)."""

    def __init__(self, ch, op_set, padding):
        super().__init__()
        self.sizes = [int(name[-1]) for name in PLAIN_CONVS]
        self.norm = nn.BatchNorm2d(ch, affine=False) if op_set == "normalized" else None
        self.padding = padding
        self.convs = nn.ModuleList(nn.Conv2d(ch, ch, k) for k in self.sizes)  # padded in forward

    def forward(self, x, weights):
        h = F.relu(x)
        h = self.norm(h) if self.norm is not None else h
        size = max(self.sizes)
        kernel = sum(w * F.pad(c.weight, [(size - k) // 2] * 4) for w, c, k in zip(weights, self.convs, self.sizes))
        bias = sum(w * c.bias for w, c in zip(weights, self.convs))
        p = size // 2
        if self.padding == "reflect":
            return F.conv2d(F.pad(h, [p] * 4, mode="reflect"), kernel, bias)
        return F.conv2d(h, kernel, bias, padding=p)


class MixedEdge(nn.Module):
    """Official MixedOp: sum_k w_k op_k(x) over every candidate (non-affine BNs); `fused`: plain convs as one."""

    def __init__(self, names, ch, scale, op_set, padding, fused):
        super().__init__()
        self.fused_index = [k for k, n in enumerate(names) if n in PLAIN_CONVS] if fused else []
        self.fused = FusedPlainConvs(ch, op_set, padding) if self.fused_index else None
        self.index = [k for k in range(len(names)) if k not in self.fused_index]
        self.candidates = nn.ModuleList(make_op(names[k], ch, scale, False, op_set, padding) for k in self.index)

    def forward(self, x, weights):
        out = sum(weights[k] * op(x) for k, op in zip(self.index, self.candidates))
        if self.fused is not None:
            out = out + self.fused(x, weights[self.fused_index])
        return out


class CellGenerator(nn.Module):
    """The official cell network; `genotype` ({tensor: [op per row]}) makes a derived net, None the supernet."""

    def __init__(self, s, genotype=None, fused=False):
        super().__init__()
        ch, self.ch = s["ch"], s["ch"]
        self.bottom = s["resolution"] // 8
        self.stem = nn.Linear(s["latent_dim"], self.bottom * self.bottom * ch)
        op_set, padding = s["op_set"], s["padding"]
        if genotype is None:
            self.edges = nn.ModuleDict({t: nn.ModuleList(MixedEdge(names, ch, scale, op_set, padding, fused)
                                                         for scale in scales) for t, (names, scales) in EDGES.items()})
            self.alphas = {t: (1e-3 * torch.randn(len(scales), len(names))).requires_grad_()
                           for t, (names, scales) in EDGES.items()}
        else:
            self.edges = nn.ModuleDict({t: nn.ModuleList(make_op(genotype[t][row], ch, scale, True, op_set, padding)
                                                         for row, scale in enumerate(scales))
                                        for t, (_, scales) in EDGES.items()})
            self.alphas = None
        self.head = nn.Sequential(nn.BatchNorm2d(ch), nn.ReLU(), nn.Conv2d(ch, s["channels"], 3, padding=1), nn.Tanh())

    def forward(self, z):
        mix = None if self.alphas is None else {t: F.softmax(a, dim=-1) for t, a in self.alphas.items()}

        def edge(tensor, row, x):
            layer = self.edges[tensor][row]
            return layer(x) if mix is None else layer(x, mix[tensor][row])

        h = self.stem(z).view(-1, self.ch, self.bottom, self.bottom)
        node1s = []
        for c in range(3):
            node1, node3 = edge(f"up_{c + 1}", 0, h), edge(f"up_{c + 1}", 1, h)
            node4 = edge(f"normal_{c + 1}", 1, edge(f"normal_{c + 1}", 0, node1)) + edge(f"normal_{c + 1}", 2, node3)
            if c in SKIPS:
                tensor, sources = SKIPS[c]
                for row, source in enumerate(sources):
                    node4 = node4 + edge(tensor, row, node1s[source])
            node1s.append(node1)
            h = node4
        return self.head(h)


def _discriminator(s):
    return torch_sngan.Discriminator(s["d_ch"], s["resolution"], s["channels"])


def hinge_value(d, real, fake):
    """V(G, D) = -E relu(1 - D(x)) - E relu(1 + D(G(z)))."""
    return -(F.relu(1 - d(real)).mean() + F.relu(1 + d(fake)).mean())


class SearchStep:
    """One inner D step, one G step and one architecture step of the search; `__call__` runs them.

    channels_last / mkldnn / compiled as in `torch_sngan.SNGANStep` (compiled: "g" and/or "d", which also compiles
    the worst-case copies); fused: the supernets' plain convs as one conv per edge.
    """

    def __init__(self, s, seed=0, channels_last=False, mkldnn=True, compiled=(), fused=False):
        torch.manual_seed(seed)
        self.s, self.mkldnn = s, mkldnn
        self.g_net, self.g_worst_net = CellGenerator(s, fused=fused), CellGenerator(s, fused=fused)
        self.d_net, self.d_worst_net = _discriminator(s), _discriminator(s)
        self.g_worst_net.load_state_dict(self.g_net.state_dict())
        self.d_worst_net.load_state_dict(self.d_net.state_dict())
        for net in (self.g_net, self.g_worst_net, self.d_net):
            net.train()
        self.d_worst_net.eval()  # the architecture step runs D_worst without power iterations (training=False)
        adam = dict(lr=s["lr"], betas=(s["beta1"], s["beta2"]), eps=1e-8)
        self.g_opt = torch.optim.Adam(self.g_net.parameters(), **adam)
        self.d_opt = torch.optim.Adam(self.d_net.parameters(), **adam)
        self.alphas = list(self.g_net.alphas.values())
        self.arch_opt = torch.optim.Adam(self.alphas, lr=s["arch_lr"], betas=(s["arch_beta1"], s["arch_beta2"]),
                                         eps=s["arch_eps"], weight_decay=s["arch_weight_decay"])  # coupled L2
        b, r = s["batch"], s["resolution"]
        real = [torch.rand(b, s["channels"], r, r) * 2 - 1 for _ in range(2)]
        self.z = [torch.randn(b, s["latent_dim"]) for _ in range(3)]
        nets = dict(g=self.g_net, g_worst=self.g_worst_net, d=self.d_net, d_worst=self.d_worst_net)
        names = {k: k.split("_")[0] for k in nets}
        nets, self.real = torch_sngan.prepare(nets, real, channels_last, {k for k in nets if names[k] in compiled})
        self.g, self.g_worst, self.d, self.d_worst = (nets[k] for k in ("g", "g_worst", "d", "d_worst"))

    def _d_step(self):
        with torch.no_grad():
            fake = self.g(self.z[0])
        return torch_sngan.d_step(self.d, self.d_opt, self.real[0], fake)

    def _g_step(self):  # the weights, not the alphas
        return torch_sngan.g_step(self.g, self.d, self.g_opt, self.z[1], list(self.g_net.parameters()))

    def _arch_step(self):
        self.d_net.eval()
        for net in (self.d_net, self.d_worst_net):
            net.requires_grad_(False)
        minmax = hinge_value(self.d_worst, self.real[1], self.g(self.z[2]))
        with torch.no_grad():
            maxmin = hinge_value(self.d, self.real[1], self.g_worst(self.z[1]))
        self.arch_opt.zero_grad(set_to_none=True)
        minmax.backward(inputs=self.alphas)  # d DG / d alpha: maxmin does not depend on the alphas
        self.arch_opt.step()
        self.d_net.requires_grad_(True)
        self.d_net.train()
        return minmax - maxmin

    def __call__(self):
        with torch_sngan.onednn(self.mkldnn):
            losses = self._d_step(), self._g_step(), self._arch_step()
        return tuple(float(t.detach()) for t in losses)


def derived_step(s, genotype, seed=0, channels_last=False, mkldnn=True, compiled=()):
    """The GANTrainer step (n_critic D steps, one G step, G-EMA) of the derived net of `genotype` ({tensor: [op per
    row]}) against the SNGAN D, at the sizes and settings of `s` (`benchmarks.configs.trainer_settings`)."""
    return torch_sngan.SNGANStep(dict(s, g_ch=s["ch"]), seed, channels_last, mkldnn, compiled,
                                 make_g=lambda: CellGenerator(s, genotype))


class OnThreads:
    """Calls `step` with torch's intra-op thread pool set to `threads` (restored after every call)."""

    def __init__(self, step, threads):
        self.step, self.threads = step, threads

    def __call__(self):
        previous = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            return self.step()
        finally:
            torch.set_num_threads(previous)


def count_params(g):
    """Trainable parameters of a generator, with the supernet's 81 alphas (TF's count holds them as variables)."""
    alphas = sum(a.numel() for a in g.alphas.values()) if g.alphas is not None else 0
    return torch_sngan.count_params(g) + alphas


def forward_flops(module, inputs):
    """FLOPs (2 x multiply-adds) of the convolutions and matmuls of one eval-mode forward of `module` on `inputs`,
    counted by torch.utils.flop_counter."""
    from torch.utils.flop_counter import FlopCounterMode

    was_training = module.training
    module.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            module(*inputs)
    finally:
        module.train(was_training)
    return counter.get_total_flops()


def describe(g, d, s):
    """Parameter counts and batch-1 forward conv/matmul FLOPs of generator `g` and discriminator `d` (counted on the
    modules themselves when they are torch.compile wrappers)."""
    g, d = (getattr(m, "_orig_mod", m) for m in (g, d))
    r = s["resolution"]
    return dict(g_params=count_params(g), d_params=torch_sngan.count_params(d),
                g_conv_flops=forward_flops(g, [torch.zeros(1, s["latent_dim"])]),
                d_conv_flops=forward_flops(d, [torch.zeros(1, s["channels"], r, r)]),
                threads=torch.get_num_threads(), torch_version=torch.__version__)
