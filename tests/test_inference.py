"""tfgan_eff.inference without training: where a work dir's generator is looked for, what config.json may build,
what a wrong path or another model's SavedModel says, and GeneratorSampler.sample's n and iter_samples."""

import json
import os

import numpy as np
import pytest

from tfgan_eff import inference
from tfgan_eff.config import presets
from tfgan_eff.config.validate import ConfigError
from tfgan_eff.export.saved_model import NotAGeneratorExportError


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
    assert empty.shape == (0, 4, 4, 3) and empty.dtype == np.uint8 and not fn.batches
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


@pytest.mark.parametrize("make_path,message", [
    (lambda tmp: tmp / "missing", r"/missing does not exist: pass a work dir, a checkpoint prefix "
                                  r"\(RUN_DIR/checkpoints/ckpt-N\) or an exported SavedModel dir"),
    (lambda tmp: (tmp / "f").write_bytes(os.urandom(64)) and tmp / "f", r"/f is a file, not a directory: pass a work "
                                                                          r"dir, a checkpoint prefix"),
])
def test_load_generator_names_the_path_given(tmp_path, make_path, message):
    with pytest.raises(inference.RunNotFoundError, match=message):
        inference.load_generator(make_path(tmp_path))


def test_a_checkpoint_prefix_names_its_own_run_dir(tmp_path):
    os.makedirs(tmp_path / "run" / "checkpoints")
    (tmp_path / "run" / "checkpoints" / "ckpt-3.index").write_bytes(b"")
    with pytest.raises(inference.RunNotFoundError, match=f"cannot read {tmp_path}/run/config.json"):
        inference.load_generator(tmp_path / "run" / "checkpoints" / "ckpt-3")


def test_load_generator_on_another_models_saved_model(tmp_path):
    """A discriminator's SavedModel (no generator metadata), or a damaged one: the message says what to pass."""
    import tensorflow as tf

    tf.saved_model.save(tf.Module(), str(tmp_path / "other"))
    with pytest.raises(NotAGeneratorExportError, match=r"other is not a generator SavedModel exported by tfgan_eff "
                       r"\(it has no assets.extra/generator.json\): export the run with"):
        inference.load_generator(tmp_path / "other")
    os.makedirs(tmp_path / "other" / "assets.extra")
    (tmp_path / "other" / "assets.extra" / "generator.json").write_text(json.dumps(
        {"latent_dim": 8, "num_classes": 0, "resolution": 16, "channels": 3}))
    (tmp_path / "other" / "saved_model.pb").write_bytes(os.urandom(300))
    with pytest.raises(NotAGeneratorExportError, match=r"it cannot be loaded: OSError: .*saved_model.pb"):
        inference.load_generator(tmp_path / "other")


def test_iter_samples_yields_the_images_of_sample_batch_by_batch():
    fn = _Recorder()
    sampler = inference.GeneratorSampler(fn, latent_dim=8, num_classes=3, resolution=4, channels=3)
    batches = list(sampler.iter_samples(7, seed=5, batch_size=3))
    assert [len(b) for b in batches] == [3, 3, 1] and all(b.dtype == np.uint8 for b in batches)
    np.testing.assert_array_equal(np.concatenate(batches), sampler.sample(7, seed=5, batch_size=3))
    with pytest.raises(ValueError, match="n must be a non-negative integer"):
        sampler.iter_samples(-1)  # checked at the call, not at the first batch
    assert not list(sampler.iter_samples(0))


def test_sample_refuses_more_than_its_limit_and_iter_samples_streams_any_n(monkeypatch):
    fn = _Recorder()
    sampler = inference.GeneratorSampler(fn, latent_dim=8, num_classes=0, resolution=4, channels=3)
    with pytest.raises(inference.SampleTooLargeError, match=r"sample\(1000000000\) would return 44.7 GiB of images "
                       r"in one array, over the 2 GiB sample\(\) allows: iterate over iter_samples\(1000000000"):
        sampler.sample(10**9)
    assert not fn.batches  # refused before generating anything
    stream = sampler.iter_samples(10**9, batch_size=2)
    assert next(stream).shape == (2, 4, 4, 3) and fn.batches == [2]  # one batch at a time, whatever n
    monkeypatch.setattr(inference, "MAX_SAMPLE_BYTES", 10 * 4 * 4 * 3)  # the limit counts bytes of images
    assert sampler.sample(10).shape == (10, 4, 4, 3)
    with pytest.raises(inference.SampleTooLargeError):
        sampler.sample(11)
