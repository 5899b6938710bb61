"""Makes tf.train.Checkpoint see layers kept in Python lists/dicts of a Keras 3 layer.

Keras 3.15 (TF backend) hands its tracked lists to TF's dependency graph only when exporting a SavedModel; for
`tf.train.Checkpoint` they are invisible, so the variables of layers stored in a list (e.g. `self.blocks = [...]`)
are silently left out of checkpoints (trainable ones still come back through the optimizer, BN statistics and
spectral-norm vectors do not). Every layer or model of this package that keeps sub-layers in a collection mixes
this in; each element becomes a named child `<attribute>.<index or key>`.
"""

import keras
from keras.src.utils import tracking


class CheckpointCollections(keras.layers.Layer):
    """Mixin: expose Keras-tracked lists/dicts of sub-layers (nested ones too) as checkpoint dependencies."""

    def _trackable_children(self, save_type="checkpoint", **kwargs):
        children = super()._trackable_children(save_type, **kwargs)  # pylint: disable=no-member  # TF's Trackable
        if save_type == "savedmodel":  # Keras converts them itself for SavedModel
            return children
        for attr in self._tracked:
            children.update(_collection_children(attr, getattr(self, attr, None)))
        return children


def _collection_children(prefix, collection):
    """{"<prefix>.<key>[.<key>...]": layer or variable} of a tracked list/set/dict, recursing into nested ones
    (e.g. the alphaGAN cell networks' {tensor name: [edge layers]})."""
    if isinstance(collection, (tracking.TrackedList, tracking.TrackedSet)):
        items = enumerate(collection)
    elif isinstance(collection, tracking.TrackedDict):
        items = collection.items()
    else:
        return {}
    children = {}
    for key, item in items:
        if isinstance(item, (keras.layers.Layer, keras.Variable)):
            children[f"{prefix}.{key}"] = item
        else:
            children.update(_collection_children(f"{prefix}.{key}", item))
    return children
