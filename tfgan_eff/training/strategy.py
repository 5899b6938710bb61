"""tf.distribute strategies chosen by name."""

import json
import os

import tensorflow as tf
from absl import logging

from tfgan_eff.errors import UserError

_TF_CONFIG_EXAMPLE = ('TF_CONFIG=\'{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", '
                      '"index": 0}}\' on each worker, its own index on each (see docs/distribution.md)')


class StrategyError(UserError, ValueError):
    """The requested strategy cannot run here (no TPU, no or a malformed TF_CONFIG)."""


def _tf_config_problem(text):
    """Why TF_CONFIG (a JSON string, or None when unset) cannot describe a multi-worker cluster; None when it can."""
    if text is None:
        return "TF_CONFIG is not set"
    try:
        config = json.loads(text)
    except ValueError as err:
        return f"TF_CONFIG is not JSON ({err})"
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if not (isinstance(cluster, dict) and cluster and all(
            isinstance(hosts, list) and hosts and all(isinstance(h, str) for h in hosts)
            for hosts in cluster.values())):
        return f"TF_CONFIG needs \"cluster\": {{job name: [\"host:port\", ...]}}, got {text!r}"
    if not (isinstance(task, dict) and task.get("type") in cluster and isinstance(task.get("index"), int)
            and 0 <= task["index"] < len(cluster[task["type"]])):
        return (f"TF_CONFIG needs \"task\": {{\"type\": one of {sorted(cluster)}, \"index\": this process's "
                f"place in that job's list}}, got {text!r}")
    return None


def split_cpu(num_devices):
    """Splits the host CPU into `num_devices` logical devices (must run before TF initialises its devices)."""
    cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * num_devices)


def set_threads(intra_op, inter_op):
    """Sets TensorFlow's CPU thread pools (0 leaves TF's default) and returns the (intra-op, inter-op) numbers in
    effect (0 = TF's default, one per core).

    TF fixes them when it starts; a request that differs from the running setting after that cannot be applied:
    it is logged as a warning and the process keeps its threads (they change the speed, and the results only up to
    float rounding).
    """
    threading = tf.config.threading
    pools = (("train.intra_op_threads", intra_op, threading.get_intra_op_parallelism_threads,
              threading.set_intra_op_parallelism_threads),
             ("train.inter_op_threads", inter_op, threading.get_inter_op_parallelism_threads,
              threading.set_inter_op_parallelism_threads))
    for key, wanted, current, setter in pools:
        if wanted and wanted != current():
            try:
                setter(wanted)
            except RuntimeError:
                logging.warning("%s=%d not applied: TensorFlow already runs in this process with %s; it takes "
                                "effect in a new process", key, wanted, current() or "its default")
    return tuple(current() for *_, current, _ in pools)


def get_strategy(name="auto"):
    """Returns the strategy named `name`.

    auto: MirroredStrategy over all GPUs when there is more than one, else the default strategy.
    cpu: the default strategy. mirrored: MirroredStrategy over all GPUs (or all logical CPUs when there is no GPU).
    multi_worker: MultiWorkerMirroredStrategy from TF_CONFIG. tpu: TPUStrategy (clear error when no TPU is found).
    """
    if name == "cpu":
        return tf.distribute.get_strategy()
    if name == "auto":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    if name == "multi_worker":
        problem = _tf_config_problem(os.environ.get("TF_CONFIG"))
        if problem:
            raise StrategyError(f"--strategy=multi_worker: {problem}. Set {_TF_CONFIG_EXAMPLE}, or pass "
                                "--strategy=auto on one machine")
        logging.info("TF_CONFIG: %s", json.loads(os.environ["TF_CONFIG"]))
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
        except (ValueError, tf.errors.NotFoundError, RuntimeError) as err:
            raise StrategyError(f"--strategy=tpu but no TPU was found ({' '.join(str(err).split())}): run on a TPU "
                                "VM, or pass --strategy=auto") from err
        return tf.distribute.TPUStrategy(resolver)
    raise StrategyError(f"unknown strategy {name!r}: pass --strategy=auto, cpu, mirrored, multi_worker or tpu")


def is_chief(strategy):
    """True on the process that owns the work dir (always, except on non-chief multi-worker processes)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    return resolver.task_type == "chief" or (resolver.task_type == "worker" and resolver.task_id == 0
                                              and "chief" not in resolver.cluster_spec().as_dict())


def worker_workdir(workdir, strategy):
    """The chief writes `workdir`; every other worker of a multi-worker run must still save (checkpointing is
    collective), so it writes to `workdir/workers/<task>` which is never read back."""
    if is_chief(strategy):
        return workdir
    resolver = strategy.cluster_resolver
    return os.path.join(workdir, "workers", f"{resolver.task_type}_{resolver.task_id}")
