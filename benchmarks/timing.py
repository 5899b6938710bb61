"""Timing and memory measurement: calls timed in turn after warm-up, TF allocator peak, process peak RSS."""

import resource
import statistics
import time


def _timed(fn):
    """(wall seconds, process CPU seconds summed over threads) of one blocking call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def time_interleaved(fns, warmup=2, repeats=5):
    """Calls each of `fns` `warmup` times untimed, then `repeats` times timed, in turn (A, B, A, B, ...) so that a
    load change on a shared machine hits all of them alike. Returns per function: wall seconds per call (median,
    min, max, all) and process CPU seconds (all threads; disturbed less than wall time by other processes).

    Each fn must block until its work is done (fetch a result with .numpy()).
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    for _ in range(warmup):
        for fn in fns:
            fn()
    samples = [[] for _ in fns]
    for _ in range(repeats):
        for fn, out in zip(fns, samples):
            out.append(_timed(fn))
    stats = []
    for sample in samples:
        walls, cpus = [w for w, _ in sample], [c for _, c in sample]
        stats.append(dict(median_s=statistics.median(walls), min_s=min(walls), max_s=max(walls), runs=len(walls),
                          warmup=warmup, times_s=walls, median_cpu_s=statistics.median(cpus), min_cpu_s=min(cpus),
                          max_cpu_s=max(cpus), cpu_times_s=cpus))
    return stats


def time_calls(fn, warmup=2, repeats=5):
    """`time_interleaved` of one function: its statistics dict."""
    return time_interleaved([fn], warmup, repeats)[0]


def with_rates(stats, images_per_step):
    """`time_interleaved` statistics with steps/s and images/s (None without images per step)."""
    step_s = stats["median_s"]
    return dict(stats, steps_per_s=1.0 / step_s, images_per_step=images_per_step,
                images_per_s=images_per_step / step_s if images_per_step else None)


def round_ratios(a, b):
    """Ratios a / b of two `time_interleaved` statistics, taken round by round (each round ran a and b back to
    back, so a load change between rounds cancels): median, min and max, in wall and in CPU time."""
    out = {}
    for key, times in (("ratio", "times_s"), ("cpu_ratio", "cpu_times_s")):
        ratios = [x / y for x, y in zip(a[times], b[times])]
        out.update({key: statistics.median(ratios), f"min_{key}": min(ratios), f"max_{key}": max(ratios)})
    return out


def vm_hwm_kib():
    """This process's peak resident set size in KiB (Linux's ru_maxrss, the VmHWM of /proc/self/status)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


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
