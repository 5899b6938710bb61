"""The baseline's plan: one GAN run in the work dir itself."""

from tfgan_eff.training.experiment import Plan, SubRun


def plan(cfg, workdir):
    """One sub-run, trained, evaluated and exported in `workdir`."""
    del workdir  # the run's folder is the work dir itself
    return Plan(runs=[SubRun("", cfg)])
