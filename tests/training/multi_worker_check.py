"""One worker of a 2-process MultiWorkerMirroredStrategy run on 127.0.0.1 (TF_CONFIG set by the test).

Trains a smoke config for 2 steps and prints a JSON line with a digest of every model weight.
"""

import hashlib
import json
import sys

import numpy as np

from tfgan_eff.config import presets
from tfgan_eff.training.loop import train_gan
from tfgan_eff.training.strategy import get_strategy


def main(workdir):
    strategy = get_strategy("multi_worker")
    cfg = presets.smoke(presets.baseline())
    cfg.train.update(steps=2, batch_size=4)
    cfg.eval.at_end = False
    cfg.export.enabled = False
    run, summary = train_gan(cfg, workdir, strategy)
    weights = [v.numpy() for v in run.generator.weights + run.discriminator.weights]
    digest = hashlib.sha256(b"".join(np.ascontiguousarray(w).tobytes() for w in weights)).hexdigest()
    print(json.dumps({"digest": digest, "steps": summary["steps"], "replicas": strategy.num_replicas_in_sync,
                      "checkpoint": summary["checkpoint"]}))


if __name__ == "__main__":
    main(sys.argv[1])
