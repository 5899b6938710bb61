"""The discrete generator of a genotype (what alphaGAN retrains), and the builder the model registry calls.

Parameter-count conventions (those of the official PyTorch code, which reproduce the published sizes exactly):
trainable parameters only (BN moving mean/variance are buffers, not counted); stem Dense with bias;
conv_1x1/3x3/5x5 with bias; sep_conv convolutions (depthwise and pointwise) without bias, each of its two BNs with
affine gamma and beta; deconv (Conv2DTranspose k2 s2) with bias, counted once on the x4 skip that applies it twice;
nearest/bilinear have no parameters; head BN with gamma/beta and conv3x3 with bias. At 32 px, ch=256, latent 128:
alphaGAN_l = 8,618,499 and alphaGAN_s = 2,952,707 trainable parameters (the paper's 8.618M / 2.953M).
Convolutions use xavier-uniform (glorot_uniform) init, as the paper's retraining does, unless model.g.kernel_init
says otherwise. A genotype of op set "normalized" adds an affine BN (gamma, beta) before each plain conv; its
"padding" (zero or reflect) changes no parameter count.
"""

from tfgan_eff.search import genotype as genotype_lib
from tfgan_eff.search.candidate_ops import make_op
from tfgan_eff.search.method import check_padding_resolution
from tfgan_eff.search.space import CellGenerator


class GenotypeGenerator(CellGenerator):
    """z [B, latent_dim] -> images in [-1, 1] through the cell network with one op per edge (BN with affine)."""

    def __init__(self, latent_dim, resolution, genotype, channels=3, ch=256, kernel_init="glorot_uniform", **kwargs):
        self.genotype = genotype_lib.resolve(genotype)
        check_padding_resolution(self.genotype.padding, resolution)
        super().__init__(latent_dim, resolution, channels, ch, kernel_init, **kwargs)

    def _make_edge(self, tensor, row, scale):
        op = self.genotype.ops(tensor)[row]
        return make_op(op, self.ch, scale, affine=True, kernel_init=self.kernel_init, op_set=self.genotype.op_set,
                       padding=self.genotype.padding)

    def _apply_edge(self, layer, x, weights, training):
        return layer(x, training=training)


def build_genotype_generator(cfg, ch):
    """GenotypeGenerator for `cfg.model.g.genotype` (JSON path or published name) with `ch` channels (unbuilt)."""
    if cfg.data.conditional:
        raise ValueError("alphaGAN genotype generators are unconditional; set data.conditional=False")
    if not cfg.model.g.genotype:
        raise ValueError("model.g.arch='genotype' needs model.g.genotype: a genotype JSON path (e.g. "
                         "<workdir>/search/genotype.json) or one of " + str(sorted(genotype_lib.PUBLISHED)))
    return GenotypeGenerator(cfg.model.latent_dim, cfg.data.resolution, cfg.model.g.genotype,
                             channels=cfg.data.channels, ch=ch, kernel_init=cfg.model.g.kernel_init)
