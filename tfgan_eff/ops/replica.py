"""Variable writes and reductions that work the same in eager code, in a tf.function and inside `strategy.run`.

Two ways to write a mirrored variable from replica context:
- `assign_synced` goes through `merge_call` and `extended.update`, as optimizers do (one write, a sync point).
- `assign_values` lets each replica write its own copy. Callers make the values agree on every replica (same masks,
  same all-reduced scores, deterministic ops). With no merge_call there is no sync point, so it also works under
  tensor-dependent control flow (`tf.cond`, autograph `if step % n == 0`) inside `strategy.run`, which merge_call
  does not allow; TF writes the local copy of variables with aggregation "none" (the Keras default).
"""

import keras
import tensorflow as tf


def _tf_variable(variable):
    """The tf.Variable behind a Keras variable (or the variable itself)."""
    return variable.value if isinstance(variable, keras.Variable) else variable


def variable_strategy(variable):
    """The distribution strategy a (keras) variable was created under, or None for a plain variable."""
    return getattr(_tf_variable(variable), "distribute_strategy", None)


def assign_synced(variables, values):
    """Assigns values to (mirrored) variables from inside `strategy.run`, where every replica holds the same values.

    Keras variables are created without a replica aggregation, so a plain assign in replica context is refused by
    MirroredVariable; this goes through merge_call and `extended.update`, as optimizers do.
    """
    variables = [_tf_variable(v) for v in variables]
    ctx = tf.distribute.get_replica_context()

    def merge_fn(strategy, *vals):
        for var, val in zip(variables, vals):
            strategy.extended.update(var, lambda v, x: v.assign(x), args=(val,), group=False)

    if ctx is None:  # cross-replica context already
        for var, val in zip(variables, values):
            var.assign(val)
        return
    ctx.merge_call(merge_fn, args=tuple(values))


def assign_values(variables, values):
    """Assigns values[i] to variables[i], each replica its own copy (see the module docstring).

    Outside `strategy.run` (eager code, in or out of `strategy.scope()`) the one value is written to every copy.
    """
    if len(variables) != len(values):
        raise ValueError(f"got {len(variables)} variables but {len(values)} values")
    for variable, value in zip(variables, values):
        variable = _tf_variable(variable)
        variable.assign(tf.cast(value, variable.dtype))


def sum_over_replicas(tensors):
    """Sums a list of tensors over replicas when called inside `strategy.run`; returns them unchanged otherwise.

    Under MirroredStrategy on CPU the all-reduce is a merge_call, so it must not sit under tensor-dependent control
    flow inside `strategy.run`.
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return list(tensors)
    return context.all_reduce(tf.distribute.ReduceOp.SUM, list(tensors))


def all_finite(tensors):
    """True when every tensor is finite on every replica (the same answer on all replicas)."""
    local = tf.reduce_all([tf.reduce_all(tf.math.is_finite(t)) for t in tensors])
    ctx = tf.distribute.get_replica_context()
    bad = tf.cast(tf.logical_not(local), tf.float32)
    if ctx is not None and ctx.num_replicas_in_sync > 1:
        bad = ctx.all_reduce(tf.distribute.ReduceOp.SUM, bad)
    return bad == 0.0
