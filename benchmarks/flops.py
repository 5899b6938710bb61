"""FLOPs of one GAN training step from the forward FLOPs of its networks (the approximation every row states).

APPROXIMATION: a pass whose output is differentiated costs 3x its forward FLOPs (forward + backward, the
backward ~ 2x the forward); a pass that is not differentiated (G's forward inside a D step, a frozen net in
inference) costs 1x. Spectral-norm power iterations, optimizer updates, EMA and other element-wise work are left
out, so the fraction of peak reported is a slight under-estimate. Forward FLOPs come from
`tfgan_eff.models.flops.count_flops` at batch 1 (2 FLOPs per multiply-add) and scale linearly with the batch.
"""

APPROXIMATION = ("FLOPs/step = sum over passes of (batch x batch-1 forward FLOPs x 3 if the pass is "
                 "differentiated, x 1 if not); optimizer, EMA and spectral-norm work ignored")


def gan_step_flops(g_flops, d_flops, batch, g_batch, n_critic, teacher_d_flops=0):
    """FLOPs of one GANTrainer step: n_critic D steps + one G step (+ a DGL teacher D pass in the G step).

    D step: G forward on `batch` z (1x, only D is differentiated), D on `batch` real + `batch` fake (3x).
    G step: G and D on `g_batch` (3x each: the loss is differentiated through D into G), and a frozen teacher D
    on the same fakes, differentiated into G (3x).
    """
    d_step = g_flops * batch + 3 * d_flops * 2 * batch
    g_step = 3 * (g_flops + d_flops + teacher_d_flops) * g_batch
    return n_critic * d_step + g_step


def search_d_plus_g_flops(g_flops, d_flops, batch):
    """FLOPs of one searcher D step + one G step at `batch`: as a GANTrainer step with n_critic = 1."""
    return gan_step_flops(g_flops, d_flops, batch, batch, 1)


def search_step_flops(g_flops, d_flops, batch):
    """FLOPs of one searcher D step + G step + architecture step at `batch`. The architecture step differentiates
    V(G, D_worst) = D_worst on `batch` real (1x) and on G(z) (3x each for G and D_worst) and evaluates
    V(G_worst, D) (1x for G_worst, for D on real and on fake)."""
    arch_step = 3 * g_flops * batch + d_flops * batch + 3 * d_flops * batch + g_flops * batch + 2 * d_flops * batch
    return search_d_plus_g_flops(g_flops, d_flops, batch) + arch_step


def fraction_of_peak(flops_per_step, seconds_per_step, peak_gflops):
    """(achieved GFLOP/s, achieved / peak) for a step; (None, None) when any input is missing.

    With CPU seconds per step and a peak in GFLOP per CPU-second this is the efficiency of the busy cores,
    which other processes on a shared machine barely change; with wall seconds and GFLOP/s it is the usual figure.
    """
    if not flops_per_step or not seconds_per_step or not peak_gflops:
        return None, None
    achieved = flops_per_step / seconds_per_step / 1e9
    return achieved, achieved / peak_gflops


# The op types whose FLOPs `conv_matmul_flops` counts: what torch.utils.flop_counter counts on the PyTorch side.
CONV_MATMUL_OPS = ("Conv2D", "DepthwiseConv2dNative", "Conv2DBackpropInput", "MatMul")


def conv_matmul_flops(model, input_specs):
    """FLOPs of the convolutions and matmuls alone (2 x multiply-adds, by TF's registered statistics) of one inference
    call of a Keras model on fully known `input_specs` (batch 1), to set against a PyTorch peer's count."""
    import tensorflow as tf
    from tensorflow.python.framework import ops as tf_ops

    graph = tf.function(lambda *inputs: model(*inputs, training=False)).get_concrete_function(*input_specs).graph
    return sum(tf_ops.get_stats_for_node_def(graph, op.node_def, "flops").value or 0
               for op in graph.get_operations() if op.type in CONV_MATMUL_OPS)
