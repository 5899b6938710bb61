"""A teacher G or D given as a file (a SavedModel dir or a `.keras` file), wrapped to be called like this package's
models and refused unless it fits this run's data (resolution, channels, classes).

A D takes images [B, H, W, C] (and int labels [B]) and returns one logit per image; a G takes z [B, latent_dim]
(and int labels [B]) and returns images [B, H, W, C] in [-1, 1]. This package's own models saved whole
(`model.save("x.keras")`) come back as themselves; a G exported with `python -m tfgan_eff.export` is read through its
`serve` signature.
"""

import dataclasses
import zipfile

import keras
import numpy as np
import tensorflow as tf

from tfgan_eff.errors import UserError
from tfgan_eff.models.base import Discriminator, Generator

_SIGNATURES = ("serving_default", "serve")  # model.export writes both; tfgan_eff's export aliases serve as the default


class TeacherError(UserError, ValueError):
    """The teacher path holds no usable teacher, or its checkpoint does not match the rebuilt models."""


def freeze(model):
    """Makes every variable of `model` non-trainable (so no optimizer or tape picks it up); returns `model`.

    Callers must also call it with training=False: that keeps BN statistics and spectral-norm vectors fixed.
    """
    model.trainable = False
    return model


class FileModel(keras.layers.Layer):
    """A model loaded from a file, called like this package's: (x, labels=None, training) -> outputs.

    `fn` takes a dict {input key: tensor}; `main_key` / `label_key` say which input is which (label_key None:
    unconditional). It always runs in inference mode.
    """

    def __init__(self, fn, main_key, label_key, model=None, saved_model=None, variables=(), **kwargs):
        super().__init__(**kwargs)
        self.fn, self.main_key, self.label_key = fn, main_key, label_key
        self.model = model  # the Keras model behind fn (tracked, so freezing it freezes its weights), or None
        self.saved_model = saved_model  # the restored SavedModel behind fn (kept alive with the layer), or None
        self._file_variables = list(variables)  # a SavedModel's: Keras does not track them

    def _outputs(self, x, labels):
        inputs = {self.main_key: tf.cast(x, tf.float32)}
        if self.label_key is not None:
            inputs[self.label_key] = tf.cast(labels, tf.int32)
        return tf.cast(self.fn(inputs), tf.float32)


class FileDiscriminator(FileModel):
    """A teacher D from a file: (images, labels=None, training) -> logits [B]."""

    def call(self, images, labels=None, training=False):
        del training  # a teacher is only ever evaluated
        return tf.reshape(self._outputs(images, labels), [-1])


class FileGenerator(FileModel):
    """A teacher G from a file: (z, labels=None, training) -> images [B, H, W, C], with the attributes the
    evaluation and export read (latent_dim, resolution, channels, num_classes)."""

    latent_dim = resolution = channels = num_classes = 0  # set by load_generator_file

    @property
    def trainable_variables(self):
        """The weights the file's G was trained with (its table row's parameter count); a SavedModel's too, which
        Keras does not track."""
        if self.model is not None or not self.trainable:
            return super().trainable_variables
        return list(self._file_variables)

    def call(self, z, labels=None, training=False):
        del training
        return self._outputs(z, labels)


@dataclasses.dataclass(frozen=True)
class _Role:
    """What a teacher file holds: its name in messages, its main input (rank, key in this package's models, how the
    messages describe it), the class that wraps a foreign model and this package's own model class."""
    name: str
    rank: int
    main_key: str
    takes: str
    wrapper: type
    package_class: type


_DISCRIMINATOR = _Role("discriminator", 4, "images", "images [B, H, W, C]", FileDiscriminator, Discriminator)
_GENERATOR = _Role("generator", 2, "z", "z [B, latent_dim]", FileGenerator, Generator)


def _first_line(err):
    return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"


def _describe(specs):
    return ", ".join(f"{k}: {list(shape)} {dtype}" for k, (shape, dtype) in specs.items())


