"""Interleaved groups (`GROUPS`; what each compares: benchmarks/README.md): steps built side by side in one process,
then timed in turn (A, B, C, A, B, C, ...) over the same rounds, so that a load change on the shared machine hits
every member alike and the ratios between them (taken round by round, see `timing.round_ratios`) can carry a claim.
`+1t` runs a group on one thread.
"""

import importlib
import time

from absl import logging

from benchmarks import configs, machine, settings
from benchmarks.cases import CASES, REPLICA_CASES, Case, Skipped, derived_genotype
from benchmarks.timing import time_interleaved, with_rates


def _torch_module(name):
    """benchmarks.<name> (a PyTorch step); Skipped when torch is not installed."""
    try:
        # torch is optional (the `bench` extra): only the PyTorch builders need it
        return importlib.import_module(f"benchmarks.{name}")
    except ImportError as err:
        raise Skipped(f"torch is not installed ({err}); pip install -e '.[bench]'") from err


def _torch_peers(prefix, module, configs_of, make, options):
    """[(member, builder(quick, xla) -> Case)] of a PyTorch step (benchmarks.<module>) in every configuration of
    `configs_of` under task `options`: make(module, quick, the configuration's step options, its name) -> Case,
    called on the configuration's torch threads when it sets them (torch_alphagan.OnThreads). Skipped when torch is
    not installed, and at one thread for torch.compile (compiling takes minutes here: it is tried at all cores) and
    thread settings."""
    def builder(config):
        def build(quick, xla):
            del xla
            step_options = dict(configs_of[config])
            if "1t" in options and step_options.get("compiled"):
                raise Skipped("torch.compile is tried at all cores only "
                              "(its compilation takes minutes on this machine)")
            if "1t" in options and step_options.get("threads"):
                raise Skipped("at one thread this is the same configuration without the thread setting")
            threads = step_options.pop("threads", None)
            case = make(_torch_module(module), quick, step_options, config)
            if threads:
                case.step = _torch_module("torch_alphagan").OnThreads(case.step, threads)
            return case
        return build
    return [(settings.torch_member(config, prefix), builder(config)) for config in configs_of]


def _sngan_peer(torch_sngan, quick, step_options, config):
    """The PyTorch SNGAN step (settings.TORCH_CONFIGS)."""
    step = torch_sngan.SNGANStep(settings.sngan_settings(quick), **step_options)
    info = dict(torch_sngan.describe(step), config=config)
    return Case(f"PyTorch SNGAN ({config})", "baseline", step, info["n_critic"] * info["batch"], None, info,
                owner=step)


def _search_peer(torch_alphagan, quick, step_options, config):
    """alphaGAN's search step in PyTorch (torch_alphagan.SearchStep, settings.TORCH_SEARCH_CONFIGS) at the sizes of
    our `search_step` case."""
    s = configs.search_settings(configs.search(quick))
    step = torch_alphagan.SearchStep(s, **step_options)
    info = dict(torch_alphagan.describe(step.g_net, step.d_net, s), config=config, g_arch="supernet", g_ch=s["ch"],
                d_ch=s["d_ch"], resolution=s["resolution"], batch=s["batch"], g_batch=s["batch"], n_critic=1)
    return Case(f"PyTorch alphaGAN search step ({config})", "search", step, s["batch"], None, info, owner=step)


def _derived_peer(torch_alphagan, quick, step_options, config):
    """The derived net's GANTrainer step in PyTorch (torch_alphagan.derived_step, settings.TORCH_DERIVED_CONFIGS)
    at the sizes of our `search_derived` case."""
    genotype = derived_genotype(quick)
    s = configs.trainer_settings(configs.derived(quick, "alphagan_s"), genotype)
    step = torch_alphagan.derived_step(s, {t: genotype.ops(t) for t in torch_alphagan.EDGES}, **step_options)
    info = dict(torch_alphagan.describe(step.g, step.d, s), config=config, g_arch="genotype", g_ch=s["ch"],
                d_ch=s["d_ch"], resolution=s["resolution"], batch=s["batch"], g_batch=s["g_batch"],
                n_critic=s["n_critic"])
    return Case(f"PyTorch alphaGAN derived net step ({config})", "search", step, s["n_critic"] * s["batch"], None,
                info, owner=step)


def _cases(*names):
    return [(name, CASES[name]) for name in names]


