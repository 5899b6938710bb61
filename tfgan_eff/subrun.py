"""One sub-run of a method's plan in a process of its own: what the executor starts for each sub-run it runs at
once with others (train.jobs > 1, `experiment.run_parallel`).

`python -m tfgan_eff.subrun WORKDIR NAME THREADS` rebuilds the plan from the resolved config the executor
wrote to WORKDIR (`experiment.SUBRUN_CONFIG`) and runs (or resumes) sub-run NAME there, on THREADS TF threads where
the config leaves TF's default. The executor holds the work dir's lock for it.
"""

import os

from absl import app, logging

from tfgan_eff import cli
from tfgan_eff.config import registry
from tfgan_eff.config.schema import config_from_json
from tfgan_eff.files import read_json
from tfgan_eff.training.experiment import SUBRUN_CONFIG, run_sub
from tfgan_eff.training.strategy import get_strategy, set_threads


def main(argv):
    if len(argv) != 4:
        raise app.UsageError("usage: python -m tfgan_eff.subrun WORKDIR NAME THREADS")
    workdir, name, threads = argv[1], argv[2], int(argv[3])
    logging.set_verbosity(logging.INFO)
    config_path = os.path.join(workdir, SUBRUN_CONFIG)
    if not os.path.isfile(config_path):
        raise app.UsageError(f"{config_path} not found: this module runs the sub-runs that `python -m tfgan_eff.train "
                             "--config.train.jobs=N` prepares in its work dir; run that command instead")
    with cli.user_errors():
        cfg = config_from_json(read_json(config_path))
        set_threads(cfg.train.intra_op_threads or threads, cfg.train.inter_op_threads or threads)
        runs = {sub.name: sub for sub in registry.get(cfg.method).plan(cfg, workdir).runs}
        if name not in runs:
            raise app.UsageError(f"the {cfg.method} plan in {workdir} has no sub-run {name!r}; it has {list(runs)}")
        run_sub(runs[name], workdir, get_strategy(cfg.train.strategy))


if __name__ == "__main__":
    app.run(main)
