"""Builds composite Keras 3 layers by their first eager call instead of a symbolic trace.

A Keras 3 layer without its own `build` that holds unbuilt sub-layers is built by first tracing its whole `call`
symbolically in a scratch graph, and every nested composite layer repeats that inside the trace; only then does the
real call run. For this package's models, which all create their sub-layers in `__init__` and are built by one eager
call (`build_for_inputs`, in the strategy scope), that trace is pure overhead: 2-4x the cost of the call (the alphaGAN
supernet of the search preset: 5.6 s -> 1.2 s, `tools/benchmark.py --tasks=profile_build`). Weights, their order,
paths and initial values are the same either way (tested).
"""

import contextlib

import keras


class BuildOnFirstCall(keras.layers.Layer):
    """Mixin for layers whose sub-layers all exist after `__init__`: the first call builds them (each leaf layer
    runs its own `build`). Call such a layer eagerly first, as `build_for_inputs` does."""

    def build(self, input_shape):
        del input_shape  # the sub-layers read their shapes when the first call reaches them


@contextlib.contextmanager
def keras_traced_build():
    """Inside the block, these layers build as plain Keras 3 builds them (the whole call traced symbolically first):
    the reference the first-call build is compared with, in tests and benchmarks."""
    original = BuildOnFirstCall.build
    BuildOnFirstCall.build = keras.layers.Layer.build
    try:
        yield
    finally:
        BuildOnFirstCall.build = original
