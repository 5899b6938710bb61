"""TrainerPiece: one part of a method's training-time behaviour, composed by GANTrainer.

A method's trainer is `GANTrainer(..., pieces=(...))` rather than a subclass: each piece adds a term to G's loss,
work after the optimizer steps, a measurement around the G step or its own EMA update, and the trainer calls every
piece's hooks in the order the pieces were given. The default hooks do nothing, so a piece defines only the ones
it needs. Hooks run inside `train_step` (traced, per replica) unless their docstring says otherwise.
"""


class TrainerPiece:
    """Base class of the pieces a GANTrainer composes (see the module docstring)."""

    def attach(self, trainer):
        """Called once at the end of GANTrainer.__init__ (inside the strategy scope, models and optimizers made;
        optimizer slots not yet built): create variables, masks, etc."""

    def generator_loss_term(self, trainer, fake, batch):
        """(loss added to G's loss, {name: log value}) for the fake batch G made from `batch`, or None. The loss
        and logs are this replica's share of a global mean, like the trainer's own (see GANTrainer.global_mean)."""
        del trainer, fake, batch

    def after_d_update(self, trainer):
        """Runs after every D optimizer step."""

    def before_g_step(self, trainer, batch):
        """Runs before the G step; returns a value handed to `after_g_step` (None by default)."""
        del trainer, batch

    def after_g_update(self, trainer):
        """Runs right after the G optimizer step."""

    def after_g_step(self, trainer, batch, before):
        """Runs after the G step and every piece's `after_g_update`, with what `before_g_step` returned."""

    def update_ema(self, trainer):
        """Updates the EMA generator in its own way and returns True, or returns False for the trainer's plain
        EMA update. At most one piece of a trainer may return True."""
        del trainer
        return False
