"""Injectable feature extractors: callables images in [-1, 1] -> (features [B, F], logits [B, K]).

Each extractor has a `.protocol` dict (name, input size, resize, feature dim, weights identity) that is stored
with reference statistics, so statistics made under a different protocol are never compared by mistake.

- InceptionExtractor: keras.applications.InceptionV3 from a LOCAL weights file (pool3 features, 1000 logits).
- OfflineClassifierExtractor: a small CNN trained deterministically on a built-in offline dataset and cached,
  so FID works with no downloads.
"""

import hashlib
import json
import os

import keras
import numpy as np
import tensorflow as tf

from tfgan_eff.data import offline
from tfgan_eff.files import atomic_write, read_json, write_json

INCEPTION_WEIGHTS_FILENAME = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
INCEPTION_WEIGHTS_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/" + INCEPTION_WEIGHTS_FILENAME)


def _file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _KerasExtractor:
    """Shared call path: checks channels, resizes bilinearly to the model's input size, runs in chunks."""

    def __init__(self, model, input_size, channels, batch_size):
        self._model = model
        self._input_size = input_size
        self._channels = channels
        self._batch_size = batch_size
        self._forward = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def __call__(self, images):
        """images: [B, H, W, C] float in [-1, 1] -> (features float32 [B, F], logits float32 [B, K])."""
        images = tf.convert_to_tensor(images, tf.float32)
        if images.shape.rank != 4 or images.shape[-1] != self._channels:
            raise ValueError(f"{type(self).__name__} expects [B, H, W, {self._channels}] images in [-1, 1], "
                             f"got shape {images.shape}")
        features, logits = [], []
        for start in range(0, int(images.shape[0]), self._batch_size):
            chunk = images[start:start + self._batch_size]
            if tuple(chunk.shape[1:3]) != (self._input_size, self._input_size):
                chunk = tf.image.resize(chunk, (self._input_size, self._input_size), method="bilinear")
            chunk_features, chunk_logits = self._forward(chunk)
            features.append(chunk_features.numpy())
            logits.append(chunk_logits.numpy())
        return np.concatenate(features, axis=0), np.concatenate(logits, axis=0)


class InceptionExtractor(_KerasExtractor):
    """InceptionV3 pool3 features (2048-d global average pool) and pre-softmax ImageNet logits (1000).

    Uses Keras' InceptionV3 ImageNet weights (not the 2015 TF graph of the original FID code, so absolute FID
    values differ slightly from papers; the protocol records this). Images are resized bilinearly to 299.
    """

    INPUT_SIZE = 299

    def __init__(self, weights_path, batch_size=32):
        """weights_path: local InceptionV3 weights with the top (.h5 from Keras' storage, or a .weights.h5)."""
        if not weights_path or not os.path.isfile(weights_path):
            problem = "no InceptionV3 weights file was given" if not weights_path else (
                f"InceptionV3 weights file {weights_path!r} does not exist")
            raise FileNotFoundError(
                f"{problem}; weights are never downloaded at run time and a randomly initialised Inception "
                "would give meaningless FID. Supply a local file, e.g. "
                f"--config.eval.inception_weights=/path/{INCEPTION_WEIGHTS_FILENAME} (tools/compute_ref_stats.py: "
                f"--inception_weights=/path/{INCEPTION_WEIGHTS_FILENAME}). Fetch it on a machine with internet "
                f"from {INCEPTION_WEIGHTS_URL} (include_top weights, not the _notop file), or use the offline "
                "extractor instead (extractor='offline').")
        # classifier_activation=None makes the top Dense return logits rather than softmax probabilities.
        base = keras.applications.InceptionV3(include_top=True, weights=weights_path, classifier_activation=None)
        model = keras.Model(base.input, [base.get_layer("avg_pool").output, base.output])
        super().__init__(model, self.INPUT_SIZE, channels=3, batch_size=batch_size)
        self.weights_path = weights_path
        self.protocol = {
            "name": "inception_v3_keras",
            "input_size": self.INPUT_SIZE,
            "resize": "bilinear",
            "feature_layer": "avg_pool",
            "feature_dim": 2048,
            "num_logits": int(base.output.shape[-1]),
            "weights_sha256": _file_sha256(weights_path),
        }


_NUM_CLASSES = {"digits": 10, "shapes": 3}


def default_cache_dir():
    """$TFGAN_EFF_CACHE, else ~/.cache/tfgan_eff."""
    return os.environ.get("TFGAN_EFF_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "tfgan_eff")


def offline_classifier_recipe(dataset, resolution=32, channels=3):
    """Everything that determines the offline classifier's weights; its hash keys the cache."""
    if dataset not in _NUM_CLASSES:
        raise ValueError(f"offline extractor dataset must be one of {sorted(_NUM_CLASSES)}, got {dataset!r}")
    return {
        "version": 1,
        "dataset": dataset,
        "resolution": int(resolution),
        "channels": int(channels),
        "num_classes": _NUM_CLASSES[dataset],
        # Shapes only (digits always has its 1,797 images): a data seed other than the loader default 0 (the
        # GANs' real data), so the classifier never saw the reference images.
        "num_examples": 4000,
        "data_seed": 1,
        "test_fraction": 0.2,
        "split_seed": 0,
        "conv_widths": [32, 64, 64],
        "feature_dim": 128,
        "epochs": 8,
        "batch_size": 32,
        "learning_rate": 1e-3,
        "init_seed": 0,
        "order_seed": 0,
    }


def recipe_hash(recipe):
    """Stable sha256 of a recipe dict (sorted-key JSON)."""
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


def _build_classifier(recipe):
    """Conv(stride 2) x3 -> Dense(feature_dim, relu) [features] -> Dense(num_classes) [logits], seeded init."""
    seed = recipe["init_seed"]
    inputs = keras.Input((recipe["resolution"], recipe["resolution"], recipe["channels"]))
    x = inputs
    for i, width in enumerate(recipe["conv_widths"]):
        x = keras.layers.Conv2D(width, 3, strides=2, padding="same", activation="relu",
                                kernel_initializer=keras.initializers.GlorotUniform(seed=seed + i))(x)
    x = keras.layers.Flatten()(x)
    features = keras.layers.Dense(recipe["feature_dim"], activation="relu", name="features",
                                  kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 100))(x)
    logits = keras.layers.Dense(recipe["num_classes"], name="logits",
                                kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 101))(features)
    return keras.Model(inputs, [features, logits])


