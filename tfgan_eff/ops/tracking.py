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
    """Mixin: expose Keras-tracked lists/dicts of sub-layers as checkpoint dependencies too."""

    def _trackable_children(self, save_type="checkpoint", **kwargs):
        children = super()._trackable_children(save_type, **kwargs)
        if save_type == "savedmodel":  # Keras converts them itself for SavedModel
            return children
        for attr in self._tracked:
            collection = getattr(self, attr, None)
            if isinstance(collection, (tracking.TrackedList, tracking.TrackedSet)):
                items = enumerate(collection)
            elif isinstance(collection, tracking.TrackedDict):
                items = collection.items()
            else:
                continue
            for key, item in items:
                if isinstance(item, (keras.layers.Layer, keras.Variable)):
                    children[f"{attr}.{key}"] = item
        return children
