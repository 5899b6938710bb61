"""alphaGAN's bi-level search loop, one round as the official code runs it.

Per round r:
  1. inner: supernet weights and D trained on split A with alphas fixed (D every step, G every n_critic D steps);
  2. worst cases on split B from copies of the current nets, with freshly reset Adam optimizers (lr halved from
     round `worst_lr_halve_round`): D_worst maximises V(G, D') for K steps, G_worst minimises V(G', D) for K steps
     (alphas copied and frozen; its loss is the hinge generator loss -D(G'(z)), as in the official code);
  3. outer: `arch_steps` duality-gap updates of the alphas, each on a fresh batch of split B.
Then the round's genotype (argmax per edge) is saved as JSON, DG / both terms / per-edge softmax / architecture
entropy go to absl logging and TensorBoard, and a checkpoint (supernet incl. alphas, D, the inner and architecture
optimizers, the round index) lets a rerun resume at the next round.

Batches are a function of (seed, round, phase) only, so a resumed search sees the batches an uninterrupted one would.
All step functions run through `strategy.run` with per-example losses averaged over the global batch.
"""

import json
import os
import time

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from tfgan_eff.files import read_json, write_json
from tfgan_eff.losses.adversarial import hinge_d, hinge_g
from tfgan_eff.models.registry import build_discriminator
from tfgan_eff.ops.precision import policy_scope
from tfgan_eff.search import genotype as genotype_lib
from tfgan_eff.search.architect import Architect
from tfgan_eff.search.space import ARCH_TENSORS
from tfgan_eff.search.supernet import SupernetGenerator
from tfgan_eff.training.checkpoint import Checkpointer, apply_learning_rates

_PHASES = {"inner": 0, "worst_d": 1, "worst_g": 2, "arch": 3}
_PRESET_STEPS = {"s": 20, "l": 0}  # 0 = one pass over the split


def split_indices(num_examples, seed):
    """Shuffles 0..N-1 with `seed` and cuts it 50/50 into (split A for weights, split B for worst cases and alphas)."""
    perm = np.random.default_rng(seed).permutation(num_examples)
    half = num_examples // 2
    return np.sort(perm[:half]), np.sort(perm[half:])


def steps_per_round(search_cfg, size_a, size_b):
    """(inner D steps, worst-case steps) per round: the configured counts, or the preset's when they are 0."""
    if search_cfg.preset not in _PRESET_STEPS:
        raise ValueError(f"search.preset must be one of {sorted(_PRESET_STEPS)}, got {search_cfg.preset!r}")
    batch = search_cfg.batch_size

    def resolve(configured, size):
        steps = configured or _PRESET_STEPS[search_cfg.preset] or size // batch
        if steps < 1:
            raise ValueError(f"split of {size} images is smaller than search.batch_size={batch}")
        return steps
    return resolve(search_cfg.inner_steps, size_a), resolve(search_cfg.worst_steps, size_b)


def arch_entropy(softmax):
    """Mean over edges of the entropy (nats) of each edge's softmax(alpha); log(#candidates) at initialisation."""
    rows = [row for w in softmax.values() for row in np.asarray(w, np.float64)]
    return float(np.mean([-np.sum(p * np.log(np.maximum(p, 1e-12))) for p in rows]))


def copy_variables(src, dst):
    """dst <- src for every variable (weights, BN statistics, spectral-norm vectors, alphas) of identical models."""
    if len(src.variables) != len(dst.variables):
        raise ValueError(f"cannot copy {src.name} into {dst.name}: different variable counts")
    for a, b in zip(src.variables, dst.variables):
        b.assign(a)


def reset_optimizer(optimizer, learning_rate):
    """Makes a built optimizer fresh (zero step count and moments) with a new learning rate, keeping its variables."""
    for v in optimizer.variables:
        v.assign(tf.zeros(v.shape, v.dtype))
    optimizer.learning_rate = learning_rate


