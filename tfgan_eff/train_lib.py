"""`run(cfg, workdir)`: validates a config, locks the work dir and runs the configured method (what tests call)."""

import importlib

from absl import logging

from tfgan_eff.config.validate import validate
from tfgan_eff.training.loop import train_gan
from tfgan_eff.training.strategy import get_strategy
from tfgan_eff.training.workdir import WorkdirLock

# Each method's runner: module path and function name; imported only when that method runs.
RUNNERS = {
    "dgl": ("tfgan_eff.distill.pipeline", "run"),
    "sparse": ("tfgan_eff.sparse.runner", "run"),
    "search": ("tfgan_eff.search.runner", "run"),
}


class MethodNotAvailableError(NotImplementedError):
    """The method's implementation is not installed in this version."""


def _runner(method):
    if method == "baseline":
        return lambda cfg, workdir, strategy: train_gan(cfg, workdir, strategy)[1]
    module_name, fn_name = RUNNERS[method]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name != module_name:
            raise
        raise MethodNotAvailableError(f"--method={method} is not built in this version of tfgan_eff "
                                      f"({module_name} is missing)") from err
    return getattr(module, fn_name)


def run(cfg, workdir, strategy=None):
    """Runs `cfg` in `workdir` (resuming whatever is there); returns the run's summary dict."""
    validate(cfg)
    runner = _runner(cfg.method)
    with WorkdirLock(workdir):
        strategy = strategy or get_strategy(cfg.train.strategy)
        logging.info("method %s, config %s, work dir %s, %d replica(s)", cfg.method, cfg.name, workdir,
                     strategy.num_replicas_in_sync)
        return runner(cfg, workdir, strategy)
