"""Channel inheritance: a narrow DCGAN G takes a wide one's most important channels, and refuses what it cannot."""

import numpy as np
import pytest

from tfgan_eff.models.dcgan import DCGANGenerator
from tfgan_eff.models.resnet import ResNetGenerator
from tfgan_eff.models.slim import ChannelInheritanceError, inherit_channels, top_channels

LATENT, RES = 8, 16


def _g(ch, cls=DCGANGenerator, **kwargs):
    return cls(latent_dim=LATENT, resolution=RES, channels=3, ch=ch, **kwargs).build_for_inputs()


def _randomise(model, rng):
    for w in model.weights:
        value = rng.normal(size=w.shape).astype(np.float32)
        w.assign(np.abs(value) + 0.5 if "variance" in w.path else value)


def _kill_all_but(bn, keep):
    """Zeroes gamma and beta of every channel not in `keep`: after BN and ReLU those channels are exactly 0."""
    gamma, beta, mean, var = bn.get_weights()
    dead = np.setdiff1d(np.arange(gamma.shape[0]), keep)
    gamma[dead], beta[dead] = 0.0, 0.0
    bn.set_weights([gamma, beta, mean, var])


def test_top_channels_ranks_by_absolute_gamma():
    bn = _g(4).stem_bn
    gamma = np.arange(bn.gamma.shape[0], dtype=np.float32) * 0.1
    gamma[3] = -10.0  # large magnitude, negative sign
    bn.gamma.assign(gamma)
    assert top_channels(bn, 2).tolist() == sorted([3, gamma.shape[0] - 1])


def test_a_student_of_the_live_channels_gives_the_teachers_images():
    # When every channel the student drops is dead in the teacher (gamma = beta = 0), the teacher's images are made
    # by the kept channels alone: the student that inherits them must give the same images.
    rng = np.random.default_rng(0)
    teacher, student = _g(8), _g(4)
    _randomise(teacher, rng)
    for t_bn, s_bn in zip([teacher.stem_bn, *teacher.bns], [student.stem_bn, *student.bns]):
        n, k = t_bn.gamma.shape[0], s_bn.gamma.shape[0]
        live = np.sort(rng.choice(n, size=k, replace=False))
        _kill_all_but(t_bn, live)
        gamma = t_bn.get_weights()[0]
        gamma[live] = np.sign(gamma[live]) * (np.abs(gamma[live]) + 1.0)  # live channels outrank the dead
        t_bn.gamma.assign(gamma)
    counts = inherit_channels(teacher, student)
    z = rng.normal(size=(5, LATENT)).astype(np.float32)
    np.testing.assert_allclose(student(z, training=False), teacher(z, training=False), atol=2e-4)  # float sums
    assert counts == [(s.gamma.shape[0], t.gamma.shape[0]) for t, s in
                      zip([teacher.stem_bn, *teacher.bns], [student.stem_bn, *student.bns])]
    assert counts[0] == (8, 16)  # the bottom layer: ch x 2^(n_up - 1) = 2 ch at 16 px


def test_a_student_of_live_channels_differs_from_one_of_the_wrong_channels():
    # The same construction, but the kept channels chosen by something other than |gamma| (here: the first k)
    # lose live channels, so the images differ: the test above could fail.
    rng = np.random.default_rng(1)
    teacher, student = _g(8), _g(4)
    _randomise(teacher, rng)
    inherit_channels(teacher, student)
    for bn in [student.stem_bn, *student.bns]:
        bn.gamma.assign(np.asarray(bn.gamma)[::-1].copy())  # same values, other channels
    z = rng.normal(size=(5, LATENT)).astype(np.float32)
    assert np.abs(np.asarray(student(z, training=False)) - np.asarray(teacher(z, training=False))).max() > 1e-3


@pytest.mark.parametrize("teacher, student, match", [
    (lambda: _g(4), lambda: _g(8), "wider than the teacher"),
    (lambda: _g(8, ResNetGenerator), lambda: _g(4, ResNetGenerator), "needs DCGAN generators"),
    (lambda: _g(8, spectral_norm=True), lambda: _g(4, spectral_norm=True), "without spectral norm"),
    (lambda: _g(8), lambda: DCGANGenerator(latent_dim=4, resolution=RES, channels=3, ch=4).build_for_inputs(),
     "latent 8, 16 px, 3 channels"),
])
def test_what_cannot_inherit_is_refused_in_one_line(teacher, student, match):
    with pytest.raises(ChannelInheritanceError, match=match) as err:
        inherit_channels(teacher(), student())
    assert "\n" not in str(err.value)