class BatchStream:
    """Deterministic batches from one split: real images in [-1, 1] and two latent batches, keyed by round/phase."""

    def __init__(self, images, batch_size, latent_dim, seed, stream):
        if len(images) < batch_size:
            raise ValueError(f"split has {len(images)} images, fewer than search.batch_size={batch_size}")
        self.images = images
        self.batch_size = batch_size
        self.latent_dim = latent_dim
        self.seed = seed
        self.stream = stream

    def batches(self, round_index, phase, num_steps):
        """Yields `num_steps` (real [B,H,W,C], z [B,latent], z2 [B,latent]) float32 numpy batches.

        Images are drawn without replacement (consecutive slices of a per-pass permutation), so
        len(split) // batch_size steps are one pass over the split.
        """
        rng = np.random.default_rng([self.seed, self.stream, round_index, _PHASES[phase]])
        perm, pos = rng.permutation(len(self.images)), 0
        for _ in range(num_steps):
            if pos + self.batch_size > len(perm):
                perm, pos = rng.permutation(len(self.images)), 0
            idx = perm[pos:pos + self.batch_size]
            pos += self.batch_size
            real = self.images[idx].astype(np.float32) / 127.5 - 1.0
            z = rng.standard_normal((2, self.batch_size, self.latent_dim)).astype(np.float32)
            yield real, z[0], z[1]


