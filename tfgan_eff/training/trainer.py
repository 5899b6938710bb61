"""GANTrainer: a keras.Model whose train_step runs n_critic discriminator steps and one generator step.

One `fit` step consumes one element of `tfgan_eff.data.pipeline.make_dataset` (the replica's slice of the global
batch). Per-example losses are averaged over the GLOBAL batch, so the gradients that Keras' optimizers sum over
replicas equal the single-device gradients. A method's behaviour (DGL-GAN's teacher term, STU-GAN's masks and
regrowth) comes in as `TrainerPiece`s (training/piece.py) whose hooks the step calls, not as a trainer subclass.
"""

import threading

import keras
import tensorflow as tf

from tfgan_eff.data.diffaug import diff_augment, parse_policy
from tfgan_eff.losses import adversarial, penalties
from tfgan_eff.models.ema import update_ema
from tfgan_eff.ops.replica import all_finite, assign_synced
from tfgan_eff.training.checkpoint import apply_learning_rates


def make_adam(opt_cfg):
    """Adam from a config section with lr, beta1, beta2, eps."""
    return keras.optimizers.Adam(learning_rate=opt_cfg.lr, beta_1=opt_cfg.beta1, beta_2=opt_cfg.beta2,
                                 epsilon=opt_cfg.eps)


