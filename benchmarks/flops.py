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


def fraction_of_peak(flops_per_step, seconds_per_step, peak_gflops):
    """(achieved GFLOP/s, achieved / peak) for a step; (None, None) when any input is missing.

    With CPU seconds per step and a peak in GFLOP per CPU-second this is the efficiency of the busy cores,
    which other processes on a shared machine barely change; with wall seconds and GFLOP/s it is the usual figure.
    """
    if not flops_per_step or not seconds_per_step or not peak_gflops:
        return None, None
    achieved = flops_per_step / seconds_per_step / 1e9
    return achieved, achieved / peak_gflops
