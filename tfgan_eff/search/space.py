"""alphaGAN's generator search space: the edge layout and the cell network shared by the supernet and derived nets.

Stem Dense(z) -> bottom x bottom x ch (bottom = resolution / 8: 4 at 32 px, 6 at 48 px), then 3 cells that each
double the resolution. In a cell with input x:
  node1 = up_c[0](x); node3 = up_c[1](x); node2 = normal_c[0](node1)
  node4 = normal_c[1](node2) + normal_c[2](node3) + cross-cell skips
The cell passes node4 on and keeps node1 as a skip source: cell 2 adds skip_2[0](cell1.node1) (x2), cell 3 adds
skip_3[0](cell1.node1) (x4) + skip_3[1](cell2.node1) (x2). Head: BN -> ReLU -> conv3x3 -> tanh.

Each searched edge is one row of one architecture tensor; `ARCH_TENSORS` is the single source of that layout
(18 edges, 81 scalars) for the supernet's alphas, the genotype and the derived network.
"""

import collections

import keras
from keras import ops

from tfgan_eff.models.base import Generator
from tfgan_eff.ops.layers import batch_norm, conv
from tfgan_eff.search.candidate_ops import NORMAL_OPS, UP_OPS

NUM_CELLS = 3
# tensor name -> (candidate op names, up-sampling scale of each row); a row is one edge.
ARCH_TENSORS = collections.OrderedDict(
    [(f"normal_{c}", (NORMAL_OPS, (1, 1, 1))) for c in (1, 2, 3)]
    + [(f"up_{c}", (UP_OPS, (2, 2))) for c in (1, 2, 3)]
    + [("skip_2", (UP_OPS, (2,))), ("skip_3", (UP_OPS, (4, 2)))])
# 0-based cell index -> (skip tensor, 0-based source cell of each row).
SKIPS = {1: ("skip_2", (0,)), 2: ("skip_3", (0, 1))}


def arch_shape(tensor):
    """(number of edges, number of candidates) of architecture tensor `tensor`."""
    candidates, scales = ARCH_TENSORS[tensor]
    return len(scales), len(candidates)


def search_bottom_width(resolution):
    """Side of the stem's feature map: resolution / 2^NUM_CELLS (errors when that is not a whole number)."""
    factor = 2 ** NUM_CELLS
    if resolution % factor or resolution < factor:
        raise ValueError(f"alphaGAN generators need a resolution divisible by {factor} (3 x2 cells), got {resolution}")
    return resolution // factor


class CellGenerator(Generator):
    """The cell network; subclasses choose what sits on each edge (`_make_edge`) and how it is applied."""

    def __init__(self, latent_dim, resolution, channels=3, ch=256, kernel_init="glorot_uniform", **kwargs):
        super().__init__(latent_dim, resolution, channels, num_classes=0, **kwargs)
        self.ch = ch
        self.kernel_init = kernel_init  # of every conv and dense kernel (the edges' too)
        self.bottom = search_bottom_width(resolution)
        self.stem = keras.layers.Dense(self.bottom * self.bottom * ch, kernel_initializer=kernel_init)
        self.edges = {name: [self._make_edge(name, row, scale) for row, scale in enumerate(scales)]
                      for name, (_, scales) in ARCH_TENSORS.items()}
        self.head_bn = batch_norm()
        self.head = conv(channels, 3, init=kernel_init)

    def _make_edge(self, tensor, row, scale):
        """Returns the layer on edge `row` of architecture tensor `tensor`."""
        raise NotImplementedError

    def _edge_weights(self):
        """Per-tensor mixing weights [rows, candidates] for this call, or None for a discrete network."""
        return None

    def _apply_edge(self, layer, x, weights, training):
        """Applies one edge; `weights` is that edge's row of `_edge_weights()` (None for a discrete network)."""
        raise NotImplementedError

    def call(self, z, labels=None, training=False):
        mix = self._edge_weights()

        def edge(tensor, row, x):
            weights = None if mix is None else mix[tensor][row]
            return self._apply_edge(self.edges[tensor][row], x, weights, training)

        h = ops.reshape(self.stem(z), (-1, self.bottom, self.bottom, self.ch))
        node1s = []
        for c in range(NUM_CELLS):
            up, normal = f"up_{c + 1}", f"normal_{c + 1}"
            node1 = edge(up, 0, h)
            node3 = edge(up, 1, h)
            node2 = edge(normal, 0, node1)
            node4 = edge(normal, 1, node2) + edge(normal, 2, node3)
            if c in SKIPS:
                tensor, sources = SKIPS[c]
                for row, source in enumerate(sources):
                    node4 = node4 + edge(tensor, row, node1s[source])
            node1s.append(node1)
            h = node4
        h = ops.relu(self.head_bn(h, training=training))
        return ops.tanh(self.head(h))
