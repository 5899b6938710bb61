"""Timing and memory measurement: median of timed runs after warm-up, TF allocator peak, process peak RSS."""

import statistics
import time


def _timed(fn):
    """(wall seconds, process CPU seconds summed over threads) of one blocking call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _stats(samples, warmup):
    walls = [w for w, _ in samples]
    cpus = [c for _, c in samples]
    return dict(median_s=statistics.median(walls), min_s=min(walls), max_s=max(walls), runs=len(walls),
                warmup=warmup, times_s=walls, median_cpu_s=statistics.median(cpus), min_cpu_s=min(cpus),
                max_cpu_s=max(cpus), cpu_times_s=cpus)


def time_calls(fn, warmup=2, repeats=5):
    """Calls `fn()` `warmup` times untimed, then `repeats` times timed; returns seconds per call statistics:
    wall time (median, min, max, all) and the median process CPU time (all threads), which a shared machine
    disturbs less than wall time.

    `fn` must block until its work is done (fetch a result with .numpy()).
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    for _ in range(warmup):
        fn()
    return _stats([_timed(fn) for _ in range(repeats)], warmup)


def time_interleaved(fns, warmup=2, repeats=5):
    """Like `time_calls` for several functions, called in turn (A, B, A, B, ...) so that a load change on a
    shared machine hits all of them alike; returns one statistics dict per function."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    for _ in range(warmup):
        for fn in fns:
            fn()
    samples = [[] for _ in fns]
    for _ in range(repeats):
        for fn, out in zip(fns, samples):
            out.append(_timed(fn))
    return [_stats(s, warmup) for s in samples]


def round_ratios(a, b):
    """Ratios a / b of two `time_interleaved` statistics, taken round by round (each round ran a and b back to
    back, so a load change between rounds cancels): median, min and max, in wall and in CPU time."""
    out = {}
    for key, times in (("ratio", "times_s"), ("cpu_ratio", "cpu_times_s")):
        ratios = [x / y for x, y in zip(a[times], b[times])]
        out.update({key: statistics.median(ratios), f"min_{key}": min(ratios), f"max_{key}": max(ratios)})
    return out


def vm_hwm_kib():
    """This process's peak resident set size (VmHWM) in KiB, or None where /proc/self/status is missing."""
    try:
        with open("/proc/self/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_tf_peak(device="CPU:0"):
    """Resets TensorFlow's allocator peak for `device`; False when the device does not track memory."""
    import tensorflow as tf

    try:
        tf.config.experimental.reset_memory_stats(device)
        return True
    except (ValueError, RuntimeError, tf.errors.OpError):
        return False


def tf_peak_bytes(device="CPU:0"):
    """Peak bytes of TensorFlow's allocator on `device` since the last reset (None when not tracked)."""
    import tensorflow as tf

    try:
        return int(tf.config.experimental.get_memory_info(device)["peak"])
    except (ValueError, RuntimeError, tf.errors.OpError):
        return None