class GANTrainer(keras.Model):
    """Trains `generator` against `discriminator` (+ an optional EMA copy of the generator), with `pieces`
    (TrainerPieces) adding their loss terms and hooks in the order given.

    Build it inside `strategy.scope()`; `build_optimizers()` creates every optimizer slot eagerly there (a Keras 3
    optimizer built lazily inside `strategy.run` fails).
    """

    def __init__(self, generator, discriminator, train_cfg, *, ema_generator=None, diffaug="", pieces=(), **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.ema_generator = ema_generator
        self.train_cfg = train_cfg
        self.n_critic = train_cfg.n_critic
        self.batch_size = train_cfg.batch_size
        self.g_batch_size = train_cfg.g_batch_size or train_cfg.batch_size
        self.d_loss_fn, self.g_loss_fn = adversarial.get(train_cfg.loss)
        self.diffaug = parse_policy(diffaug)
        self.conditional = bool(generator.num_classes)
        self.g_optimizer = make_adam(train_cfg.g_opt)
        self.d_optimizer = make_adam(train_cfg.d_opt)
        self.step = keras.Variable(0, dtype="int64", trainable=False, name="g_step",
                                   aggregation="only_first_replica")
        # nan_policy=skip: steps skipped since this process started, and in a row now (not checkpointed: a resumed
        # run counts afresh; the updates of a skipped step were undone, so nothing else depends on them).
        self.skipped_steps = keras.Variable(0, dtype="int64", trainable=False, name="skipped_steps",
                                            aggregation="only_first_replica")
        self.skipped_in_row = keras.Variable(0, dtype="int64", trainable=False, name="skipped_in_row",
                                             aggregation="only_first_replica")
        # Each update's all-replica finiteness, collected while train_step is traced; per thread because
        # MirroredStrategy traces every replica's step in its own thread.
        self._traced_step = threading.local()
        self.built = True
        self.pieces = tuple(pieces)
        for piece in self.pieces:
            piece.attach(self)

    def piece(self, kind):
        """The first of this trainer's pieces that is a `kind`, or None."""
        return next((piece for piece in self.pieces if isinstance(piece, kind)), None)

    # ----------------------------------------------------------------- set-up
    def _maybe_symbolic_build(self, *args, **kwargs):
        """Every model and optimizer is built in __init__/build_optimizers. Keras' symbolic build would pull a batch
        and `strategy.reduce` it, which fails on our dict batches under MultiWorkerMirroredStrategy."""
        del args, kwargs


    def build_optimizers(self):
        """Creates optimizer slots now (call inside the strategy scope)."""
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    def checkpoint_items(self):
        """The objects a checkpoint must hold to resume this trainer exactly."""
        items = dict(generator=self.generator, discriminator=self.discriminator, g_optimizer=self.g_optimizer,
                     d_optimizer=self.d_optimizer, step=self.step)
        if self.ema_generator is not None:
            items["ema_generator"] = self.ema_generator
        return items

    def apply_config_learning_rates(self):
        """After a restore: every optimizer's learning rate from the config (see checkpoint.apply_learning_rates);
        returns {config key: (old, new)} of those that changed."""
        return apply_learning_rates({"train.g_opt.lr": (self.g_optimizer, self.train_cfg.g_opt.lr),
                                     "train.d_opt.lr": (self.d_optimizer, self.train_cfg.d_opt.lr)})

    # --------------------------------------------------------------- helpers
    def labels_for(self, labels):
        """The labels the models get: `labels` for a conditional run, else None."""
        return labels if self.conditional else None

    def augment(self, images, noise):
        """DiffAugment with the run's policy and this noise (the images unchanged without a policy)."""
        return diff_augment(images, noise, self.diffaug) if self.diffaug else images

    def global_mean(self, per_example, global_batch):
        """This replica's share of the mean over the global batch."""
        return tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)

    def _check_finite(self, losses):
        if self.train_cfg.nan_policy == "stop":
            for name, value in losses.items():
                tf.debugging.check_numerics(value, f"non-finite {name}")

    # ---------------------------------------------------------------- D step
    def discriminator_loss(self, real, real_labels, z, fake_labels, aug, alpha):
        """Per-replica share of the global-mean D loss for one D step, and its log values."""
        fake = self.generator(z, self.labels_for(fake_labels), training=True)
        real_aug = self.augment(real, aug[:, 0])
        fake_aug = self.augment(fake, aug[:, 1])
        real_logits = self.discriminator(real_aug, self.labels_for(real_labels), training=True)
        fake_logits = self.discriminator(fake_aug, self.labels_for(fake_labels), training=True)
        d_loss = self.global_mean(self.d_loss_fn(real_logits, fake_logits), self.batch_size)
        logs = {"d_loss": d_loss}
        cfg = self.train_cfg
        if cfg.gp_weight > 0:
            gp = penalties.gradient_penalty(
                lambda x: self.discriminator(x, self.labels_for(real_labels), training=True),
                real, fake, alpha[:, None, None, None])
            logs["gp"] = self.global_mean(gp, self.batch_size)
            d_loss += cfg.gp_weight * logs["gp"]
        if cfg.r1_gamma > 0:
            # Lazy R1 (StyleGAN2): every r1_every D steps, scaled up by r1_every.
            d_iter = self.d_optimizer.iterations
            r1 = tf.cond(d_iter % cfg.r1_every == 0,
                         lambda: penalties.r1_penalty(
                             lambda x: self.discriminator(x, self.labels_for(real_labels), training=True), real),
                         lambda: tf.zeros_like(real_logits))
            logs["r1"] = self.global_mean(r1, self.batch_size)
            d_loss += 0.5 * cfg.r1_gamma * cfg.r1_every * logs["r1"]
        return d_loss, logs

    def d_step(self, batch, k):
        """One discriminator update on the k-th D batch of the step."""
        with tf.GradientTape() as tape:
            d_loss, logs = self.discriminator_loss(
                batch["real"][k], batch["real_labels"][k], batch["z_d"][k], batch["fake_labels_d"][k],
                batch["aug_d"][k], batch["alpha_d"][k])
        self._check_finite({"D loss": d_loss})
        grads = tape.gradient(d_loss, self.discriminator.trainable_variables)
        self.apply_update(self.d_optimizer, grads, self.discriminator.trainable_variables, [d_loss])
        for piece in self.pieces:
            piece.after_d_update(self)
        return logs

    # ---------------------------------------------------------------- G step
    def generator_loss(self, batch):
        """Per-replica share of the global-mean G loss, the fake images, and log values.

        The pieces add their terms through `extra_generator_loss`.
        """
        labels = self.labels_for(batch["fake_labels_g"])
        fake = self.generator(batch["z_g"], labels, training=True)
        fake_logits = self.discriminator(self.augment(fake, batch["aug_g"]), labels, training=True)
        g_loss = self.global_mean(self.g_loss_fn(fake_logits), self.g_batch_size)
        logs = {"g_loss": g_loss}
        extra, extra_logs = self.extra_generator_loss(fake, batch)
        logs.update(extra_logs)
        return g_loss + extra, fake, logs

    def extra_generator_loss(self, fake, batch):
        """The sum of the pieces' G loss terms (already globally averaged; 0.0 without any) and their logs."""
        total, logs = None, {}
        for piece in self.pieces:
            term = piece.generator_loss_term(self, fake, batch)
            if term is not None:
                total = term[0] if total is None else total + term[0]
                logs.update(term[1])
        return (0.0 if total is None else total), logs

    def g_step(self, batch):
        """One generator update (with the pieces' hooks around it); returns its logs."""
        before = [piece.before_g_step(self, batch) for piece in self.pieces]
        with tf.GradientTape() as tape:
            g_loss, _, logs = self.generator_loss(batch)
        self._check_finite({"G loss": g_loss})
        variables = self.generator.trainable_variables
        grads = tape.gradient(g_loss, variables)
        self.apply_update(self.g_optimizer, grads, variables, [g_loss])
        for piece in self.pieces:
            piece.after_g_update(self)
        for piece, value in zip(self.pieces, before):
            piece.after_g_step(self, batch, value)
        return logs

    # --------------------------------------------------------------- updates
    def apply_update(self, optimizer, grads, variables, losses):
        """Applies grads; with nan_policy=skip a non-finite loss (on any replica) skips the update everywhere."""
        if self.train_cfg.nan_policy != "skip":
            optimizer.apply_gradients(zip(grads, variables))
            return
        finite = all_finite(losses)
        self._traced_step.__dict__.setdefault("finite", []).append(finite)
        safe = [tf.where(finite, g, tf.zeros_like(g)) for g in grads]
        previous = [tf.identity(v) for v in variables]
        optimizer.apply_gradients(zip(safe, variables))
        # Momentum would still move the weights on a zero gradient: put them back.
        assign_synced(variables, [tf.where(finite, v, old) for v, old in zip(variables, previous)])

    def ema_decay(self):
        """The configured decay, warmed up as min(decay, (1 + t) / (10 + t)) from ema_start (TF's
        ExponentialMovingAverage num_updates rule) so short runs are not dominated by the initial weights."""
        t = tf.cast(tf.maximum(self.step - self.train_cfg.ema_start, 0), tf.float32)
        return tf.minimum(self.train_cfg.ema_decay, (1.0 + t) / (10.0 + t))

    def update_ema(self):
        """Updates the EMA generator after a G step (a piece's own update when one does it, e.g. a sparse EMA)."""
        if any(piece.update_ema(self) for piece in self.pieces):
            return
        active = self.step >= self.train_cfg.ema_start
        update_ema(self.ema_generator, self.generator, self.ema_decay(), active)

    def count_skipped(self):
        """nan_policy=skip: counts this step as skipped when any of its updates was, and stops the run (an
        InvalidArgumentError naming "non-finite" losses, as nan_policy=stop does) after more than
        train.max_skipped_in_row skipped steps in a row. Returns the log values."""
        skipped = tf.logical_not(tf.reduce_all(tf.stack(self._traced_step.__dict__.pop("finite"))))
        self.skipped_steps.assign_add(tf.cast(skipped, tf.int64))
        self.skipped_in_row.assign(tf.where(skipped, self.skipped_in_row + 1, tf.zeros_like(self.skipped_in_row)))
        limit = self.train_cfg.max_skipped_in_row
        if limit:
            tf.debugging.assert_less_equal(
                self.skipped_in_row, tf.constant(limit, tf.int64),
                message=f"non-finite losses in more than {limit} steps in a row (train.max_skipped_in_row)")
        return {"skipped_steps": tf.reshape(tf.cast(self.skipped_steps, tf.float32), [1])}

    # ------------------------------------------------------------ train step
    def train_step(self, data):
        logs = {}
        for k in range(self.n_critic):
            logs = self.d_step(data, k)
        logs.update(self.g_step(data))
        skip_logs = self.count_skipped() if self.train_cfg.nan_policy == "skip" else {}
        if self.ema_generator is not None:
            self.update_ema()
        self.step.assign_add(1)
        return {**self._global_logs(logs), **skip_logs}  # the counter is the same on every replica: not summed

    @staticmethod
    def _global_logs(logs):
        """Each replica's logs are its share of the global mean; their all-reduced sum is the global value.

        Returned with shape [1]: Keras 3.15's fit always reduces logs with "mean" along axis 0, which fails on scalars
        under MultiWorkerMirroredStrategy; the mean of identical values is the value itself.
        """
        ctx = tf.distribute.get_replica_context()
        if ctx is not None and ctx.num_replicas_in_sync > 1:
            logs = {k: ctx.all_reduce(tf.distribute.ReduceOp.SUM, v) for k, v in logs.items()}
        return {k: tf.reshape(v, [1]) for k, v in logs.items()}
