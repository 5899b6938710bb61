"""alphaGAN's outer step: first-order duality-gap descent on the architecture variables.

DG = V(G_alpha, D_worst) - V(G_worst, D), V(G, D) = -E relu(1 - D(x)) - E relu(1 + D(G(z))).
Only the first term depends on alpha (G_worst is a frozen copy), so the gradient is d V(G_alpha, D_worst) / d alpha;
network weights are held fixed (no unrolling). The optimizer is Adam(3e-4, betas (0.5, 0.999), eps 1e-8) with
COUPLED L2 (PyTorch Adam's weight_decay): l2 * alpha is added to the gradient before the Adam moments, which Keras'
decoupled `weight_decay` would not do.

Under a tf.distribute strategy the per-example terms are averaged over the GLOBAL batch and Keras sums the replicas'
gradients before the update.
"""

import keras
import tensorflow as tf
from keras import ops

from tfgan_eff.losses.adversarial import hinge_d


def value(real_logits, fake_logits, global_batch_size=None):
    """This replica's share of V(G, D) = -E relu(1 - D(x)) - E relu(1 + D(G(z))) (the whole V on one device)."""
    return -tf.nn.compute_average_loss(hinge_d(real_logits, fake_logits), global_batch_size=global_batch_size)


def duality_gap_terms(g, d, g_worst, d_worst, real, z, z_worst, *, global_batch_size=None):
    """(V(G, D_worst), V(G_worst, D)) on real images `real` and latents z / z_worst: the duality gap's two terms,
    which the search's history calls `minmax` and `maxmin` (DG = minmax - maxmin).

    Generators run with training=True (BN on batch statistics, as in the search), discriminators with
    training=False (spectral-norm vectors are left as they are).
    """
    g_vs_worst_d = value(d_worst(real, training=False), d_worst(g(z, training=True), training=False),
                         global_batch_size)
    worst_g_vs_d = value(d(real, training=False), d(g_worst(z_worst, training=True), training=False),
                         global_batch_size)
    return g_vs_worst_d, worst_g_vs_d


@keras.saving.register_keras_serializable(package="tfgan_eff")
class CoupledAdam(keras.optimizers.Adam):
    """torch.optim.Adam with weight_decay=l2: the gradient becomes g + l2 * w (coupled L2), and eps is added to the
    bias-corrected sqrt(v_hat) (Keras adds its eps to the uncorrected sqrt(v), which differs while |g| is small,
    as it is for the 1e-3-scale alphas).

    The L2 term is added in `update_step`, i.e. after Keras has summed the replicas' gradients, so it is counted
    once whatever the number of replicas.
    """

    def __init__(self, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        self.l2 = l2

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        grad = ops.cast(gradient, dtype) + ops.cast(self.l2, dtype) * variable
        step = ops.cast(self.iterations + 1, dtype)
        bias1 = 1 - ops.power(ops.cast(self.beta_1, dtype), step)
        bias2 = 1 - ops.power(ops.cast(self.beta_2, dtype), step)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        self.assign_add(m, (grad - m) * (1 - self.beta_1))
        self.assign_add(v, (ops.square(grad) - v) * (1 - self.beta_2))
        self.assign_sub(variable, (lr / bias1) * m / (ops.sqrt(v) / ops.sqrt(bias2) + self.epsilon))

    def get_config(self):
        return {**super().get_config(), "l2": self.l2}


def make_arch_optimizer(search_cfg):
    """The architecture optimizer of `cfg.search`: PyTorch-style Adam with coupled L2."""
    return CoupledAdam(l2=search_cfg.arch_weight_decay, learning_rate=search_cfg.arch_lr,
                       beta_1=search_cfg.arch_beta1, beta_2=search_cfg.arch_beta2, epsilon=search_cfg.arch_eps,
                       name="arch_adam")


class Architect:
    """Owns the architecture optimizer of one SupernetGenerator. Construct inside `strategy.scope()`."""

    def __init__(self, supernet, search_cfg):
        self.supernet = supernet
        self.optimizer = make_arch_optimizer(search_cfg)
        self.optimizer.build(supernet.arch_variables)

    def apply_gradients(self, grads):
        """One CoupledAdam step on the alphas with the DG gradients `grads` (in ARCH_TENSORS order)."""
        self.optimizer.apply_gradients(zip(grads, self.supernet.arch_variables))

    def step(self, d, g_worst, d_worst, real, z, z_worst, global_batch_size=None):
        """One architecture update (replica function). Returns this replica's (DG, V(G, D_worst), V(G_worst, D))."""
        # Watch the backing tf.Variables: GradientTape.watch rejects Keras variables.
        alphas = [a.value for a in self.supernet.arch_variables]
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(alphas)
            # Only V(G_alpha, D_worst) touches a watched variable, so only it is recorded for the gradient.
            g_vs_worst_d, worst_g_vs_d = duality_gap_terms(self.supernet, d, g_worst, d_worst, real, z, z_worst,
                                                           global_batch_size=global_batch_size)
        self.apply_gradients(tape.gradient(g_vs_worst_d, alphas))
        return g_vs_worst_d - worst_g_vs_d, g_vs_worst_d, worst_g_vs_d