def _input_keys(specs, role, path):
    """(main key, label key or None): the main input has the role's rank; at most one other (the labels)."""
    main = [k for k, (shape, _) in specs.items() if len(shape) == role.rank]
    others = [k for k in specs if k not in main]
    if len(main) != 1 or len(others) > 1:
        raise TeacherError(f"teacher {role.name} {path} must take {role.takes} and optionally integer labels [B]; it "
                           f"takes {_describe(specs)}")
    return main[0], (others[0] if others else None)


def _embedding_rows(model):
    """Rows of a Keras model's label embeddings: the classes it knows."""
    return [layer.input_dim for layer in model._flatten_layers()  # pylint: disable=protected-access
            if isinstance(layer, keras.layers.Embedding)]


def _package_model(model, role):
    """(wrapped model, input specs, embedding rows) of this package's own model, called with its own signature."""
    if role.rank == 4:
        shape = (None, model.resolution, model.resolution, model.channels)
    else:
        shape = (None, model.latent_dim)
    labels = "labels" if model.num_classes else None
    specs = {role.main_key: (shape, "float32"), **({labels: ((None,), "int32")} if labels else {})}
    fn = lambda inputs: model(inputs[role.main_key], inputs.get("labels"), training=False)  # noqa: E731
    return role.wrapper(fn, role.main_key, labels, model=model), specs, [model.num_classes] if labels else []


def _from_keras(path, role):
    """(wrapped model, {input name: (shape, dtype)}, rows of its label embeddings) of a `.keras` file."""
    try:
        model = keras.saving.load_model(path, compile=False)
    except (ValueError, OSError, KeyError, TypeError, zipfile.BadZipFile) as err:  # empty, damaged or foreign
        raise TeacherError(f"teacher {role.name} {path} is not a readable .keras model ({_first_line(err)}): pass a "
                           "file written by model.save(path) with path ending in .keras") from err
    if isinstance(model, role.package_class):
        return _package_model(model, role)
    if isinstance(model, (Generator, Discriminator)):
        raise TeacherError(f"teacher {role.name} {path} holds a {type(model).__name__}, not a {role.name}: pass "
                           f"the {role.name}'s file")
    if not getattr(model, "inputs", None):
        raise TeacherError(f"teacher {role.name} {path} is a subclassed model with no declared inputs: save a "
                           "functional or Sequential model, or export a SavedModel with model.export(path)")
    specs = {t.name: (tuple(t.shape), str(t.dtype)) for t in model.inputs}
    main_key, label_key = _input_keys(specs, role, path)
    if label_key is None:
        fn = lambda inputs: model(inputs[main_key], training=False)  # noqa: E731
    else:
        fn = lambda inputs: model([inputs[t.name] for t in model.inputs], training=False)  # noqa: E731
    return role.wrapper(fn, main_key, label_key, model=model), specs, _embedding_rows(model)


def _from_saved_model(path, role):
    """(wrapped model, {input name: (shape, dtype)}, rows of its label embeddings) of a SavedModel's serving
    signature (which has one output)."""
    try:
        loaded = tf.saved_model.load(path)
    except (OSError, ValueError, tf.errors.OpError) as err:  # a damaged or foreign saved_model.pb
        raise TeacherError(f"teacher {role.name} {path} is not a readable SavedModel ({_first_line(err)}): export "
                           "it with model.export(path)") from err
    names = [n for n in _SIGNATURES if n in loaded.signatures]
    if not names:
        raise TeacherError(f"teacher {role.name} {path} has no {' or '.join(_SIGNATURES)} signature (it has "
                           f"{sorted(loaded.signatures)}); export it with model.export(path)")
    signature = loaded.signatures[names[0]]
    specs = {k: (tuple(v.shape), v.dtype.name) for k, v in signature.structured_input_signature[1].items()}
    main_key, label_key = _input_keys(specs, role, path)
    outputs = list(signature.structured_outputs)
    if len(outputs) != 1:
        raise TeacherError(f"teacher {role.name} {path} must have one output, it has {outputs}")

    def fn(inputs):
        return signature(**inputs)[outputs[0]]

    layer = role.wrapper(fn, main_key, label_key, saved_model=loaded, variables=signature.trainable_variables)
    # Keras names an Embedding's table "embeddings": its rows are the classes a projection D knows.
    return layer, specs, [int(v.shape[0]) for v in signature.variables if "embeddings" in v.name]


