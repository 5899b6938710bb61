"""tfgan_eff.inference without training: where a work dir's generator is looked for, what config.json may build,
and GeneratorSampler.sample's n."""

import json
import os

import numpy as np
import pytest

from tfgan_eff import inference
from tfgan_eff.config import presets
from tfgan_eff.config.validate import ConfigError


def _run_dir(path, **model):
    """A work dir shell (config.json + empty checkpoints/) with the smoke config's model, updated by `model`."""
    values = presets.smoke(presets.baseline()).to_dict()
    for key, value in model.items():
        *parents, leaf = key.split(".")
        target = values
        for part in parents:
            target = target[part]
        target[leaf] = value
    os.makedirs(path / "checkpoints")
    (path / "config.json").write_text(json.dumps(values))
    return path


def _method_dir(path, target):
    os.makedirs(path, exist_ok=True)
    (path / "summary.json").write_text(json.dumps({"generator_workdir": target}))
    return path


def test_generator_workdir_inside_is_followed(tmp_path):
    run = _run_dir(tmp_path / "w" / "dgl")
    assert inference.find_run_dir(_method_dir(tmp_path / "w", "dgl")) == str(run)


@pytest.mark.parametrize("target", ["../other", "ABS_OTHER", ".", "link"])
def test_generator_workdir_outside_is_refused(tmp_path, target):
    other = _run_dir(tmp_path / "other")
    workdir = tmp_path / "w"
    os.makedirs(workdir)
    os.symlink(other, workdir / "link")  # inside by name, outside once resolved
    _method_dir(workdir, str(other) if target == "ABS_OTHER" else target)
    with pytest.raises(inference.RunNotFoundError, match="which is not inside .*only runs inside the work dir"):
        inference.find_run_dir(workdir)


@pytest.mark.parametrize("model,message", [
    ({"model.g.width": 1e9}, r"model.g.ch \* model.g.width = 8e\+09 base channels is over 4096"),
    ({"model.g.width": -1.0}, r"model.g.width must be > 0"),
    ({"model.g.width": float("inf")}, r"model.g.width must be a finite number"),
    ({"model.g.ch": "64"}, r"TypeError: Could not override field 'ch'"),
    ({"model.g.arch": "unet"}, r"model.g.arch='unet' is not one of"),
    ({"data.resolution": 10**6}, r"data.resolution=1000000 is not one of"),
])
def test_load_generator_checks_config_json_before_building(tmp_path, model, message):
    run = _run_dir(tmp_path / "run", **model)
    with pytest.raises(ConfigError, match="config.json cannot build a generator:\n  - " + message):
        inference.load_generator(run)


class _Recorder:
    """A generator fn that records its batch sizes and maps z to images through its first value."""

    def __init__(self):
        self.batches = []

    def __call__(self, z, labels):
        self.batches.append(len(z))
        return np.tanh(np.broadcast_to(z[:, :1, None, None], (len(z), 4, 4, 3)))


def test_sample_n():
    fn = _Recorder()
    sampler = inference.GeneratorSampler(fn, latent_dim=8, num_classes=0, resolution=4, channels=3)
    empty = sampler.sample(0)
    assert empty.shape == (0, 4, 4, 3) and empty.dtype == np.uint8 and fn.batches == []
    for bad in (-1, 2.5, True, "3", None):
        with pytest.raises(ValueError, match="n must be a non-negative integer"):
            sampler.sample(bad)
    one_batch = sampler.sample(7, seed=3)
    batched = sampler.sample(7, seed=3, batch_size=3)  # large n: in batches, same stream of z
    assert fn.batches[-3:] == [3, 3, 1] and batched.shape == (7, 4, 4, 3)
    np.testing.assert_array_equal(one_batch, batched)
    assert sampler.sample(np.int64(2)).shape == (2, 4, 4, 3)


def test_sample_labels_are_checked():
    sampler = inference.GeneratorSampler(_Recorder(), latent_dim=8, num_classes=3, resolution=4, channels=3)
    assert sampler.sample(4, labels=[0, 1, 2, 0]).shape == (4, 4, 4, 3)
    for labels in ([0, 1], [0, 1, 2, 3]):
        with pytest.raises(ValueError, match=r"labels must be 4 class ids in \[0, 3\)"):
            sampler.sample(4, labels=labels)
    unconditional = inference.GeneratorSampler(_Recorder(), latent_dim=8, num_classes=0, resolution=4, channels=3)
    with pytest.raises(ValueError, match="unconditional"):
        unconditional.sample(2, labels=[0, 0])
