"""`run(cfg, workdir)`: validates a config, locks the work dir and runs the configured method (what tests call)."""

from absl import logging

from tfgan_eff.config import registry
from tfgan_eff.config.validate import validate
from tfgan_eff.training.experiment import execute
from tfgan_eff.training.strategy import get_strategy, set_threads
from tfgan_eff.training.workdir import writing


def run(cfg, workdir, strategy=None):
    """Runs `cfg` in `workdir` (resuming whatever is there); returns the run's summary dict.

    The config and the strategy are checked before the work dir is touched; the work dir is locked while the run
    writes, and a write that fails for lack of space or permission ends as one WorkdirWriteError naming the step a
    rerun resumes from."""
    validate(cfg)
    method = registry.get(cfg.method)
    intra, inter = set_threads(cfg.train.intra_op_threads, cfg.train.inter_op_threads)
    strategy = strategy or get_strategy(cfg.train.strategy)
    with writing(workdir, resumes=True):
        logging.info("method %s, config %s, work dir %s, %d replica(s), CPU threads per op %s, ops at once %s",
                     cfg.method, cfg.name, workdir, strategy.num_replicas_in_sync, intra or "default",
                     inter or "default")
        return execute(method, cfg, workdir, strategy)
