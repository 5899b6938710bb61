"""Keras-3-native binary masks on the convolution kernels of a built model (TFMOT-style, without TFMOT).

Each masked conv layer gets a `sparsity_mask` attribute: a small `tf.Module` holding two non-trainable float32
variables of the kernel's shape, `mask` (0/1) and `ever_active` (0/1, union of all masks so far). Because the
module is an attribute of the layer it is a checkpoint dependency of the layer, so `tf.train.Checkpoint(model=...)`
saves and restores it by the model's structure (not by layer names); it is not a Keras weight, so
`model.weights`, `.weights.h5` files and dense-model code are unaffected. The variables are created under the
kernels' distribution strategy, so under MirroredStrategy they are mirrored like the kernels.
"""

import contextlib

import keras
import numpy as np
import tensorflow as tf

from tfgan_eff.ops import replica
from tfgan_eff.pieces import erk
from tfgan_eff.pieces.drop_grow import first_k_by_key

SLOT_ATTR = "sparsity_mask"
MASK_INITS = ("random", "magnitude")
_CONV_TYPES = (keras.layers.Conv2D, keras.layers.Conv2DTranspose)


class MaskSlot(tf.Module):
    """Checkpointed home of one kernel's `mask` and `ever_active` variables, attached to the owning layer."""

    def __init__(self, mask, ever_active):
        super().__init__(name=None)
        self.mask = mask
        self.ever_active = ever_active


def conv_layers(model):
    """Returns the built Conv2D / Conv2DTranspose layers (rank-4 kernels) of `model`, wrapped ones included, once each.

    Wrappers such as SpectralNorm keep the conv as a tracked sub-layer, so the recursive walk finds it; the raw
    kernel of the wrapped conv is what gets masked (W / sigma then keeps the zeros).
    """
    layers, seen = [], set()
    for layer in model._flatten_layers(include_self=True, recursive=True):  # pylint: disable=protected-access
        if not isinstance(layer, _CONV_TYPES) or id(layer) in seen:
            continue
        seen.add(id(layer))
        if not layer.built:
            raise ValueError(f"layer {layer.name!r} is not built: call the model on a batch before sparsify()")
        layers.append(layer)
    return layers


def has_masks(model):
    """True when some conv layer of `model` carries a mask (see `sparsify`)."""
    return any(getattr(layer, SLOT_ATTR, None) is not None for layer in conv_layers(model))


def _unique_names(kernels):
    names, counts = [], {}
    for kernel in kernels:
        name = kernel.path
        counts[name] = counts.get(name, 0) + 1
        names.append(name if counts[name] == 1 else f"{name}_{counts[name] - 1}")
    return names


class MaskSet:
    """The masks of one model, in a fixed layer order. Build it with `sparsify(...)` or `MaskSet.from_model(...)`.

    Attributes (lists in the same order): `layers`, `kernels`, `masks`, `ever_active`, `names` (kernel paths).
    """

    def __init__(self, layers):
        self.layers = list(layers)
        slots = [getattr(layer, SLOT_ATTR) for layer in self.layers]
        self.kernels = [layer.kernel for layer in self.layers]
        self.masks = [slot.mask for slot in slots]
        self.ever_active = [slot.ever_active for slot in slots]
        self.names = _unique_names(self.kernels)

    @classmethod
    def from_model(cls, model):
        """The MaskSet of a model that already carries masks (e.g. built by `sparsify` earlier)."""
        layers = [layer for layer in conv_layers(model) if getattr(layer, SLOT_ATTR, None) is not None]
        if not layers:
            raise ValueError("model has no masks: call sparsify(model, density) first")
        return cls(layers)

    def shapes(self):
        """{name: kernel shape}."""
        return {name: tuple(kernel.shape) for name, kernel in zip(self.names, self.kernels)}

    def apply(self):
        """kernel *= mask for every masked kernel. Call after every optimizer step (works inside strategy.run)."""
        values = [kernel * tf.cast(mask, kernel.dtype) for kernel, mask in zip(self.kernels, self.masks)]
        replica.assign_values(self.kernels, values)

    def nnz(self):
        """{name: number of active (mask == 1) weights} as Python ints."""
        return {name: int(np.sum(keras.ops.convert_to_numpy(mask))) for name, mask in zip(self.names, self.masks)}

    def densities(self):
        """{name: fraction of active weights} as Python floats."""
        shapes = self.shapes()
        return {name: count / int(np.prod(shapes[name])) for name, count in self.nnz().items()}


