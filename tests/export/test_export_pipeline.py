"""export_generator: all modes written, verified and reported; failures recorded; sparsity report."""

import json
import os

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from tfgan_eff.export import pipeline
from tfgan_eff.export.pipeline import ExportSettings, export_generator
from tfgan_eff.export.tflite import ExportModeError

NUM_CLASSES = 5
ARTIFACT_FIELDS = {
    "path",
    "runtime",
    "max_abs_diff",
    "mean_abs_diff",
    "all_finite",
    "output_shape",
    "size_bytes",
    "gzip_bytes",
    "latency_ms_per_image",
}
TFLITE_FIELDS = ARTIFACT_FIELDS | {
    "mode",
    "sparsify",
    "convert_seconds",
    "batch_size",
    "num_threads",
    "delegate",
    "inputs",
    "outputs",
    "float_activation_ops",
    "fully_integer",
}
FAST = dict(num_representative=16, num_eval=4, num_runs=3)  # ExportSettings of a quick test export


@pytest.fixture(scope="module")
def conditional_export(tmp_path_factory, cond_generator):
    """(export dir, report) of the conditional generator, exported once for the module."""
    out_dir = tmp_path_factory.mktemp("export") / "cond"
    return out_dir, export_generator(cond_generator, out_dir, ExportSettings(seed=7, **FAST))


def test_report_file_has_all_fields(conditional_export):
    out_dir, report = conditional_export
    with open(out_dir / "report.json", encoding="utf-8") as f:
        assert json.load(f) == report
    # embedding 5x4; dense (8+4)x128+128; conv-transpose 4x4x8x8+8; conv 3x3x8x8+8; to_rgb 3x3x8x3+3; 2 BN x 4x8
    trainable = 5 * 4 + 12 * 128 + 128 + 4 * 4 * 8 * 8 + 8 + 3 * 3 * 8 * 8 + 8 + 3 * 3 * 8 * 3 + 3 + 2 * 2 * 8
    assert report["generator"]["params_trainable"] == trainable
    assert report["generator"]["params_total"] == trainable + 2 * 2 * 8  # + BN moving mean / variance
    assert report["generator"]["num_classes"] == NUM_CLASSES
    assert set(report["artifacts"]) == {"saved_model", "float32", "dynamic_int8", "full_int8"}
    assert ARTIFACT_FIELDS <= set(report["artifacts"]["saved_model"])
    for mode in ("float32", "dynamic_int8", "full_int8"):
        entry = report["artifacts"][mode]
        assert TFLITE_FIELDS <= set(entry), mode
        assert (out_dir / entry["path"]).is_file()
        assert entry["size_bytes"] == os.path.getsize(out_dir / entry["path"])
        assert 0 < entry["gzip_bytes"] and entry["latency_ms_per_image"] > 0
    assert (out_dir / "saved_model" / "saved_model.pb").is_file()


def test_artifacts_match_keras(conditional_export):
    _, report = conditional_export
    artifacts = report["artifacts"]
    assert artifacts["saved_model"]["max_abs_diff"] < 1e-5
    assert artifacts["float32"]["max_abs_diff"] < 1e-4
    for mode in ("dynamic_int8", "full_int8"):
        entry = artifacts[mode]
        assert entry["all_finite"] and entry["output_shape"] == [16, 16, 3]
        assert 0 < entry["mean_abs_diff"] < 0.2, mode  # quantised: close to Keras but not identical
    # int8 weights make the files smaller than float32.
    assert artifacts["dynamic_int8"]["size_bytes"] < artifacts["float32"]["size_bytes"]
    assert artifacts["full_int8"]["size_bytes"] < artifacts["float32"]["size_bytes"]


def test_full_int8_is_integer_inside_with_float_io(conditional_export):
    _, report = conditional_export
    entry = report["artifacts"]["full_int8"]
    assert entry["fully_integer"] and entry["float_activation_ops"] == []
    assert entry["inputs"] == {"y": {"shape": [1], "dtype": "int32"}, "z": {"shape": [1, 8], "dtype": "float32"}}
    assert entry["outputs"] == {"images": {"shape": [1, 16, 16, 3], "dtype": "float32"}}
    assert not report["artifacts"]["float32"]["fully_integer"]


