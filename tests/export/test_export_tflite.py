"""TFLite conversion run in LiteRT: float32 parity, batch-size option, flatbuffer inspection."""

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from tfgan_eff.export.saved_model import export_saved_model
from tfgan_eff.export.tflite import convert_to_tflite
from tfgan_eff.export.verify import (
    count_sparse_tensors,
    float_activation_ops,
    keras_kernel_sparsity,
    reference_images,
    tflite_kernel_sparsity,
    verify_tflite,
)

NUM_CLASSES = 5


@pytest.mark.parametrize("num_classes", [0, NUM_CLASSES])
def test_float32_matches_keras_in_litert(num_classes, saved_models, uncond_generator, cond_generator, make_eval_batch):
    g = cond_generator if num_classes else uncond_generator
    model = convert_to_tflite(saved_models[num_classes], "float32")
    runner = Interpreter(model_content=model).get_signature_runner("serve")
    inputs = runner.get_input_details()
    assert list(inputs["z"]["shape"]) == [1, 8] and inputs["z"]["dtype"] == np.float32
    if num_classes:
        assert list(inputs["y"]["shape"]) == [1] and inputs["y"]["dtype"] == np.int32
    z, labels = make_eval_batch(num_classes, n=3)
    reference = g(z, labels=labels, training=False).numpy()
    for i in range(3):
        feed = {"z": z[i : i + 1]} if labels is None else {"z": z[i : i + 1], "y": labels[i : i + 1]}
        out = runner(**feed)["images"]
        np.testing.assert_allclose(out, reference[i : i + 1], atol=1e-4, rtol=0)


@pytest.mark.parametrize("batch_size, expected", [(None, [-1, 8]), (2, [2, 8])])
def test_batch_size_option(batch_size, expected, saved_models, uncond_generator, make_eval_batch, tmp_path):
    path = tmp_path / "g.tflite"
    path.write_bytes(convert_to_tflite(saved_models[0], "float32", batch_size=batch_size))
    z, _ = make_eval_batch(0, n=4)
    result = verify_tflite(path, z, None, reference_images(uncond_generator, z), num_runs=2)
    assert result["inputs"]["z"]["shape"] == expected
    assert result["batch_size"] == (batch_size or 1)
    assert result["max_abs_diff"] < 1e-4


def test_unknown_mode_is_rejected(saved_models):
    with pytest.raises(ValueError, match="float32"):
        convert_to_tflite(saved_models[0], "int4")


def test_kernel_zeros_read_from_flatbuffer_match_keras(make_generator, tmp_path):
    g = make_generator(seed=5, kernel_sparsity=0.5)
    keras_fraction = keras_kernel_sparsity(g)["kernel_zero_fraction"]
    assert 0.45 < keras_fraction < 0.55
    path = export_saved_model(g, tmp_path / "sm")
    dense = convert_to_tflite(path, "float32")
    sparse = convert_to_tflite(path, "float32", sparsify=True)
    assert count_sparse_tensors(dense) == 0
    assert count_sparse_tensors(sparse) > 0  # EXPERIMENTAL_SPARSITY applies at 50 % zeros
    for model in (dense, sparse):
        report = tflite_kernel_sparsity(model)
        assert len(report["kernels"]) == 4  # dense, transposed conv, conv, to_rgb
        # BN folding rescales kernels but keeps exact zeros, so the counts agree exactly.
        assert report["kernel_zero_fraction"] == pytest.approx(keras_fraction, abs=1e-12)


def test_float_only_op_is_flagged_in_full_int8(make_generator, tmp_path):
    # The converter keeps SIN (no int8 kernel) in float instead of failing: the report must say so.
    path = export_saved_model(make_generator(activation="sin"), tmp_path / "sm")
    model = convert_to_tflite(path, "full_int8", num_representative=8)
    assert float_activation_ops(model) == ["SIN"]
