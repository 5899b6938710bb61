"""Channel inheritance: a narrower DCGAN generator initialised from a wider trained one.

Network slimming (Liu et al., 2017) ranks a convolution's output channels by the magnitude of the BatchNorm scale
that follows it; GAN Slimming (Wang et al., 2020) and CAT (Jin et al., 2021) start a compressed generator from the
teacher's channels chosen that way instead of from random weights. Here each BN-followed layer of the student keeps
the teacher's channels with the largest |gamma| (its kernel's output channels and the BN's four statistics), and
the next layer's kernel keeps the input channels that the previous layer kept. The output layer keeps every image
channel and its bias.
"""

import numpy as np

from tfgan_eff.errors import UserError
from tfgan_eff.models.dcgan import DCGANGenerator
from tfgan_eff.ops.spectral_norm import SpectralNorm


class ChannelInheritanceError(UserError, ValueError):
    """The student cannot take the teacher's channels (another architecture, a wider layer, other inputs)."""


def top_channels(bn, k):
    """Indices of the `k` channels of BatchNorm `bn` with the largest |gamma|, in ascending order (ties: lower
    index first)."""
    gamma = np.abs(np.asarray(bn.gamma))
    return np.sort(np.argsort(-gamma, kind="stable")[:k])


def _weight_layers(g):
    """The layers of DCGAN generator `g` that hold kernels, input to output."""
    return [g.stem, *g.ups, g.head]


def _bn_layers(g):
    """The BatchNorms of DCGAN generator `g`, one after each layer but the output layer, input to output."""
    return [g.stem_bn, *g.bns]


def inheritance_problem(teacher, student):
    """Why `student` cannot inherit `teacher`'s channels, or None."""
    if not isinstance(teacher, DCGANGenerator) or not isinstance(student, DCGANGenerator):
        return (f"channel inheritance needs DCGAN generators (model.g.arch='dcgan'), got teacher "
                f"{type(teacher).__name__} and student {type(student).__name__}")
    # A spectral-norm wrapper's effective kernel is W / sigma: slicing W would change sigma.
    if any(isinstance(layer, SpectralNorm) for layer in _weight_layers(teacher) + _weight_layers(student)):
        return "channel inheritance needs generators without spectral norm (model.g.spectral_norm=False)"
    if (teacher.latent_dim, teacher.resolution, teacher.channels) != (
            student.latent_dim, student.resolution, student.channels):
        return (f"teacher G (latent {teacher.latent_dim}, {teacher.resolution} px, {teacher.channels} channels) and "
                f"student G (latent {student.latent_dim}, {student.resolution} px, {student.channels} channels) "
                "differ")
    widths = [(t.gamma.shape[0], s.gamma.shape[0]) for t, s in zip(_bn_layers(teacher), _bn_layers(student))]
    if any(s > t for t, s in widths):
        return f"the student G is wider than the teacher G (channels per layer, teacher -> student: {widths})"
    return None


def inherit_channels(teacher, student):
    """Sets every weight of DCGAN generator `student` from the wider `teacher` (see the module docstring); returns
    [(kept, teacher's) channel counts] per BN-followed layer. Raises ChannelInheritanceError when it cannot."""
    problem = inheritance_problem(teacher, student)
    if problem:
        raise ChannelInheritanceError(problem)
    keep = top_channels(teacher.stem_bn, student.stem_bn.gamma.shape[0])
    stem = np.asarray(teacher.stem.kernel)
    latent, teacher_top = stem.shape[0], teacher.stem_bn.gamma.shape[0]
    # The stem's units are (row, column, channel) of the reshaped bottom feature map, channel fastest.
    student.stem.kernel.assign(stem.reshape(latent, -1, teacher_top)[:, :, keep].reshape(latent, -1))
    student.stem_bn.set_weights([w[keep] for w in teacher.stem_bn.get_weights()])
    counts = [(len(keep), teacher_top)]
    for t_up, t_bn, s_up, s_bn in zip(teacher.ups, teacher.bns, student.ups, student.bns):
        out = top_channels(t_bn, s_bn.gamma.shape[0])
        # Conv2DTranspose kernels are (height, width, output channels, input channels).
        s_up.kernel.assign(np.asarray(t_up.kernel)[:, :, out, :][:, :, :, keep])
        s_bn.set_weights([w[out] for w in t_bn.get_weights()])
        counts.append((len(out), t_bn.gamma.shape[0]))
        keep = out
    student.head.kernel.assign(np.asarray(teacher.head.kernel)[:, :, keep, :])
    student.head.bias.assign(np.asarray(teacher.head.bias))
    return counts
