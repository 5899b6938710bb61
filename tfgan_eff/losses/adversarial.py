"""Adversarial losses as pure functions of discriminator logits.

Each returns PER-EXAMPLE losses [B]; the caller reduces them with `tf.nn.compute_average_loss` over the GLOBAL batch so
that replicas' summed gradients equal the single-device gradient.
"""

import tensorflow as tf


def hinge_d(real_logits, fake_logits):
    """relu(1 - D(x)) + relu(1 + D(G(z)))."""
    return tf.nn.relu(1.0 - real_logits) + tf.nn.relu(1.0 + fake_logits)


def hinge_g(fake_logits):
    """-D(G(z))."""
    return -fake_logits


def non_saturating_d(real_logits, fake_logits):
    """softplus(-D(x)) + softplus(D(G(z))) (= -log sigmoid(D(x)) - log(1 - sigmoid(D(G(z)))))."""
    return tf.nn.softplus(-real_logits) + tf.nn.softplus(fake_logits)


def non_saturating_g(fake_logits):
    """softplus(-D(G(z))) (= -log sigmoid(D(G(z))))."""
    return tf.nn.softplus(-fake_logits)


def wasserstein_d(real_logits, fake_logits):
    """D(G(z)) - D(x)."""
    return fake_logits - real_logits


def wasserstein_g(fake_logits):
    """-D(G(z))."""
    return -fake_logits


def dgl_boost_g(teacher_logits):
    """DGL-GAN's "boost" teacher term (official StyleGAN2 code, `G_pathreg_ens`): softplus(-D_T(G(z))) weighted per
    example by stop_gradient(-D_T(G(z))) where D_T(G(z)) < 0, else 0, so samples the teacher finds more fake push
    harder and samples it takes for real do not push at all."""
    weight = tf.stop_gradient(tf.nn.relu(-teacher_logits))  # = -D_T * 1[D_T < 0]
    return weight * tf.nn.softplus(-teacher_logits)


_LOSSES = {
    "hinge": (hinge_d, hinge_g),
    "non_saturating": (non_saturating_d, non_saturating_g),
    "wasserstein": (wasserstein_d, wasserstein_g),
}


def get(name):
    """Returns (d_loss_fn, g_loss_fn) for 'hinge', 'non_saturating' or 'wasserstein'."""
    if name not in _LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(_LOSSES)}")
    return _LOSSES[name]
