"""Runs exported artifacts against the Keras generator on the same z and measures them.

The SavedModel runs in TensorFlow, each .tflite in `ai_edge_litert.interpreter.Interpreter` (the supported
LiteRT runtime; `tf.lite.Interpreter` is deprecated). Every verify_* function returns a JSON-ready dict.
"""

import statistics
import time

import numpy as np
import tensorflow as tf
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.interpreter import Interpreter, OpResolverType

from tfgan_eff import tf_logs
from tfgan_eff.export.files import artifact_sizes
from tfgan_eff.export.saved_model import OUTPUT_KEY, SIGNATURE_KEY

# Ops whose input 1 is a weight kernel, and ops that only decode a stored kernel (followed back to it).
_KERNEL_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "FULLY_CONNECTED")
_DECODE_OPS = ("DENSIFY", "DEQUANTIZE")
_OP_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
_TENSOR_DTYPES = {
    schema.TensorType.FLOAT32: np.float32,
    schema.TensorType.FLOAT16: np.float16,
    schema.TensorType.INT8: np.int8,
    schema.TensorType.UINT8: np.uint8,
    schema.TensorType.INT16: np.int16,
    schema.TensorType.INT32: np.int32,
}


def eval_inputs(latent_dim, num_classes, num_examples, seed=0):
    """(z float32 [N, latent_dim] ~ N(0, 1), labels int32 [N] or None) from `seed`."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((num_examples, latent_dim)).astype(np.float32)
    labels = rng.integers(0, num_classes, size=(num_examples,)).astype(np.int32) if num_classes > 0 else None
    return z, labels


def reference_images(generator, z, labels=None):
    """The Keras generator's images (training=False) as float32 NumPy, the reference for every artifact."""
    return np.asarray(generator(z, labels=labels, training=False), dtype=np.float32)


def compare(images, reference):
    """Max / mean absolute difference to the reference and whether all values are finite."""
    images = np.asarray(images, np.float32)
    if images.shape != reference.shape:
        raise ValueError(f"artifact produced images of shape {images.shape}, Keras {reference.shape}.")
    diff = np.abs(images.astype(np.float64) - reference.astype(np.float64))
    return {
        "max_abs_diff": float(diff.max()),
        "mean_abs_diff": float(diff.mean()),
        "all_finite": bool(np.isfinite(images).all()),
        "output_shape": list(images.shape[1:]),
    }


def median_latency_ms(fn, num_runs, warmup=2):
    """Median wall time of `fn()` in milliseconds over `num_runs` calls after `warmup` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(num_runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)


def verify_saved_model(path, z, labels, reference, num_runs=10):
    """Runs the `serve` signature of a SavedModel in TensorFlow.

    Latency is per image at batch 1 (median of `num_runs`), with TF's default thread pools.
    """
    serve = tf.saved_model.load(path).signatures[SIGNATURE_KEY]

    def run(zb, yb):
        kwargs = {"z": tf.constant(zb)}
        if yb is not None:
            kwargs["y"] = tf.constant(yb)
        return serve(**kwargs)[OUTPUT_KEY].numpy()

    images = run(z, labels)
    y1 = None if labels is None else labels[:1]
    raw, gzipped = artifact_sizes(path)
    return {
        "path": str(path),
        "runtime": "tensorflow",
        **compare(images, reference),
        "size_bytes": raw,
        "gzip_bytes": gzipped,
        "latency_ms_per_image": median_latency_ms(lambda: run(z[:1], y1), num_runs),
    }


class _LiteRTRunner:
    """Feeds a TFLite `serve` signature batch by batch through the public Interpreter API."""

    def __init__(self, path, num_threads, use_default_delegates):
        resolver = OpResolverType.AUTO if use_default_delegates else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        self.interpreter = Interpreter(
            model_path=str(path), num_threads=num_threads, experimental_op_resolver_type=resolver
        )
        runner = self.interpreter.get_signature_runner(SIGNATURE_KEY)
        self.inputs = runner.get_input_details()
        self.output = runner.get_output_details()[OUTPUT_KEY]
        del runner  # it holds a reference to the interpreter's internals, which blocks allocate/invoke
        z_detail = self.inputs["z"]
        # A static batch is used as is; a dynamic one (-1) is run at batch 1.
        self.batch = int(z_detail["shape_signature"][0]) if z_detail["shape_signature"][0] > 0 else 1
        for detail in self.inputs.values():
            if detail["shape_signature"][0] < 0:
                self.interpreter.resize_tensor_input(detail["index"], [self.batch, *detail["shape"][1:]])
        with tf_logs.native_lines_hidden():  # LiteRT prints its delegate line here, whatever the log level
            self.interpreter.allocate_tensors()

    def set_inputs(self, zb, yb):
        """Feeds one batch of z (and labels, when the model takes them) to the interpreter."""
        self.interpreter.set_tensor(self.inputs["z"]["index"], zb)
        if "y" in self.inputs:
            self.interpreter.set_tensor(self.inputs["y"]["index"], yb)

    def run(self, z, labels):
        """The model's outputs for z (and labels), run a TFLite batch at a time."""
        if len(z) % self.batch:
            raise ValueError(f"number of eval z ({len(z)}) must be a multiple of the TFLite batch ({self.batch}).")
        outputs = []
        for start in range(0, len(z), self.batch):
            yb = None if labels is None else labels[start : start + self.batch]
            self.set_inputs(z[start : start + self.batch], yb)
            self.interpreter.invoke()
            outputs.append(self.interpreter.get_tensor(self.output["index"]))
        return np.concatenate(outputs)

    def io_details(self):
        """Shapes (-1: any) and dtypes of the model's inputs and output."""
        def describe(d):
            return {"shape": [int(s) for s in d["shape_signature"]], "dtype": np.dtype(d["dtype"]).name}

        return {
            "inputs": {name: describe(d) for name, d in sorted(self.inputs.items())},
            "outputs": {OUTPUT_KEY: describe(self.output)},
        }


