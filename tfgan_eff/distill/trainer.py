"""DGL-GAN trainer: the student G loss gets `lambda * V(G_S, D_T)` from a frozen teacher discriminator.

    L_G = g_loss(D_S(G_S(z))) + lambda(step) * g_loss(D_T(G_S(z)))

on the SAME fake batch, where g_loss is the run's generator loss: hinge gives -lambda * mean D_T(G_S(z)),
non-saturating gives lambda * mean softplus(-D_T(G_S(z))); per-example terms are averaged over the global G batch.
D_T judges the fake as generated, as in the official code (neither its BigGAN nor its StyleGAN2 path augments the
teacher's input); `teacher_diffaug=True` gives it the DiffAugment-ed fake D_S judged instead. D_S trains with its
ordinary loss; D_T is frozen (called with training=False, not trainable, in no optimizer) but differentiable, so
gradients flow through it into G_S. lambda(step) is 0 before `switch_step`.

`BoostTrainer` is the official StyleGAN2 "boost" recipe (a full-width G guided by D_T): the teacher term is
`adversarial.dgl_boost_g`, softplus(-D_T) weighted per example by stop_gradient(-D_T) * 1[D_T < 0].

`L1DistillTrainer` is the usual output-distillation baseline (not DGL: its teacher is G_T) through the same hook,
`TeacherGuidedTrainer`: the teacher term is the mean |G_S(z) - G_T(z)| on the same z (and labels).
"""

import tensorflow as tf

from tfgan_eff.distill.teacher import freeze
from tfgan_eff.losses import adversarial
from tfgan_eff.training.trainer import GANTrainer


class TeacherGuidedTrainer(GANTrainer):
    """GANTrainer whose generator loss adds `weight * teacher_term` from step `switch_step` on; subclasses define
    the per-example `teacher_term(fake, batch)`.

    `teacher` is the frozen model the term reads (D_T or G_T). It is frozen on the way in and always called with
    training=False; it is not part of `checkpoint_items` (it is reloaded from its own run).
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
        """Per-example teacher term [B]."""
        raise NotImplementedError

    def extra_generator_loss(self, fake, batch):
        term = self._global_mean(self.teacher_term(fake, batch), self.g_batch_size)
        loss = self.teacher_weight() * term
        # Both logs are this replica's share of a global mean (the trainer sums them over replicas).
        return loss, {"teacher_term": term, "teacher_loss": loss}


class DGLTrainer(TeacherGuidedTrainer):
    """DGL-GAN's student trainer: the teacher is D_T and the term is the run's G loss of D_T's logits."""

    def __init__(self, *args, teacher_diffaug=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.teacher_diffaug = bool(teacher_diffaug)

    def teacher_logits(self, fake, batch):
        """D_T's logits of the fake batch (with its labels): as generated, or as D_S saw it with teacher_diffaug."""
        images = self._augment(fake, batch["aug_g"]) if self.teacher_diffaug else fake
        return self.teacher(images, self._labels(batch["fake_labels_g"]), training=False)

    def teacher_term(self, fake, batch):
        """Per-example teacher term: the run's G loss of D_T's logits."""
        return self.g_loss_fn(self.teacher_logits(fake, batch))


class BoostTrainer(DGLTrainer):
    """DGL-GAN's "boost" recipe of the official StyleGAN2 code: teacher term = `adversarial.dgl_boost_g` of D_T's
    logits per example (whatever train.loss is; the official runs use the non-saturating loss)."""

    def teacher_term(self, fake, batch):
        return adversarial.dgl_boost_g(self.teacher_logits(fake, batch))


class L1DistillTrainer(TeacherGuidedTrainer):
    """The L1 knowledge-distillation baseline (`teacher` = G_T): teacher term = mean |G_S(z) - G_T(z)| per example,
    on the same z and labels."""

    def teacher_term(self, fake, batch):
        target = self.teacher(batch["z_g"], self._labels(batch["fake_labels_g"]), training=False)
        return tf.reduce_mean(tf.abs(fake - target), axis=[1, 2, 3])
