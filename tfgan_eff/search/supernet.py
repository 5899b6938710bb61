"""The alphaGAN supernet generator: every edge mixes all its candidates by softmax(alpha).

The 81 architecture scalars live in 8 trainable variables owned by the model (so a tf.train.Checkpoint of the model
saves them, unlike the original code), but `weight_variables` leaves them out: the weight optimizers are built on
`weight_variables` and only the architect's optimizer sees `arch_variables`.
"""

import keras
from keras import ops

from tfgan_eff.search.candidate_ops import MixedEdge
from tfgan_eff.search.method import check_padding_resolution
from tfgan_eff.search.space import ARCH_TENSORS, CellGenerator, arch_shape

ALPHA_INIT_STDDEV = 1e-3


class SupernetGenerator(CellGenerator):
    """z [B, latent_dim] -> images in [-1, 1] through the mixed-edge cell network (Generator contract)."""

    def __init__(self, latent_dim, resolution, channels=3, ch=256, kernel_init="glorot_uniform", op_set="paper",
                 padding="zero", **kwargs):
        self.op_set = op_set  # candidate op set (method.OP_SETS); a derived genotype records it
        self.padding = padding  # the candidates' conv padding (method.PADDINGS); a derived genotype records it
        check_padding_resolution(padding, resolution)
        super().__init__(latent_dim, resolution, channels, ch, kernel_init, **kwargs)
        self._alphas = {
            name: self.add_weight(name=f"alpha_{name}", shape=arch_shape(name), trainable=True,
                                  initializer=keras.initializers.RandomNormal(stddev=ALPHA_INIT_STDDEV))
            for name in ARCH_TENSORS}

    def _make_edge(self, tensor, row, scale):
        candidates, _ = ARCH_TENSORS[tensor]
        return MixedEdge(candidates, self.ch, scale, self.kernel_init, self.op_set, self.padding,
                         name=f"{tensor}_{row}")

    def _edge_weights(self):
        return {name: ops.softmax(alpha, axis=-1) for name, alpha in self._alphas.items()}

    def _apply_edge(self, layer, x, weights, training):
        return layer(x, weights, training=training)

    @property
    def alphas(self):
        """{tensor name: architecture variable [edges, candidates]} in the fixed ARCH_TENSORS order."""
        return dict(self._alphas)

    @property
    def arch_variables(self):
        """The 8 architecture variables (81 scalars), in ARCH_TENSORS order."""
        return [self._alphas[name] for name in ARCH_TENSORS]

    @property
    def weight_variables(self):
        """Trainable network weights without the architecture variables: what the weight optimizers update."""
        arch = {id(v) for v in self._alphas.values()}
        return [v for v in self.trainable_variables if id(v) not in arch]

    def edge_softmax(self):
        """{tensor name: numpy softmax(alpha) [edges, candidates]}."""
        return {name: ops.convert_to_numpy(w) for name, w in self._edge_weights().items()}