def verify_tflite(path, z, labels, reference, num_runs=10, num_threads=1, sparsity_report=False):
    """Runs a .tflite `serve` signature in LiteRT and measures it against the Keras reference.

    Runs with LiteRT's default (XNNPACK) delegate; if it cannot take the model (e.g. sparse-encoded
    hybrid kernels), falls back to the builtin kernels and records why under `delegate_error`.
    Latency is the median `invoke()` time per image at the model's batch size with `num_threads`.
    `float_activation_ops` lists ops still computing in float (`fully_integer` when there are none).
    With `sparsity_report`, adds the exact-zero fraction of the kernels stored in the flatbuffer.
    """
    delegate_error = None
    try:
        runner = _LiteRTRunner(path, num_threads, use_default_delegates=True)
        images = runner.run(z, labels)
        delegate = "default (XNNPACK)"
    except RuntimeError as err:
        delegate_error = str(err)
        runner = _LiteRTRunner(path, num_threads, use_default_delegates=False)
        images = runner.run(z, labels)
        delegate = "none (builtin kernels)"
    runner.set_inputs(z[: runner.batch], None if labels is None else labels[: runner.batch])
    latency = median_latency_ms(runner.interpreter.invoke, num_runs) / runner.batch
    raw, gzipped = artifact_sizes(path)
    with open(path, "rb") as f:
        model_bytes = f.read()
    float_ops = float_activation_ops(model_bytes)
    result = {
        "path": str(path),
        "runtime": "ai_edge_litert",
        **compare(images, reference),
        "size_bytes": raw,
        "gzip_bytes": gzipped,
        "latency_ms_per_image": latency,
        "batch_size": runner.batch,
        "num_threads": num_threads,
        "delegate": delegate,
        **runner.io_details(),
        "float_activation_ops": float_ops,
        "fully_integer": not float_ops,
    }
    if delegate_error is not None:
        result["delegate_error"] = delegate_error
    if sparsity_report:
        result["kernel_sparsity"] = tflite_kernel_sparsity(model_bytes)
    return result


def _summarise(kernels):
    total = sum(k["size"] for k in kernels)
    zeros = sum(k["zeros"] for k in kernels)
    return {
        "kernel_zero_fraction": zeros / total if total else 0.0,
        "num_kernel_values": total,
        "kernels": [
            {**{key: value for key, value in k.items() if key != "zeros"}, "zero_fraction": k["zeros"] / k["size"]}
            for k in kernels
        ],
    }


def _buffer_bytes(model, model_bytes, buffer_index):
    buffer = model.Buffers(buffer_index)
    if buffer.Offset() > 1:  # large models keep buffers after the flatbuffer, addressed by offset
        return bytes(model_bytes[buffer.Offset() : buffer.Offset() + buffer.Size()])
    data = buffer.DataAsNumpy()
    return b"" if isinstance(data, int) else data.tobytes()


