"""Training precision: float32, or Keras' mixed_bfloat16 (bfloat16 compute, float32 variables).

bfloat16 keeps float32's exponent range, so no loss scaling is needed. It pays off where the hardware multiplies
bfloat16 natively (CPUs with AVX512_BF16 or AMX, TPUs, Ampere+ GPUs): benchmarks/ measures it. Models take their
policy when they are built (`policy_scope`); generators and discriminators always return float32
(models/base.py), so losses, metrics and samples stay float32. Variables are float32 either way: checkpoints of the
two precisions are interchangeable, and exports run the same weights in float32 (`compute_in`).
"""

import contextlib

import keras


@contextlib.contextmanager
def policy_scope(precision):
    """Layers created inside compute in `precision` (a Keras dtype policy name such as "float32" or
    "mixed_bfloat16"); the global policy is restored after."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


@contextlib.contextmanager
def compute_in(model, precision):
    """Temporarily switches every layer of a built `model` to `precision` (e.g. float32 for export); variables are
    float32 in both policies, so nothing is copied. Functions traced inside see the new compute dtype."""
    layers = list(model._flatten_layers(include_self=True))  # pylint: disable=protected-access
    previous = [layer.dtype_policy for layer in layers]
    try:
        for layer in layers:
            layer.dtype_policy = precision
        yield model
    finally:
        for layer, policy in zip(layers, previous):
            layer.dtype_policy = policy