def _read(path, kind, role, strategy):
    """(wrapped model, input specs, embedding rows) of a teacher file of `role`."""
    with strategy.scope():
        return (_from_keras if kind == "keras" else _from_saved_model)(path, role)


def _label_probes(classes, cannot):
    """(labels of 2 inputs, what a failure means) to call a model with: class 0, then the last class id (a model
    with fewer classes fails its label lookup)."""
    if not classes:
        return [(None, cannot)]
    return [(np.zeros(2, np.int32), cannot),
            (np.full(2, classes - 1, np.int32), f"fewer classes (label {classes - 1} fails)")]


def _checked_call(layer, x, classes, refuse):
    """The outputs of `layer` on `x` for each label probe; `refuse(reason)` when a call fails."""
    outputs = None
    for labels, what in _label_probes(classes, "inputs it cannot evaluate"):
        try:
            outputs = layer.call(x, labels)
        except (ValueError, TypeError, tf.errors.OpError):
            refuse(what)
    return outputs


def _check_labels(layer, specs, classes, k, refuse):
    if (layer.label_key is not None) != bool(k):
        refuse(_describe(specs))
    if k and classes and classes != [k] * len(classes):
        refuse(f"label embeddings of {sorted(set(classes))} classes")


def _fit(data, role, path):
    """(resolution, channels, classes, refuse) of what a teacher file must fit (`data`: a config's data section,
    num_classes resolved); refuse(what it does) raises the one-line refusal."""
    r, c = data.resolution, data.channels
    k = data.num_classes if data.conditional else 0
    want = f"{r}x{r}x{c} images" + (f" and int labels of {k} classes" if k else " and no labels")

    def refuse(got):
        raise TeacherError(f"teacher {role.name} {path} does not fit this run: {got}; expected {want}")

    return r, c, k, refuse


def load_discriminator_file(path, kind, data, strategy):
    """The frozen FileDiscriminator at `path` (`kind` "keras" or "saved_model"), refused unless it takes the
    images and labels of `data` (a config's data section, num_classes resolved)."""
    r, c, k, refuse = _fit(data, _DISCRIMINATOR, path)
    takes = lambda got: refuse(f"it takes {got}")  # noqa: E731
    layer, specs, classes = _read(path, kind, _DISCRIMINATOR, strategy)
    shape = specs[layer.main_key][0]
    if any(got is not None and got != need for got, need in zip(shape[1:], (r, r, c))):
        takes(_describe(specs))
    _check_labels(layer, specs, classes, k, takes)
    logits = _checked_call(layer, np.zeros((2, r, r, c), np.float32), k, takes)
    if tuple(logits.shape) != (2,):
        takes(f"outputs of shape {list(logits.shape)} for 2 images (want one logit each)")
    return freeze(layer)


def load_generator_file(path, kind, data, strategy):
    """The teacher G at `path` (`kind` "keras" or "saved_model"): this package's Generator when the file holds one
    saved whole, else a FileGenerator (only ever evaluated); refused unless it makes `data`'s images (resolution,
    channels) for its labels."""
    r, c, k, refuse = _fit(data, _GENERATOR, path)
    takes = lambda got: refuse(f"it takes {got}")  # noqa: E731
    layer, specs, classes = _read(path, kind, _GENERATOR, strategy)
    latent = specs[layer.main_key][0][1]
    if latent is None:
        refuse(f"its z input has no fixed size ({_describe(specs)})")
    _check_labels(layer, specs, classes, k, takes)
    images = _checked_call(layer, np.zeros((2, latent), np.float32), k, takes)
    if tuple(images.shape) != (2, r, r, c):
        refuse(f"it makes images of shape {list(images.shape[1:])}")
    if isinstance(layer.model, Generator):
        return layer.model
    layer.latent_dim, layer.resolution, layer.channels, layer.num_classes = int(latent), r, c, k
    return layer
