"""Variable writes and reductions that work the same in eager code, in a tf.function and inside `strategy.run`.

The sparse updates compute identical values on every replica (same masks, same all-reduced scores, deterministic
ops), so each replica can write its own copy of a mirrored variable without a cross-replica merge: for variables
with aggregation "none" (the Keras default, used for kernels, optimizer moments and masks) TF writes the local copy
in replica context. No `merge_call` means no sync point, so these writes also work under tensor-dependent control
flow (`tf.cond`, autograph `if step % n == 0`) inside `strategy.run`, which a merge_call does not allow.
"""

import keras
import tensorflow as tf


def _tf_variable(variable):
    return variable.value if isinstance(variable, keras.Variable) else variable


def variable_strategy(variable):
    """The distribution strategy a (keras) variable was created under, or None for a plain variable."""
    return getattr(_tf_variable(variable), "distribute_strategy", None)


def assign_values(variables, values):
    """Assigns values[i] to variables[i].

    Inside `strategy.run` each replica writes its own value into its own copy (callers make the values agree);
    outside it (eager code, in or out of `strategy.scope()`) the one value is written to every copy.
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