# group -> options -> [(member, builder(quick, xla) -> Case)], timed in this order in every round.
GROUPS = {
    "versus": lambda options: _cases("baseline_sngan") + _torch_peers(
        settings.TORCH_MEMBER, "torch_sngan", settings.TORCH_CONFIGS, _sngan_peer, options),
    "pairs": lambda options: _cases("dgl_stage1", "dgl_stage2", "sparse_dense", "sparse_static", "sparse_dynamic",
                                    "search_derived", "search_supernet"),
    "mirrored": lambda options: list(REPLICA_CASES.items()),
    "alphagan": lambda options: (
        _cases("search_step")
        + _torch_peers("torch_search", "torch_alphagan", settings.TORCH_SEARCH_CONFIGS, _search_peer, options)
        + _cases("search_derived")
        + _torch_peers("torch_derived", "torch_alphagan", settings.TORCH_DERIVED_CONFIGS, _derived_peer, options)),
    "retrain": lambda options: _cases("retrain_derived", "retrain_sngan"),
}
# Alternatives of one another (members whose name starts with one of the prefixes, each prefix its own set): after
# one screening round, only those within SCREEN_FACTOR of the fastest alternative in wall time or of the cheapest in
# CPU time are timed (one 2x slower cannot be the best; this bounds the run on a loaded machine). The others keep
# their screening call.
SCREENED = {"versus": (settings.TORCH_MEMBER,), "alphagan": ("torch_search", "torch_derived")}
SCREEN_FACTOR = 2.0
# Timed rounds of a group whose steps are short and whose claims need more of them (default: settings).
ROUNDS = {"alphagan": 15, "retrain": 15}


def screen(names, costs, prefixes, factor=SCREEN_FACTOR):
    """The members of `names` to time, given the (wall, CPU) seconds of their screening calls: all that start with
    none of `prefixes`, and for each prefix the alternatives (members that start with it) within `factor` x the
    fastest alternative's wall time or the cheapest alternative's CPU time."""
    kept = [n for n in names if not any(n.startswith(p) for p in prefixes)]
    for prefix in prefixes:
        alternatives = [(n, c) for n, c in zip(names, costs) if n.startswith(prefix)]
        if alternatives:
            wall, cpu = min(w for _, (w, _) in alternatives), min(c for _, (_, c) in alternatives)
            kept += [n for n, (w, c) in alternatives if w <= factor * wall or c <= factor * cpu]
    return [n for n in names if n in kept]


def _built(build, quick):
    """(case, build seconds, first-call seconds) of one member; its first call traces/compiles it."""
    t0 = time.perf_counter()
    case = build(quick, False)
    t1 = time.perf_counter()
    case.step()
    return case, t1 - t0, time.perf_counter() - t1


def run(task, group, quick, options=(), suffix=""):
    """Builds every member of `group`, calls each once more (the screening round, also a warm-up), then times the
    screened ones interleaved; returns a summary row (kind 'group': when, load, rounds, members) and one row per
    member (skipped / error / screened-out rows carry the reason)."""
    rows, built = [], []
    members = GROUPS[group](options)
    for member, build in members:
        logging.info("%s: building %s (load %s)", task, member, machine.load_average())  # where a timeout struck
        row = dict(task=f"{task}:{member}", member=member, group=task, options=sorted(options))
        try:
            built.append((row, *_built(build, quick)))
        except Skipped as err:
            rows.append(dict(row, name=member + suffix, status="skipped", reason=str(err)))
        except Exception as err:  # pylint: disable=broad-exception-caught
            # A configuration that does not run here (e.g. torch.compile of D) is reported with its error.
            rows.append(dict(row, name=member + suffix, status="error",
                             reason=f"{type(err).__name__}: {err}".splitlines()[0][:300]))
    screening = time_interleaved([case.step for _, case, *_ in built], 0, 1) if built else []
    names = [row["member"] for row, *_ in built]
    kept = screen(names, [(st["median_s"], st["median_cpu_s"]) for st in screening], SCREENED.get(group, ()))
    timed = []
    for (row, case, build_s, first_call_s), st in zip(built, screening):
        row = dict(row, name=case.name + suffix, method=case.method, build_s=build_s, first_call_s=first_call_s,
                   screening_s=st["median_s"], screening_cpu_s=st["median_cpu_s"], flops_per_step=case.flops_per_step,
                   images_per_step=case.images_per_step, info=case.info)
        if row["member"] in kept:
            timed.append((row, case))
        else:
            rows.append(dict(row, status="screened out", reason=f"its screening call took {st['median_s']:.1f} s "
                             f"wall ({st['median_cpu_s']:.1f} CPU-s), more than {SCREEN_FACTOR:g}x the fastest "
                             "alternative's in both"))
    warmup, rounds = settings.interleaved_settings(quick)
    rounds = rounds if quick else ROUNDS.get(group, rounds)
    logging.info("%s: timing %s over %d rounds", task, [row["member"] for row, _ in timed], rounds)
    summary = dict(task=task, kind="group", status="ok", started=machine.now(), load_before=machine.load_average(),
                   warmup=warmup, rounds=rounds, members=[row["task"] for row, _ in timed])
    t0 = time.perf_counter()
    stats = time_interleaved([case.step for _, case in timed], warmup, rounds) if timed else []
    summary.update(wall_s=time.perf_counter() - t0, load_after=machine.load_average())
    for (row, case), st in zip(timed, stats):
        rows.append(dict(row, status="ok", **with_rates(st, case.images_per_step)))
    order = [member for member, _ in members]
    return [summary] + sorted(rows, key=lambda r: order.index(r["member"]))