def test_full_int8_file_runs_independently(conditional_export, cond_generator):
    # Checks the written file with LiteRT directly, not through the report's own numbers.
    out_dir, _ = conditional_export
    runner = Interpreter(model_path=str(out_dir / "generator_full_int8.tflite")).get_signature_runner("serve")
    rng = np.random.default_rng(99)
    z = rng.standard_normal((1, 8)).astype(np.float32)
    y = np.array([3], np.int32)
    images = runner(z=z, y=y)["images"]
    reference = cond_generator(z, labels=y, training=False).numpy()
    assert np.abs(images - reference).mean() < 0.2
    assert np.abs(images - reference).max() < 0.5


def test_failing_mode_is_reported_and_others_run(tmp_path, uncond_generator, monkeypatch):
    real_convert = pipeline.convert_to_tflite

    def convert(saved_model_path, mode, **kwargs):
        if mode == "dynamic_int8":
            raise RuntimeError("converter exploded")
        return real_convert(saved_model_path, mode, **kwargs)

    stale = [tmp_path / name for name in ("generator_dynamic_int8.tflite", "generator_full_int8.tflite")]
    for path in stale:
        path.write_bytes(b"old")
    monkeypatch.setattr(pipeline, "convert_to_tflite", convert)
    settings = ExportSettings(modes=("dynamic_int8", "float32"), **FAST)
    report = export_generator(uncond_generator, tmp_path, settings)
    failed = report["artifacts"]["dynamic_int8"]
    assert failed["error"] == "RuntimeError: converter exploded"
    # Files of an earlier export, of a failed mode or of a mode not exported now, must not look like results.
    assert not any(path.exists() for path in stale)
    assert sorted(n for n in os.listdir(tmp_path) if n.endswith(".tflite")) == ["generator_float32.tflite"]
    assert report["artifacts"]["float32"]["max_abs_diff"] < 1e-4
    with open(tmp_path / "report.json", encoding="utf-8") as f:
        assert json.load(f)["artifacts"]["dynamic_int8"]["error"] == "RuntimeError: converter exploded"


@pytest.mark.parametrize("modes,message", [
    (("float32", "float16"), r"unknown TFLite mode\(s\) 'float16': pass one or more of float32, dynamic_int8, "
                             r"full_int8"),
    ("float32,bogus", r"unknown TFLite mode\(s\) 'bogus'"),
    ((), r"no TFLite mode given: pass one or more of float32, dynamic_int8, full_int8"),
    ("", r"no TFLite mode given"),
])
def test_no_or_unknown_mode_fails_before_writing(tmp_path, uncond_generator, modes, message):
    with pytest.raises(ExportModeError, match=message):
        export_generator(uncond_generator, tmp_path / "out", ExportSettings(modes=modes))
    assert not (tmp_path / "out").exists()


def test_sparsity_report(tmp_path, make_generator):
    g = make_generator(seed=2, kernel_sparsity=0.6)
    settings = ExportSettings(modes=("float32",), sparsity_report=True, **FAST)
    report = export_generator(g, tmp_path, settings)
    keras_fraction = report["generator"]["kernel_sparsity"]["kernel_zero_fraction"]
    assert 0.55 < keras_fraction < 0.65
    dense, sparse = report["artifacts"]["float32"], report["artifacts"]["float32_sparse"]
    assert dense["kernel_sparsity"]["kernel_zero_fraction"] == pytest.approx(keras_fraction)
    assert sparse["applied"] and sparse["sparse_encoded_tensors"] > 0
    assert (tmp_path / sparse["path"]).is_file()
    assert sparse["size_bytes"] < dense["size_bytes"]  # only non-zeros are stored
    assert sparse["max_abs_diff"] < 1e-4
    assert all(k["sparse_encoded"] for k in sparse["kernel_sparsity"]["kernels"])


def test_derived_genotype_generator_exports_like_any_other(tmp_path):
    from tfgan_eff.inference import load_generator
    from tfgan_eff.search.genotype_generator import GenotypeGenerator

    generator = GenotypeGenerator(latent_dim=8, resolution=16, genotype="alphagan_s", ch=8).build_for_inputs()
    report = export_generator(generator, str(tmp_path), ExportSettings(modes=("float32",)))
    assert report["artifacts"]["saved_model"]["max_abs_diff"] < 1e-5
    assert report["artifacts"]["float32"]["max_abs_diff"] < 1e-4
    images = load_generator(str(tmp_path / "saved_model")).sample(3, seed=0)
    assert images.shape == (3, 16, 16, 3) and images.dtype == np.uint8
