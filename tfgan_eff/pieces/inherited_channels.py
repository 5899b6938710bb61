"""InheritedChannels: the piece that starts a narrow student G from the teacher G's most important channels.

The weights are set once, when the trainer is made (models/slim.py: the channels with the largest BatchNorm
|gamma|, as in network slimming, GAN Slimming and CAT). A run that then resumes from its own checkpoint or starts
from another run's (a second stage) restores over them, so only a student's first sub-run starts from the teacher.
"""

from absl import logging

from tfgan_eff.models.ema import copy_weights
from tfgan_eff.models.slim import inherit_channels
from tfgan_eff.training.piece import TrainerPiece


class InheritedChannels(TrainerPiece):
    """Sets the trainer's G (and its EMA copy) from `teacher_generator`'s channels in `attach`."""

    def __init__(self, teacher_generator):
        self.teacher_generator = teacher_generator

    def attach(self, trainer):
        counts = inherit_channels(self.teacher_generator, trainer.generator)
        if trainer.ema_generator is not None:
            copy_weights(trainer.ema_generator, trainer.generator)
        logging.info("student G inherits the teacher G's channels (kept / teacher's per layer: %s)",
                     ", ".join(f"{kept}/{of}" for kept, of in counts))
