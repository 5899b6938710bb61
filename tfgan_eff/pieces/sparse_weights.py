"""SparseWeights: STU-GAN's sparse-to-sparse training (Liu et al., arXiv:2203.02770) as a GANTrainer piece.

Per training step (inside Keras' train_step): every D and G optimizer step is followed by re-masking its kernels,
the EMA generator is updated sparsely, and on the G step just before each mask update the balance-ratio inputs are
measured. Every `update_every` G steps the prune-and-regrow update runs as its own tf.function from a callback
(`sparsity_callback.SparsityCallback`): gradient growth all-reduces gradients (a merge_call on MirroredStrategy),
which cannot sit under the tensor condition a train_step would need.
"""

import keras
import tensorflow as tf

from tfgan_eff.data import pipeline
from tfgan_eff.ops import replica
from tfgan_eff.pieces.drop_grow import cosine_drop_fraction
from tfgan_eff.pieces.keys import SPARSE_MODES
from tfgan_eff.pieces.mask_update import MaskUpdater
from tfgan_eff.pieces.masks import sparsify
from tfgan_eff.pieces.sparse_diagnostics import balance_ratio
from tfgan_eff.pieces.sparse_ema import align, sparse_ema_update
from tfgan_eff.training.piece import TrainerPiece


def _masks_for(model, density, distribution, seed, init):
    """The model's MaskSet, or None for a dense network (density 1)."""
    return sparsify(model, density, distribution, seed=seed, init=init) if density < 1.0 else None


