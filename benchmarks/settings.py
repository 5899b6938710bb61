"""Sizes, task names and round counts shared by the benchmark's processes (no TensorFlow import here: the torch
worker and the parent process read it)."""

# SNGAN 32 px, the papers' CIFAR-10 recipe at 64 channels (a step of ~2 s on 2 CPU cores): 64 channels in G and D,
# D batch 64, G batch 128, 5 D steps per G step, hinge loss, Adam(2e-4, 0.0, 0.9), spectral norm in D only, G-EMA 0.999.
SNGAN = dict(resolution=32, channels=3, latent_dim=128, g_ch=64, d_ch=64, batch=64, g_batch=128, n_critic=5,
             lr=2e-4, beta1=0.0, beta2=0.9, ema_decay=0.999)
# --quick: the same step at toy size (seconds, for tests).
SNGAN_QUICK = dict(SNGAN, resolution=16, latent_dim=16, g_ch=8, d_ch=8, batch=4, g_batch=4, n_critic=2)
# The PyTorch CPU configurations of that step timed against TF's (name -> torch_sngan.SNGANStep options): memory
# format of models and inputs, oneDNN (mkldnn) kernels on or off, torch.compile (inductor) of G or of G and D.
TORCH_CONFIGS = {
    "eager": {},
    "channels_last": dict(channels_last=True),
    "oneDNN off": dict(mkldnn=False),
    "compiled G": dict(compiled=("g",)),
    "compiled G and D": dict(compiled=("g", "d")),
}
# Inside an interleaved group the PyTorch step in configuration c is the member f"{TORCH_MEMBER}[{c}]".
TORCH_MEMBER = "torch_sngan"
# The PyTorch CPU configurations of alphaGAN's search step (torch_alphagan.SearchStep options; "fused": an edge's
# plain convs as one conv, as our supernet computes them; threads: torch's intra-op threads during the step, for the
# all-cores groups: its ops are small, and two OpenMP threads wait on each other at every op of a shared machine) and
# of its derived net's step (torch_alphagan.derived_step options). Left out: "fused" in NCHW (slower than both
# channels_last configurations), torch.compile of D (spectral norm's in-place update fails in its backward, SNGAN
# rows) and of the supernet G (its compilation takes over 15 minutes on 2 CPU cores; docs/speed.md).
TORCH_SEARCH_CONFIGS = {
    "eager": {},
    "channels_last": dict(channels_last=True),
    "fused, channels_last": dict(fused=True, channels_last=True),
    "fused, channels_last, 1 thread": dict(fused=True, channels_last=True, threads=1),
}
TORCH_DERIVED_CONFIGS = {
    "eager": {},
    "channels_last": dict(channels_last=True),
    "channels_last, 1 thread": dict(channels_last=True, threads=1),
    "compiled G": dict(compiled=("g",)),
}
# Our step against its PyTorch peer: (our member, the PyTorch members' prefix, what is compared).
PEERS = (("baseline_sngan", TORCH_MEMBER, "SNGAN step"), ("search_step", "torch_search", "alphaGAN search step"),
         ("search_derived", "torch_derived", "alphaGAN derived-net step"))
# Profiling (benchmarks.profile): op time in the steps, and model construction.
PROFILE_TASKS = ("profile", "profile_build")
# The machine description and matmul peaks, measured at the start and again at the end of a run.
MACHINE_TASKS = ("machine", "machine_end")
# The interleaved groups of benchmarks.interleave (tasks of their own), and those that split the CPU into logical
# devices before TensorFlow starts (group -> devices).
INTERLEAVED_GROUPS = ("versus", "pairs", "mirrored", "alphagan", "retrain")
LOGICAL_CPUS = {"mirrored": 2}
# The tasks of `--tasks=interleaved`: TF vs PyTorch SNGAN at all cores and at 1 thread, README's ratios, replicas,
# alphaGAN's steps vs their PyTorch peers and the retraining cost, as the search preset runs (one thread per op) and
# at 1 thread.
INTERLEAVED = ("versus", "versus+1t", "pairs", "mirrored", "alphagan+op1", "alphagan+1t", "retrain+op1", "retrain+1t")


def run_order(tasks):
    """`tasks` with `interleaved` expanded, the machine measured first and again last (its peaks at both ends)."""
    expanded = [t for task in tasks for t in (INTERLEAVED if task == "interleaved" else (task,))
                if t not in MACHINE_TASKS]
    return ["machine", *expanded, "machine_end"]


def torch_member(config, prefix=TORCH_MEMBER):
    """The member name of the PyTorch step (SNGAN by default; `prefix` of PEERS) in configuration `config` inside an
    interleaved group."""
    return f"{prefix}[{config}]"


def sngan_settings(quick):
    """The SNGAN sizes of a full or --quick benchmark."""
    return dict(SNGAN_QUICK if quick else SNGAN)


def timing_settings(quick):
    """(warm-up calls, timed calls) per row."""
    return (1, 3) if quick else (2, 7)


def interleaved_settings(quick):
    """(warm-up rounds, timed rounds) of an interleaved group (benchmarks.interleave), after each member's first
    call and one screening call, which also warm it up."""
    return (0, 2) if quick else (0, 5)
