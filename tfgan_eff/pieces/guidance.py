"""TeacherGuidance: the piece that adds `lambda(step) * teacher_term` to G's loss from a frozen teacher.

DGL-GAN (Tian et al., arXiv:2112.06502), term "dgl": the teacher is D_T and the term is the run's generator loss of
D_T's logits of the SAME fake batch D_S judges,

    L_G = g_loss(D_S(G_S(z))) + lambda(step) * g_loss(D_T(G_S(z)))

(hinge: -lambda * mean D_T(G_S(z)); non-saturating: lambda * mean softplus(-D_T(G_S(z)))). D_T judges the fake as
generated, as in the official code (neither its BigGAN nor its StyleGAN2 path augments the teacher's input);
`teacher_diffaug=True` gives it the DiffAugment-ed fake D_S judged instead. D_T is frozen (called with
training=False, not trainable, in no optimizer) but differentiable, so gradients flow through it into G_S.

Term "boost": the official StyleGAN2 "boost" recipe (a full-width G guided by D_T), `adversarial.dgl_boost_g`:
softplus(-D_T) weighted per example by stop_gradient(-D_T) * 1[D_T < 0].

Term "l1": the usual output-distillation baseline (not DGL: its teacher is G_T), mean |G_S(z) - G_T(z)| on the same
z and labels.

Per-example terms are averaged over the global G batch; lambda(step) is 0 before `switch_step`.
"""

import tensorflow as tf

from tfgan_eff.losses import adversarial
from tfgan_eff.pieces.keys import TEACHER_TERMS
from tfgan_eff.pieces.teacher import freeze
from tfgan_eff.training.piece import TrainerPiece


class TeacherGuidance(TrainerPiece):
    """G's loss gets `weight * teacher term` from step `switch_step` on (see the module docstring).

    Args:
      teacher: the frozen model the term reads (D_T for "dgl" / "boost", G_T for "l1"). It is frozen on the way in
        and always called with training=False; it is not checkpointed (it is reloaded from its own run).
      term: one of TEACHER_TERMS.
      weight: lambda.
      switch_step: first step with the term on.
      teacher_diffaug: D_T judges the DiffAugment-ed fake ("dgl" / "boost").
    """

    def __init__(self, teacher, *, term="dgl", weight=0.1, switch_step=0, teacher_diffaug=False):
        if term not in TEACHER_TERMS:
            raise ValueError(f"teacher term must be one of {TEACHER_TERMS}, got {term!r}")
        self.teacher = freeze(teacher)
        self.term = term
        self.weight = float(weight)
        self.switch_step = int(switch_step)
        self.teacher_diffaug = bool(teacher_diffaug)

    def teacher_weight(self, trainer):
        """lambda at the trainer's current step: `weight` from `switch_step` on, else 0 (an in-graph condition)."""
        return tf.where(trainer.step >= self.switch_step, self.weight, 0.0)

    def teacher_logits(self, trainer, fake, batch):
        """D_T's logits of the fake batch (with its labels): as generated, or as D_S saw it with teacher_diffaug."""
        images = trainer.augment(fake, batch["aug_g"]) if self.teacher_diffaug else fake
        return self.teacher(images, trainer.labels_for(batch["fake_labels_g"]), training=False)

    def per_example_term(self, trainer, fake, batch):
        """The teacher term of each fake image [B]."""
        if self.term == "l1":
            target = self.teacher(batch["z_g"], trainer.labels_for(batch["fake_labels_g"]), training=False)
            return tf.reduce_mean(tf.abs(fake - target), axis=[1, 2, 3])
        logits = self.teacher_logits(trainer, fake, batch)
        return adversarial.dgl_boost_g(logits) if self.term == "boost" else trainer.g_loss_fn(logits)

    def generator_loss_term(self, trainer, fake, batch):
        term = trainer.global_mean(self.per_example_term(trainer, fake, batch), trainer.g_batch_size)
        loss = self.teacher_weight(trainer) * term
        # Both logs are this replica's share of a global mean (the trainer sums them over replicas).
        return loss, {"teacher_term": term, "teacher_loss": loss}