def _train_test_split(recipe):
    """Loads the recipe's dataset as [-1, 1] floats and splits it with a seeded permutation."""
    images, labels = offline.load(recipe["dataset"], resolution=recipe["resolution"], channels=recipe["channels"],
                                  num_examples=recipe["num_examples"], seed=recipe["data_seed"])
    images = images.astype(np.float32) / 127.5 - 1.0
    order = np.random.default_rng(recipe["split_seed"]).permutation(len(labels))
    num_test = int(round(len(labels) * recipe["test_fraction"]))
    test, train = order[:num_test], order[num_test:]
    return (images[train], labels[train]), (images[test], labels[test])


def _train_classifier(recipe):
    """Trains the recipe's classifier with a fixed data order; returns (model, test accuracy, split sizes)."""
    (x_train, y_train), (x_test, y_test) = _train_test_split(recipe)
    network = _build_classifier(recipe)
    trainer = keras.Model(network.input, network.output[1])
    trainer.compile(optimizer=keras.optimizers.Adam(recipe["learning_rate"]),
                    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    order_rng = np.random.default_rng(recipe["order_seed"])
    for _ in range(recipe["epochs"]):
        # The data order is fixed by order_seed, not by fit(shuffle=True)'s global RNG.
        perm = order_rng.permutation(len(y_train))
        trainer.fit(x_train[perm], y_train[perm], batch_size=recipe["batch_size"], epochs=1, shuffle=False,
                    verbose=0)
    predictions = np.argmax(trainer.predict(x_test, batch_size=256, verbose=0), axis=1)
    accuracy = float(np.mean(predictions == y_test))
    return network, accuracy, len(y_train), len(y_test)


class OfflineClassifierExtractor(_KerasExtractor):
    """Features of a small CNN trained on a built-in offline dataset ('digits' or 'shapes'); no downloads.

    Trained once per recipe and cached under cache_dir as offline_<dataset>_<res>px_<ch>c_<hash>.weights.h5
    with a .json beside it holding the recipe and held-out test accuracy.

    Attributes:
      protocol: dict identifying the features (includes the recipe hash).
      test_accuracy: accuracy on the held-out split, measured when the classifier was trained.
      weights_path: the cached weights file.
      loaded_from_cache: True when no training happened in this constructor.
    """

    def __init__(self, dataset="digits", resolution=32, channels=3, cache_dir=None, batch_size=256):
        recipe = offline_classifier_recipe(dataset, resolution, channels)
        digest = recipe_hash(recipe)
        cache_dir = cache_dir or default_cache_dir()
        os.makedirs(cache_dir, exist_ok=True)
        stem = os.path.join(cache_dir, f"offline_{dataset}_{resolution}px_{channels}c_{digest[:16]}")
        self.weights_path, info_path = stem + ".weights.h5", stem + ".json"

        # The .json is written after the weights, so its presence means the weights file is complete.
        info = read_json(info_path) if os.path.isfile(self.weights_path) and os.path.isfile(info_path) else None
        self.loaded_from_cache = info is not None and info.get("recipe_hash") == digest
        if self.loaded_from_cache:
            network = _build_classifier(recipe)
            network.load_weights(self.weights_path)
        else:
            network, accuracy, num_train, num_test = _train_classifier(recipe)
            info = {"recipe": recipe, "recipe_hash": digest, "test_accuracy": accuracy,
                    "num_train": num_train, "num_test": num_test, "keras_version": keras.__version__}
            atomic_write(self.weights_path, network.save_weights)  # concurrent writers never corrupt the cache
            write_json(info_path, info)
        super().__init__(network, resolution, channels, batch_size)
        self.test_accuracy = float(info["test_accuracy"])
        self.recipe = recipe
        self.protocol = {
            "name": "offline_classifier",
            "dataset": dataset,
            "input_size": int(resolution),
            "channels": int(channels),
            "resize": "bilinear",
            "feature_layer": "features",
            "feature_dim": recipe["feature_dim"],
            "num_logits": recipe["num_classes"],
            "recipe_hash": digest,
        }


def build_extractor(name, **kwargs):
    """Builds an extractor by name: 'inception' (kwargs: weights_path) or 'offline' (kwargs: dataset,
    resolution, channels, cache_dir)."""
    if name == "inception":
        return InceptionExtractor(**kwargs)
    if name == "offline":
        return OfflineClassifierExtractor(**kwargs)
    raise ValueError(f"unknown extractor {name!r}; choose 'inception' or 'offline'")
