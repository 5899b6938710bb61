"""Shared test set-up: quiet TF, deterministic ops, small configs and a tiny CIFAR-10 on disk."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# One TF thread per op, in the workers and the subprocesses they start (inherited): pytest-xdist already runs one
# worker per core, and the tests' ops are tiny, so a per-op thread pool only adds contention (full suite on 2 cores:
# 8:45 -> 8:06 wall, 15.6 -> 14.1 CPU-minutes). Tests of the thread settings set their own.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")

import numpy as np
import pytest

from tfgan_eff.config import presets


@pytest.fixture
def smoke_cfg():
    """A seconds-long baseline config with evaluation and export off."""
    cfg = presets.smoke(presets.baseline())
    cfg.eval.at_end = False
    cfg.export.enabled = False
    return cfg


def tiny_cifar10_arrays(sizes=(("train", 64), ("test", 8)), seed=0):
    """{split: (uint8 images [n, 32, 32, 3], int64 labels i % 10)}: random CIFAR-10-shaped data."""
    rng = np.random.default_rng(seed)
    return {split: (rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), np.arange(n, dtype=np.int64) % 10)
            for split, n in sizes}


def write_tfds_cifar10(data_dir, arrays):
    """Writes `arrays` ({split: (images, labels)}) as a prepared TFDS `cifar10` under `data_dir`.

    Name, version and features are the registered cifar10 builder's, so `tfds.builder("cifar10", data_dir=...)`
    finds it prepared and reads it with its own code, as it would a `tfds build cifar10` output. Nothing is
    downloaded. (tfds.core.SequentialWriter: store_as_tfds_dataset needs importlib_resources, absent on Python 3.11.)
    """
    import tensorflow_datasets as tfds

    info = tfds.builder("cifar10", data_dir=data_dir).info
    os.makedirs(info.data_dir, exist_ok=True)
    writer = tfds.core.SequentialWriter(info, max_examples_per_shard=1000)
    writer.initialize_splits(list(arrays))
    writer.add_examples({split: [{"id": f"{split}_{i:05d}", "image": image, "label": label}
                                 for i, (image, label) in enumerate(zip(*arrays[split]))]
                         for split in arrays})
    writer.close_all()


@pytest.fixture
def symbolic_traces(monkeypatch):
    """A list that gets the function of every Keras symbolic trace (backend.compute_output_spec) in the test."""
    from keras.src import backend as keras_backend

    traces = []
    original = keras_backend.compute_output_spec
    monkeypatch.setattr(keras_backend, "compute_output_spec", lambda fn, *a, **k: traces.append(fn) or original(
        fn, *a, **k))
    return traces


@pytest.fixture(scope="session")
def tiny_cifar10():
    """The images and labels `tiny_tfds_dir` holds: {split: (images, labels)}, 64 train and 8 test examples."""
    return tiny_cifar10_arrays()


@pytest.fixture(scope="session")
def tiny_tfds_dir(tmp_path_factory, tiny_cifar10):
    """A TFDS data dir holding `tiny_cifar10` as a prepared cifar10, written once per session."""
    data_dir = str(tmp_path_factory.mktemp("tfds"))
    write_tfds_cifar10(data_dir, tiny_cifar10)
    return data_dir


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one worker per usable core plus one. Tests wait on subprocesses, checkpoint writes and polls, and
    the extra worker keeps the cores busy through those waits (pytest.ini's --maxprocesses still caps it)."""
    del config
    return len(os.sched_getaffinity(0)) + 1


def pytest_collection_modifyitems(items):
    """Runs the modules marked `long(cpu_seconds)` (pytestmark) first, the costliest first, each module's tests still
    together and in order: xdist hands whole modules to the workers in this order, so a long module picked up last
    would leave a core idle while it runs."""
    rank = {}
    for item in items:
        marker = item.get_closest_marker("long")
        rank.setdefault(item.module, -marker.args[0] if marker else 0)
    items.sort(key=lambda item: rank[item.module])


@pytest.fixture
def dgl_cfg():
    """The smoke-sized DGL config (teacher 4 steps, switch at 2 of 4) with evaluation and export off."""
    cfg = presets.smoke(presets.get("dgl"))
    cfg.eval.at_end = False
    cfg.export.enabled = False
    return cfg
