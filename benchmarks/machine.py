"""What machine a benchmark ran on (CPU model, cores, memory, OS, library versions, GPUs, load) and its measured
dense matmul peak."""

import datetime
import importlib.metadata
import os
import platform
import re

import numpy as np

from benchmarks.timing import time_calls

_PACKAGES = ("tensorflow-cpu", "tensorflow", "keras", "numpy", "torch", "ai-edge-litert")


def _cpuinfo(path="/proc/cpuinfo"):
    """{field: first value} of /proc/cpuinfo ({} when unreadable, e.g. not Linux)."""
    fields = {}
    try:
        with open(path, encoding="utf-8") as f:
            for key, sep, value in (line.partition(":") for line in f):
                if sep:
                    fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return fields


def slug(text):
    """Lower-case, dash-separated ASCII of `text` ("AMD EPYC 7B13" -> "amd-epyc-7b13")."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


def cpu_model():
    """The CPU model name (platform.processor() when /proc/cpuinfo has none)."""
    return _cpuinfo().get("model name") or platform.processor() or platform.machine() or "unknown-cpu"


def machine_id(gpus=()):
    """`<cpu model slug>-<ncores>c` (+ `-<n>gpu-<first gpu slug>` when GPUs are present): the results folder."""
    return f"{slug(cpu_model())}-{os.cpu_count()}c" + (f"-{len(gpus)}gpu-{slug(gpus[0])}" if gpus else "")


def load_average():
    """(1, 5, 15 minute) load averages (None where the OS has none)."""
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def now():
    """The local time to the second, ISO format (when a row or a run was measured)."""
    return datetime.datetime.now().isoformat(timespec="seconds")


def _version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def gpu_names():
    """Names of the GPUs TensorFlow sees (imports TensorFlow)."""
    import tensorflow as tf

    return [tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name)
            for gpu in tf.config.list_physical_devices("GPU")]


def describe(gpus=()):
    """The machine as a dict: id, CPU model, cores, SIMD flags, memory, OS, Python, package versions, GPUs."""
    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    return dict(
        machine_id=machine_id(gpus), cpu_model=cpu_model(), cores=os.cpu_count(),
        cpu_mhz=info.get("cpu MHz"), cache=info.get("cache size"),
        simd=[f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile") if f in flags],
        memory_gib=round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30, 1),
        platform=platform.platform(), python=platform.python_version(),
        packages={name: version for name in _PACKAGES if (version := _version(name))}, gpus=list(gpus))


def matmul_throughput(library, n=2048, repeats=5, dtype="float32"):
    """(best GFLOP/s of wall time, best GFLOP per CPU-second) of `repeats` n x n matmuls in `dtype` of `library`
    (tf: the result fetched each call; numpy: float32 only; torch: the optional `bench` extra) after one warm-up,
    2 n^3 FLOPs per product.

    The second figure divides by the process CPU time (all threads), so it is what the cores deliver while they
    run this work: other processes on a shared machine lower the first figure much more than the second.
    """
    if library == "tf":
        import tensorflow as tf

        with tf.device("/CPU:0"):
            a, b = (tf.cast(tf.random.stateless_normal((n, n), seed=(0, i)), dtype) for i in (0, 1))
            matmul = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
            stats = time_calls(lambda: matmul().numpy(), 1, repeats)
    elif library == "torch":
        import torch  # optional (the `bench` extra)

        a, b = (torch.randn(n, n, generator=torch.Generator().manual_seed(i)).to(getattr(torch, dtype)) for i in (0, 1))
        stats = time_calls(lambda: torch.matmul(a, b), 1, repeats)
    else:
        a, b = (np.random.default_rng(i).standard_normal((n, n), dtype=np.float32) for i in (0, 1))
        stats = time_calls(lambda: a @ b, 1, repeats)
    return 2 * n ** 3 / stats["min_s"] / 1e9, 2 * n ** 3 / max(stats["min_cpu_s"], 1e-9) / 1e9


# (key prefix, library, dtype) of every matmul peak measured; NumPy's BLAS has no bfloat16.
PEAK_SOURCES = (("tf_matmul", "tf", "float32"), ("tf_matmul_bf16", "tf", "bfloat16"),
                ("numpy_matmul", "numpy", "float32"), ("torch_matmul", "torch", "float32"),
                ("torch_matmul_bf16", "torch", "bfloat16"))


def best_over_sizes(measure, sizes, repeats):
    """{'gflops', 'gflops_per_cpu_s', 'n', 'cpu_n', 'by_size'}: the best of `measure(n, repeats)` ->
    (GFLOP/s, GFLOP per CPU-second) over `sizes`, each figure at its own best size (a peak must not be understated
    by one unlucky size)."""
    by_size = {n: measure(n, repeats) for n in sizes}
    wall_n = max(by_size, key=lambda n: by_size[n][0])
    cpu_n = max(by_size, key=lambda n: by_size[n][1])
    return dict(gflops=by_size[wall_n][0], n=wall_n, gflops_per_cpu_s=by_size[cpu_n][1], cpu_n=cpu_n,
                by_size={str(n): list(v) for n, v in by_size.items()})


def matmul_peaks(sizes, repeats):
    """Every PEAK_SOURCES peak as flat row fields (`<prefix>_gflops`, `<prefix>_gflops_per_cpu_s`, `<prefix>_n`,
    `<prefix>_by_size`); a source whose library is missing gets `<prefix>_error`."""
    out = {}
    for prefix, library, dtype in PEAK_SOURCES:
        try:
            best = best_over_sizes(lambda n, r, lib=library, d=dtype: matmul_throughput(lib, n, r, d), sizes, repeats)
        except ImportError as err:
            out[f"{prefix}_error"] = str(err)
            continue
        out.update({f"{prefix}_{key}": value for key, value in best.items()})
    return out


def higher_peaks(machine_rows):
    """The machine row whose peak fields (`*_gflops*`) are the highest of all `machine_rows` (measured at the
    start and the end of a run), so that 'of peak' is never taken against a peak lowered by a busy moment; the
    other fields come from the first row."""
    merged = dict(machine_rows[0], peak_from={})
    for row in machine_rows:
        for key, value in row.items():
            if "_gflops" in key and isinstance(value, (int, float)) and value >= (merged.get(key) or 0):
                merged[key] = value
                merged["peak_from"][key] = row.get("task")
    return merged


def best_peak(machine_row, dtype="float32", per_cpu_s=False):
    """(GFLOP/s or GFLOP per CPU-second, source key) of the fastest matmul of `dtype` in `machine_row`: the
    highest of TF, NumPy and PyTorch, so that 'of peak' is never taken against a library's weaker BLAS."""
    suffix = "_gflops_per_cpu_s" if per_cpu_s else "_gflops"
    keys = [prefix + suffix for prefix, _, d in PEAK_SOURCES if d == dtype and machine_row.get(prefix + suffix)]
    if not keys:
        return None, None
    key = max(keys, key=machine_row.get)
    return machine_row[key], key
