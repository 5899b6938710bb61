"""DGL-GAN trainer: the student G loss gets `lambda * V(G_S, D_T)` from a frozen teacher discriminator.

    L_G = g_loss(D_S(G_S(z))) + lambda(step) * g_loss(D_T(G_S(z)))

on the SAME fake batch (after the same DiffAugment), where g_loss is the run's generator loss: hinge gives
-lambda * mean D_T(G_S(z)), non-saturating gives lambda * mean softplus(-D_T(G_S(z))); per-example terms are averaged
over the global G batch. D_S trains with its ordinary loss; D_T is frozen (called with training=False, not trainable,
in no optimizer) but differentiable, so gradients flow through it into G_S. lambda(step) is 0 before `switch_step`.

`L1DistillTrainer` is the usual output-distillation baseline through the same hook: the teacher term is the mean
|G_S(z) - G_T(z)| on the same z (and labels).
"""

import tensorflow as tf

from tfgan_eff.distill.teacher import freeze
from tfgan_eff.training.trainer import GANTrainer


class DGLTrainer(GANTrainer):
    """GANTrainer whose generator loss adds `weight * teacher_term` from step `switch_step` on.

    `teacher` is the frozen model the term reads: D_T here, G_T in `L1DistillTrainer`. It is frozen on the way in
    and always called with training=False; it is not part of `checkpoint_items` (it is reloaded from its own run).
    """

    def __init__(self, generator, discriminator, train_cfg, *, teacher, weight=0.1, switch_step=0, **kwargs):
        super().__init__(generator, discriminator, train_cfg, **kwargs)
        self.teacher = freeze(teacher)
        self.weight = float(weight)
        self.switch_step = int(switch_step)

    def teacher_weight(self):
        """lambda at the current step: `weight` from `switch_step` on, else 0 (an in-graph condition)."""
        return tf.where(self.step >= self.switch_step, self.weight, 0.0)

    def teacher_term(self, fake, batch):
        """Per-example teacher term: the G loss of D_T's logits on the augmented fake batch D_S also judged."""
        labels = self._labels(batch["fake_labels_g"])
        logits = self.teacher(self._augment(fake, batch["aug_g"]), labels, training=False)
        return self.g_loss_fn(logits)

    def extra_generator_loss(self, fake, batch):
        term = self._global_mean(self.teacher_term(fake, batch), self.g_batch_size)
        loss = self.teacher_weight() * term
        # Both logs are this replica's share of a global mean (the trainer sums them over replicas).
        return loss, {"teacher_term": term, "teacher_loss": loss}


class L1DistillTrainer(DGLTrainer):
    """The L1 knowledge-distillation baseline (`teacher` = G_T): teacher term = mean |G_S(z) - G_T(z)| per example,
    on the same z and labels."""

    def teacher_term(self, fake, batch):
        target = self.teacher(batch["z_g"], self._labels(batch["fake_labels_g"]), training=False)
        return tf.reduce_mean(tf.abs(fake - target), axis=[1, 2, 3])