class SparseWeights(TrainerPiece):
    """Masked conv kernels in G (density d_G) and D (d_D) and STU-GAN's exploration, for any G and D.

    Modes: "static" (masks fixed), "dynamic_g" (G: drop smallest |w|, regrow largest |dense gradient|),
    "dynamic_gd" (dynamic_g + D with random regrowth), "dynamic_d" (D only, random regrowth).
    The masks are made when the trainer is built (inside the strategy scope, after the models and before a
    checkpoint is restored, which then restores them: they are checkpoint dependencies of the conv layers).

    Args:
      sparse_cfg: a config section with g_density, d_density, distribution, update_every, drop_fraction,
        drop_fraction_end, reset_optimizer_state (and mode).
      mode: one of SPARSE_MODES; default sparse_cfg.mode.
      seed: mask and random-growth seed (D uses seed + 1 for its initial masks).
      mask_init: "random" (sparse from scratch) or "magnitude" (one-shot pruning of already trained weights).
    """

    def __init__(self, sparse_cfg, *, mode=None, seed=0, mask_init="random"):
        self.mode = mode or sparse_cfg.mode
        if self.mode not in SPARSE_MODES:
            raise ValueError(f"sparse mode must be one of {SPARSE_MODES}, got {self.mode!r}")
        self.cfg, self.seed, self.mask_init = sparse_cfg, seed, mask_init
        self.update_every = int(sparse_cfg.update_every)
        self.drop_schedule = (float(sparse_cfg.drop_fraction), float(sparse_cfg.drop_fraction_end))
        self.explore_g = self.mode in ("dynamic_g", "dynamic_gd")
        self.explore_d = self.mode in ("dynamic_gd", "dynamic_d")
        for explore, name in ((self.explore_g, "g_density"), (self.explore_d, "d_density")):
            if explore and sparse_cfg[name] >= 1.0:
                raise ValueError(f"mode {self.mode!r} explores a dense network: set {name} < 1 or pick another mode")
        self.total_steps = None
        self.g_masks = self.d_masks = self.g_updater = self.d_updater = None
        self.br_shares = self.fresh = self._ema_lists = None

    def attach(self, trainer):
        cfg, seed = self.cfg, self.seed
        self.total_steps = int(trainer.train_cfg.steps)
        self.g_masks = _masks_for(trainer.generator, cfg.g_density, cfg.distribution, seed, self.mask_init)
        self.d_masks = _masks_for(trainer.discriminator, cfg.d_density, cfg.distribution, seed + 1, self.mask_init)
        reset = bool(cfg.reset_optimizer_state)
        self.g_updater = MaskUpdater(self.g_masks, trainer.g_optimizer, grow="gradient", reset_optimizer_state=reset,
                                     seed=seed) if self.explore_g else None
        self.d_updater = MaskUpdater(self.d_masks, trainer.d_optimizer, grow="random", reset_optimizer_state=reset,
                                     seed=seed + 1) if self.explore_d else None
        # Per-replica shares of the global means E[D(x)], E[D(G_pre(z))], E[D(G_post(z))] of the last measurement.
        self.br_shares = keras.Variable(tf.zeros([3]), trainable=False, aggregation="none", name="br_shares")
        if trainer.ema_generator is not None and self.g_masks is not None:
            # 1 where a G weight was regrown since the last EMA update: its EMA takes the current weight then,
            # instead of averaging in a stale zero.
            self.fresh = [keras.Variable(tf.zeros(k.shape), trainable=False, aggregation="none", name="fresh")
                          for k in self.g_masks.kernels]
            self._ema_lists = self._ema_variable_lists(trainer)

    def _ema_variable_lists(self, trainer):
        """Masks the EMA kernels like G's and returns aligned lists for `update_ema`: trainable weights are
        averaged sparsely, non-trainable ones (BN statistics, spectral-norm vectors) copied."""
        g_weights, ema_weights = trainer.generator.weights, trainer.ema_generator.weights
        masks = align(g_weights, self.g_masks.kernels, self.g_masks.masks)
        fresh = align(g_weights, self.g_masks.kernels, self.fresh)
        for ema, mask in zip(ema_weights, masks):
            if mask is not None:
                ema.assign(ema * mask)
        trainable = {id(v) for v in trainer.generator.trainable_variables}
        averaged = [i for i, v in enumerate(g_weights) if id(v) in trainable]
        copied = [i for i, v in enumerate(g_weights) if id(v) not in trainable]

        def pick(items, indices):
            return [items[i] for i in indices]

        return dict(ema=pick(ema_weights, averaged), live=pick(g_weights, averaged), masks=pick(masks, averaged),
                    fresh=pick(fresh, averaged), ema_copied=pick(ema_weights, copied),
                    live_copied=pick(g_weights, copied))

    @property
    def explores(self):
        """True when the masks change during training."""
        return self.explore_g or self.explore_d

    # ----------------------------------------------------------------- hooks
    def after_d_update(self, trainer):
        if self.d_masks is not None:
            self.d_masks.apply()

    def after_g_update(self, trainer):
        if self.g_masks is not None:
            self.g_masks.apply()

    def update_ema(self, trainer):
        """Sparse EMA: ema = (decay * ema + (1 - decay) * w) * mask; regrown positions take w; buffers are copied.
        A dense G keeps the trainer's plain EMA."""
        if self._ema_lists is None:
            return False
        lists = self._ema_lists
        decay = tf.where(trainer.step >= trainer.train_cfg.ema_start, trainer.ema_decay(), 0.0)
        sparse_ema_update(lists["ema"], lists["live"], lists["masks"], decay, lists["fresh"])
        sparse_ema_update(lists["ema_copied"], lists["live_copied"], [None] * len(lists["live_copied"]), 0.0)
        replica.assign_values(self.fresh, [tf.zeros_like(f) for f in self.fresh])
        return True

    # --------------------------------------------------------- balance ratio
    @staticmethod
    def _d_mean_share(trainer, images, labels, global_batch):
        logits = trainer.discriminator(images, trainer.labels_for(labels), training=False)
        return tf.reduce_sum(logits) / global_batch

    def _fake_share(self, trainer, batch):
        labels = batch["fake_labels_g"]
        fake = trainer.generator(batch["z_g"], trainer.labels_for(labels), training=False)
        return self._d_mean_share(trainer, fake, labels, trainer.g_batch_size)

    def _measures(self, trainer):
        return tf.equal((trainer.step + 1) % self.update_every, 0)

    def before_g_step(self, trainer, batch):
        """On the G step before each mask update: D's mean on real images and on G's samples of the step's z
        (inference mode, no augmentation: no state changes)."""
        measure, zero = self._measures(trainer), tf.constant(0.0)
        real = tf.cond(measure, lambda: self._d_mean_share(trainer, batch["real"][0], batch["real_labels"][0],
                                                           trainer.batch_size), lambda: zero)
        pre = tf.cond(measure, lambda: self._fake_share(trainer, batch), lambda: zero)
        return real, pre

    def after_g_step(self, trainer, batch, before):
        """... and D's mean on G's samples of the same z after the update: the balance-ratio inputs."""
        measure, zero = self._measures(trainer), tf.constant(0.0)
        post = tf.cond(measure, lambda: self._fake_share(trainer, batch), lambda: zero)
        shares = tf.where(measure, tf.stack([*before, post]), tf.convert_to_tensor(self.br_shares))
        replica.assign_values([self.br_shares], [shares])

    def balance_ratio(self):
        """BR of the last measured G step as a Python float (NaN when D's real/fake gap is 0); call eagerly."""
        strategy = replica.variable_strategy(self.br_shares)
        copies = strategy.experimental_local_results(self.br_shares.value) if strategy else [self.br_shares.value]
        real, pre, post = tf.add_n([tf.convert_to_tensor(c) for c in copies]).numpy()
        return float(balance_ratio(real, pre, post))

    # ----------------------------------------------------------- mask update
    def probe_gradients(self, trainer, batch):
        """Dense gradients of the trainer's G loss on `batch` w.r.t. G's masked kernels, computed like a training
        step (train mode, augmentation, the other pieces' terms); BN statistics and spectral-norm vectors are put
        back so the probe leaves no trace."""
        state = trainer.generator.non_trainable_variables + trainer.discriminator.non_trainable_variables
        saved = [tf.identity(tf.convert_to_tensor(v)) for v in state]
        with tf.GradientTape() as tape:
            g_loss, _, _ = trainer.generator_loss(batch)
        grads = tape.gradient(g_loss, self.g_masks.kernels)
        replica.assign_synced(state, saved)
        return grads

    def update_masks(self, trainer, batch, step):
        """One prune-and-regrow update of the explored networks at G step `step` (inside `strategy.run`, straight-
        line code). Returns the drop fraction p_t used."""
        drop_fraction = cosine_drop_fraction(step, self.total_steps, *self.drop_schedule)
        if self.g_updater is not None:
            newly_active = self.g_updater.update(drop_fraction, self.probe_gradients(trainer, batch), step=step)
            if self._ema_lists is not None:
                replica.assign_values(self.fresh, newly_active)
        if self.d_updater is not None:
            self.d_updater.update(drop_fraction, step=step)
        return drop_fraction

    def mask_update_function(self, trainer, strategy, spec, image_shape):
        """Returns fn(step) -> p_t that runs `update_masks` on every replica with the replica's slice of step
        `step`'s G batch (z, labels, augmentation noise from `tfgan_eff.data.pipeline.step_batch`).

        Args:
          trainer: the GANTrainer this piece is attached to.
          strategy: the strategy the trainer was built under.
          spec: the run's `pipeline.BatchSpec`.
          image_shape: (H, W, C) of the training images.
        """
        # The G loss never reads real images: one blank image stands in for the data set in step_batch.
        images = tf.zeros([1, *image_shape], tf.uint8)
        labels = tf.zeros([1], tf.int64)

        def replica_fn(step):
            ctx = tf.distribute.get_replica_context()
            batch = pipeline.step_batch(images, labels, spec, step, ctx.replica_id_in_sync_group,
                                        ctx.num_replicas_in_sync)
            return self.update_masks(trainer, batch, step)

        @tf.function(autograph=False)  # straight-line code; skipping the conversion saves seconds of tracing
        def update(step):
            drop = strategy.run(replica_fn, args=(step,))
            return strategy.experimental_local_results(drop)[0]

        return lambda step: float(update(tf.constant(step, tf.int64)))