def _random_mask(shape, num_zeros, seed, index):
    """A 0/1 float32 mask of `shape` with exactly `num_zeros` zeros at stateless-random positions."""
    size = int(np.prod(shape))
    noise = tf.random.stateless_uniform([size], seed=tf.constant([seed, index], tf.int32))
    order = tf.argsort(noise, stable=True)
    zero_flags = tf.scatter_nd(order[:, None], tf.cast(tf.range(size) < num_zeros, tf.float32), [size])
    return tf.reshape(1.0 - zero_flags, shape)


def _magnitude_mask(kernel, num_zeros):
    """A 0/1 float32 mask keeping the largest |kernel| entries, with exactly `num_zeros` zeros (ties: lower index)."""
    magnitude = tf.abs(tf.reshape(tf.cast(tf.convert_to_tensor(kernel), tf.float32), [-1]))
    keep = first_k_by_key(magnitude, int(magnitude.shape[0]) - num_zeros)
    return tf.reshape(keep, kernel.shape)


def sparsify(model, density, distribution="erk", seed=0, init="random"):
    """Masks every conv kernel of a built `model` so that the kernels keep a `density` fraction of weights overall.

    Layer densities come from `erk.erk_densities`; each layer gets exactly `erk.zero_counts` zeros, at random
    positions (init="random": stateless RNG from `seed` and the layer index, sparse-from-scratch training) or at
    the smallest-magnitude weights (init="magnitude": one-shot pruning of a trained model), and the masks are
    applied at once. Dense layers, embeddings, biases and norms stay dense. Call it once after building the model
    (and before restoring a checkpoint, which then overwrites the masks with the saved ones).

    Returns:
      The model's MaskSet.
    """
    if init not in MASK_INITS:
        raise ValueError(f"init must be one of {MASK_INITS}, got {init!r}")
    layers = conv_layers(model)
    if not layers:
        raise ValueError("model has no Conv2D / Conv2DTranspose layers to sparsify")
    if has_masks(model):
        raise ValueError("model already has masks: use MaskSet.from_model(model), or strip_masks(model) first")
    names = _unique_names([layer.kernel for layer in layers])
    shapes = {name: tuple(layer.kernel.shape) for name, layer in zip(names, layers)}
    densities = erk.erk_densities(shapes, density, distribution)
    zeros = erk.zero_counts(shapes, densities)
    for index, (name, layer) in enumerate(zip(names, layers)):
        if init == "random":
            initial = _random_mask(shapes[name], zeros[name], seed, index)
        else:
            initial = _magnitude_mask(layer.kernel, zeros[name])
        strategy = replica.variable_strategy(layer.kernel)
        with strategy.scope() if strategy is not None else contextlib.nullcontext():
            mask = keras.Variable(initial, trainable=False, dtype="float32", aggregation="none",
                                  name="mask")
            ever_active = keras.Variable(initial, trainable=False, dtype="float32",
                                         aggregation="none", name="ever_active")
        setattr(layer, SLOT_ATTR, MaskSlot(mask, ever_active))
    mask_set = MaskSet(layers)
    mask_set.apply()
    return mask_set


def strip_masks(model):
    """Folds the masks into the kernels (kernel *= mask) and removes them, leaving a plain exportable model.

    The model computes the same outputs as the masked model; its kernels keep their zeros. Returns `model`.
    """
    mask_set = MaskSet.from_model(model)
    mask_set.apply()
    for layer in mask_set.layers:
        delattr(layer, SLOT_ATTR)
    return model


def fold_for_export(generator):
    """Readies a trained generator for export: folds the masks it still carries into its kernels (the live G of a
    sparse run without EMA; training is over) and returns {"g_params", "g_nonzero_params"} of its trainable
    weights."""
    if has_masks(generator):
        strip_masks(generator)
    values = [v.numpy() for v in generator.trainable_variables]
    return {"g_params": int(sum(v.size for v in values)),
            "g_nonzero_params": int(sum(np.count_nonzero(v) for v in values))}