class Searcher:
    """Builds the supernet, D, their worst-case copies and all optimizers (in `strategy.scope()`) and runs rounds.

    `images`: uint8 [N, H, W, C]. `run_eagerly=True` skips tf.function (tracing the supernet's steps costs ~30 s of
    CPU once, which only pays off over many steps; tests use eager steps).
    """

    def __init__(self, cfg, images, strategy=None, run_eagerly=False):
        self.cfg = cfg
        self.run_eagerly = run_eagerly
        s = cfg.search
        self.strategy = strategy or tf.distribute.get_strategy()
        replicas = self.strategy.num_replicas_in_sync
        if s.batch_size % replicas:
            raise ValueError(f"search.batch_size={s.batch_size} must be divisible by the {replicas} replicas")
        if cfg.data.conditional:
            raise ValueError("alphaGAN searches unconditional generators; set data.conditional=False")
        self.global_batch = s.batch_size
        idx_a, idx_b = split_indices(len(images), cfg.seed)
        self.stream_a = BatchStream(images[idx_a], s.batch_size, cfg.model.latent_dim, cfg.seed, 0)
        self.stream_b = BatchStream(images[idx_b], s.batch_size, cfg.model.latent_dim, cfg.seed, 1)
        self.inner_steps, self.worst_steps = steps_per_round(s, len(idx_a), len(idx_b))

        with self.strategy.scope():
            self.g = self._supernet()
            self.g_worst = self._supernet()
            self.d = build_discriminator(cfg, s.d_width)
            self.d_worst = build_discriminator(cfg, s.d_width)
            self.g_opt = self._adam(s.lr, "g_adam", self.g.weight_variables)
            self.d_opt = self._adam(s.lr, "d_adam", self.d.trainable_variables)
            self.g_worst_opt = self._adam(s.worst_lr, "g_worst_adam", self.g_worst.weight_variables)
            self.d_worst_opt = self._adam(s.worst_lr, "d_worst_adam", self.d_worst.trainable_variables)
            self.architect = Architect(self.g, s)
            self.round = tf.Variable(0, dtype=tf.int64, trainable=False, name="round")
            self.inner_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="inner_step")
        self.checkpointed = dict(  # what a round's checkpoint holds (the worst-case copies are fresh every round)
            supernet=self.g, discriminator=self.d, g_opt=self.g_opt, d_opt=self.d_opt,
            arch_opt=self.architect.optimizer, round=self.round, inner_step=self.inner_step)

        self._d_step = self._make_d_step(self.g, self.d, self.d_opt)
        self._g_step = self._make_g_step(self.g, self.d, self.g_opt)
        self._d_worst_step = self._make_d_step(self.g, self.d_worst, self.d_worst_opt)
        self._g_worst_step = self._make_g_step(self.g_worst, self.d, self.g_worst_opt)
        self._arch_step = self._make_arch_step()

    def _supernet(self):
        cfg = self.cfg
        with policy_scope(cfg.train.precision):
            return SupernetGenerator(cfg.model.latent_dim, cfg.data.resolution, cfg.data.channels,
                                     ch=cfg.search.ch, kernel_init=cfg.model.g.kernel_init,
                                     op_set=cfg.search.op_set, padding=cfg.search.padding).build_for_inputs()

    def _adam(self, lr, name, variables):
        s = self.cfg.search
        opt = keras.optimizers.Adam(learning_rate=lr, beta_1=s.beta1, beta_2=s.beta2, epsilon=1e-8, name=name)
        opt.build(variables)  # built in scope: a lazily built optimizer fails inside strategy.run
        return opt

    def _distribute(self, *arrays):
        """Per-replica slices of global host batches (plain tensors on one replica)."""
        if self.strategy.num_replicas_in_sync == 1:
            return tuple(tf.constant(a) for a in arrays)

        def slices(ctx):
            n, i = ctx.num_replicas_in_sync, ctx.replica_id_in_sync_group
            return tuple(tf.constant(a[i * len(a) // n:(i + 1) * len(a) // n]) for a in arrays)
        return self.strategy.experimental_distribute_values_from_function(slices)

    def _run(self, fn, args):
        """strategy.run and a SUM over replicas of the returned per-replica shares of global means."""
        out = self.strategy.run(fn, args=args)
        return tf.nest.map_structure(lambda t: self.strategy.reduce(tf.distribute.ReduceOp.SUM, t, axis=None), out)

    def _compile(self, fn):
        # No autograph: the step bodies have no tensor-dependent Python control flow to convert.
        return fn if self.run_eagerly else tf.function(fn, autograph=False)

    def _make_d_step(self, g, d, opt):
        gb = self.global_batch

        def replica(real, z):
            fake = g(z, training=True)
            with tf.GradientTape() as tape:
                per_example = hinge_d(d(real, training=True), d(fake, training=True))
                loss = tf.nn.compute_average_loss(per_example, global_batch_size=gb)
            opt.apply_gradients(zip(tape.gradient(loss, d.trainable_variables), d.trainable_variables))
            return loss
        return self._compile(lambda real, z: self._run(replica, (real, z)))

    def _make_g_step(self, g, d, opt):
        gb = self.global_batch

        def replica(z):
            variables = g.weight_variables
            with tf.GradientTape() as tape:
                loss = tf.nn.compute_average_loss(hinge_g(d(g(z, training=True), training=False)),
                                                  global_batch_size=gb)
            opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss
        return self._compile(lambda z: self._run(replica, (z,)))

    def _make_arch_step(self):
        gb = self.global_batch

        def replica(real, z, z_worst):
            return self.architect.step(self.d, self.g_worst, self.d_worst, real, z, z_worst, gb)
        return self._compile(lambda real, z, z_worst: self._run(replica, (real, z, z_worst)))

    def run_round(self, r):
        """Runs round `r` (0-based) and returns its record: DG statistics, softmax, entropy, genotype, seconds."""
        s = self.cfg.search
        start, cpu_start = time.time(), time.process_time()
        for real, z, z2 in self.stream_a.batches(r, "inner", self.inner_steps):
            real, z, z2 = self._distribute(real, z, z2)
            self._d_step(real, z)
            if int(self.inner_step.numpy()) % s.n_critic == 0:
                self._g_step(z2)
            self.inner_step.assign_add(1)

        with self.strategy.scope():
            copy_variables(self.g, self.g_worst)
            copy_variables(self.d, self.d_worst)
            lr = s.worst_lr * (0.5 if r >= s.worst_lr_halve_round else 1.0)
            reset_optimizer(self.g_worst_opt, lr)
            reset_optimizer(self.d_worst_opt, lr)
        for real, z, _ in self.stream_b.batches(r, "worst_d", self.worst_steps):
            self._d_worst_step(*self._distribute(real, z))
        for _, z, _ in self.stream_b.batches(r, "worst_g", self.worst_steps):
            self._g_worst_step(*self._distribute(z))

        terms = [[float(t) for t in self._arch_step(*self._distribute(real, z, z2))]
                 for real, z, z2 in self.stream_b.batches(r, "arch", s.arch_steps)]
        self.round.assign(r + 1)
        softmax = self.g.edge_softmax()
        dg, minmax, maxmin = (np.mean(terms, axis=0).tolist() if terms else [float("nan")] * 3)
        return dict(round=r, dg=dg, minmax=minmax, maxmin=maxmin, arch_entropy=arch_entropy(softmax),
                    worst_lr=lr, seconds=time.time() - start, cpu_seconds=time.process_time() - cpu_start,
                    softmax={k: v.tolist() for k, v in softmax.items()},
                    genotype=genotype_lib.derive(self.g).to_dict())

    def search(self, workdir):
        """Runs (or resumes) all rounds in <workdir>/search; returns the final genotype, history and timing."""
        s = self.cfg.search
        root = os.path.join(workdir, "search")
        # A foreign checkpoint is refused (CheckpointMismatchError), a corrupted latest one falls back to the previous.
        checkpointer = Checkpointer(os.path.join(root, "ckpt"), s.keep_checkpoints, **self.checkpointed)
        history_path = os.path.join(root, "history.json")
        history = []
        restored = checkpointer.restore_latest()
        if restored:
            if os.path.isfile(history_path):
                history = [h for h in read_json(history_path) if h["round"] < int(self.round.numpy())]
            logging.info("search: resumed from %s at round %d", restored, int(self.round.numpy()))
            apply_learning_rates({"search.lr (G)": (self.g_opt, s.lr), "search.lr (D)": (self.d_opt, s.lr),
                                  "search.arch_lr": (self.architect.optimizer, s.arch_lr)})
        writer = tf.summary.create_file_writer(os.path.join(root, "tb"))
        first = int(self.round.numpy())
        if first < s.rounds and not self.run_eagerly:
            # The first round is silent for a while: tracing and optimising the five step graphs (the G steps
            # ~27k ops each) took ~50 s on 2 CPU cores, whatever the image size.
            logging.info("search: round %d of %d starts by tracing its 5 step functions (about a minute on 2 CPU "
                         "cores, once per process)", first + 1, s.rounds)
        for r in range(first, s.rounds):
            record = self.run_round(r)
            history.append(record)
            genotype = genotype_lib.Genotype.from_dict(record["genotype"])
            genotype_lib.save(genotype, os.path.join(root, "genotypes", f"round_{r:03d}.json"))
            _write_summaries(writer, record)
            # History before the checkpoint: a kill between the two then reruns round r (its record is dropped on
            # resume as round >= the restored round); the other order would lose round r's record for good.
            write_json(history_path, history)
            checkpointer.save(r + 1)
            logging.info("search round %d/%d: DG %.4f = V(G,D_worst) %.4f - V(G_worst,D) %.4f, entropy %.6f, "
                         "%.1fs, genotype %s", r + 1, s.rounds, record["dg"], record["minmax"], record["maxmin"],
                         record["arch_entropy"], record["seconds"], json.dumps(record["genotype"]))
        writer.flush()
        final = genotype_lib.derive(self.g)
        genotype_path = os.path.join(root, "genotype.json")
        genotype_lib.save(final, genotype_path)
        return dict(genotype=final.to_dict(), genotype_path=genotype_path, rounds=s.rounds,
                    search_seconds=float(sum(h["seconds"] for h in history)),
                    # None when a round recorded no CPU time (rounds run by a version that did not measure it)
                    search_cpu_seconds=(float(sum(h["cpu_seconds"] for h in history))
                                        if all("cpu_seconds" in h for h in history) else None),
                    round_seconds=[h["seconds"] for h in history],
                    dg_history=[h["dg"] for h in history],
                    minmax_history=[h["minmax"] for h in history],
                    maxmin_history=[h["maxmin"] for h in history])


def _write_summaries(writer, record):
    step = record["round"] + 1
    with writer.as_default(step=step):
        for key in ("dg", "minmax", "maxmin", "arch_entropy", "seconds"):
            tf.summary.scalar(f"search/{key}", record[key])
        for tensor, rows in record["softmax"].items():
            for row, probs in enumerate(rows):
                candidates = ARCH_TENSORS[tensor][0]
                for op, p in zip(candidates, probs):
                    tf.summary.scalar(f"softmax/{tensor}/edge{row}/{op}", p)
        tf.summary.text("search/genotype", json.dumps(record["genotype"]))
