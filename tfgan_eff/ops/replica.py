"""Variable updates that are valid in a replica context of any tf.distribute strategy (incl. the default one)."""

import tensorflow as tf


def _raw(variable):
    return getattr(variable, "value", variable) if not isinstance(variable, tf.Variable) else variable


def assign_synced(variables, values):
    """Assigns values to (mirrored) variables from inside `strategy.run`, where every replica holds the same values.

    Keras variables are created without a replica aggregation, so a plain assign in replica context is refused by
    MirroredVariable; this goes through merge_call and `extended.update`, as optimizers do.
    """
    variables = [_raw(v) for v in variables]
    ctx = tf.distribute.get_replica_context()

    def merge_fn(strategy, *vals):
        for var, val in zip(variables, vals):
            strategy.extended.update(var, lambda v, x: v.assign(x), args=(val,), group=False)

    if ctx is None:  # cross-replica context already
        for var, val in zip(variables, values):
            var.assign(val)
        return
    ctx.merge_call(merge_fn, args=tuple(values))


def all_finite(tensors):
    """True when every tensor is finite on every replica (the same answer on all replicas)."""
    local = tf.reduce_all([tf.reduce_all(tf.math.is_finite(t)) for t in tensors])
    ctx = tf.distribute.get_replica_context()
    bad = tf.cast(tf.logical_not(local), tf.float32)
    if ctx is not None and ctx.num_replicas_in_sync > 1:
        bad = ctx.all_reduce(tf.distribute.ReduceOp.SUM, bad)
    return bad == 0.0