def _operators(model):
    """Yields (subgraph index, subgraph, op name, operator) for every operator of a parsed flatbuffer."""
    for s in range(model.SubgraphsLength()):
        graph = model.Subgraphs(s)
        for i in range(graph.OperatorsLength()):
            op = graph.Operators(i)
            code = model.OperatorCodes(op.OpcodeIndex())
            yield s, graph, _OP_NAMES.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "CUSTOM"), op


def float_activation_ops(model_bytes):
    """Sorted names of ops computing on float32 activations (QUANTIZE / DEQUANTIZE excluded).

    Empty for a truly full-integer model. The converter does not guarantee that: with
    TFLITE_BUILTINS_INT8 it still wraps an op without an int8 kernel (e.g. SIN) in DEQUANTIZE /
    QUANTIZE and keeps it in float instead of failing.
    """
    model = schema.Model.GetRootAs(model_bytes, 0)
    names = set()
    for _, graph, name, op in _operators(model):
        if name in ("QUANTIZE", "DEQUANTIZE"):
            continue
        for t in op.InputsAsNumpy():
            tensor = graph.Tensors(int(t)) if t >= 0 else None
            if tensor is not None and tensor.Type() == schema.TensorType.FLOAT32:
                if not _buffer_bytes(model, model_bytes, tensor.Buffer()):  # an activation, not a constant
                    names.add(name)
    return sorted(names)


def count_sparse_tensors(model_bytes):
    """Number of tensors stored in TFLite's sparse format (what EXPERIMENTAL_SPARSITY produces)."""
    model = schema.Model.GetRootAs(model_bytes, 0)
    return sum(
        graph.Tensors(t).Sparsity() is not None
        for graph in (model.Subgraphs(s) for s in range(model.SubgraphsLength()))
        for t in range(graph.TensorsLength())
    )


def tflite_kernel_sparsity(model_bytes):
    """Fraction of exact zeros in the conv / transposed-conv / dense kernels stored in a TFLite flatbuffer.

    Kernels behind DENSIFY / DEQUANTIZE ops are followed back to their stored tensor. A sparse-encoded
    tensor stores only part of its values; the rest are zeros by construction. Quantised values count as
    zero when they equal the tensor's zero point (0 for TFLite's symmetric int8 weights).
    """
    model = schema.Model.GetRootAs(model_bytes, 0)
    ops = list(_operators(model))
    producers = {(s, int(t)): (name, op) for s, _, name, op in ops for t in op.OutputsAsNumpy()}
    kernels = []
    for s, graph, name, op in ops:
        if name not in _KERNEL_OPS:
            continue
        t = int(op.Inputs(1))
        while (s, t) in producers and producers[(s, t)][0] in _DECODE_OPS:
            t = int(producers[(s, t)][1].Inputs(0))
        tensor = graph.Tensors(t)
        dtype = _TENSOR_DTYPES.get(tensor.Type())
        data = _buffer_bytes(model, model_bytes, tensor.Buffer())
        if dtype is None or not data:  # not a stored constant kernel
            continue
        values = np.frombuffer(data, dtype)
        zero = 0
        quant = tensor.Quantization()
        if quant is not None and quant.ZeroPointLength():
            zero_points = np.unique(quant.ZeroPointAsNumpy())
            zero = int(zero_points[0]) if len(zero_points) == 1 else 0
        size = int(np.prod(tensor.ShapeAsNumpy()))
        kernels.append(
            {
                "op": name,
                "shape": [int(d) for d in tensor.ShapeAsNumpy()],
                "dtype": np.dtype(dtype).name,
                "sparse_encoded": tensor.Sparsity() is not None,
                "size": size,
                # A sparse-encoded tensor stores only some values; the ones left out are zeros.
                "zeros": size - values.size + int(np.count_nonzero(values == zero)),
            }
        )
    return _summarise(kernels)


def keras_kernel_sparsity(generator):
    """Fraction of exact zeros in the generator's Keras kernels (variables named *kernel)."""
    kernels = []
    for v in generator.variables:
        if not v.name.endswith("kernel"):
            continue
        values = np.asarray(v.numpy())
        kernels.append(
            {"path": v.path, "shape": list(values.shape), "size": int(values.size), "zeros": int(np.sum(values == 0))}
        )
    return _summarise(kernels)
