"""`--method=search`: alphaGAN search (resumable) then retraining of the derived genotype, in one work dir.

<workdir>/search   supernet checkpoints, TensorBoard, history.json, genotypes/round_XXX.json, genotype.json
<workdir>/retrain  an ordinary `train_gan` run of model.g.arch="genotype" (checkpoints, eval, export)
With `cfg.retrain.genotype` set (a JSON path or a published name) the search is skipped.
"""

import copy
import os
import time

import keras
import tensorflow as tf
from absl import logging

from tfgan_eff.config import search_section
from tfgan_eff.search import genotype as genotype_lib
from tfgan_eff.training.workdir import write_json


def search(cfg, workdir, strategy=None):
    """Runs (or resumes) the search on `cfg.data` at search.resolution; returns the search summary (genotype, its
    path, DG history)."""
    from tfgan_eff.data.sources import load_images  # pylint: disable=import-outside-toplevel
    from tfgan_eff.search.searcher import Searcher  # pylint: disable=import-outside-toplevel

    cfg = search_section.search_config(cfg)
    images, _ = load_images(cfg.data)
    keras.utils.set_random_seed(cfg.seed)
    searcher = Searcher(cfg, images, strategy)
    return searcher.search(workdir)


def retrain_config(cfg, genotype_ref):
    """A copy of `cfg` that trains the genotype `genotype_ref` (path or published name) as a plain GAN run."""
    retrain = copy.deepcopy(cfg)
    with retrain.unlocked():
        retrain.method = "baseline"
        retrain.model.g.arch = "genotype"
        retrain.model.g.genotype = genotype_ref
        retrain.retrain.genotype = genotype_ref
        if cfg.retrain.steps:
            retrain.train.steps = cfg.retrain.steps
    return retrain


def run(cfg, workdir, strategy=None):
    """Search (unless cfg.retrain.genotype is set), then retrain the genotype; returns the summary dict."""
    from tfgan_eff.training.loop import train_gan  # pylint: disable=import-outside-toplevel

    strategy = strategy or tf.distribute.get_strategy()
    summary = dict(method="search", config=cfg.name, workdir=workdir, generator_workdir="retrain")
    if cfg.retrain.genotype:
        genotype_ref = cfg.retrain.genotype
        genotype_lib.resolve(genotype_ref)  # fail before any training on a bad path or JSON
        logging.info("search skipped: retraining genotype %s", genotype_ref)
    else:
        start = time.time()
        search_summary = search(cfg, workdir, strategy)
        search_summary["search_wall_s"] = round(time.time() - start, 2)
        summary["search"] = search_summary
        genotype_ref = search_summary["genotype_path"]
    summary["genotype"] = genotype_lib.resolve(genotype_ref).to_dict()
    summary["genotype_ref"] = genotype_ref
    _, summary["retrain"] = train_gan(retrain_config(cfg, genotype_ref), os.path.join(workdir, "retrain"), strategy)
    write_json(os.path.join(workdir, "summary.json"), summary)
    return summary
