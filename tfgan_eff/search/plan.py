"""alphaGAN's sub-runs: the search (resumable) then the retraining of the derived genotype, run by
training.experiment.

<workdir>/search   supernet checkpoints, TensorBoard, history.json, genotypes/round_XXX.json, genotype.json
<workdir>/retrain  an ordinary GAN run of model.g.arch="genotype" (checkpoints, eval, export)
With `cfg.retrain.genotype` set (a JSON path or a published name) the search is skipped.
"""

import os

import keras
from absl import logging

from tfgan_eff.search import genotype as genotype_lib
from tfgan_eff.search.method import search_config
from tfgan_eff.search.searcher import Searcher
from tfgan_eff.training.experiment import Plan, SubRun, SubRunResult, sub_config


def search_step(cfg, path, strategy, data):
    """The search sub-run: runs (or resumes) the rounds on cfg.data at search.resolution in `path`; its result has
    no generator and the search summary (genotype, its path, DG history)."""
    cfg = search_config(cfg)
    images, _ = data.load(cfg)
    keras.utils.set_random_seed(cfg.seed)
    summary = Searcher(cfg, images, strategy).search(os.path.dirname(path))  # it writes <workdir>/search
    # The executor adds the sub-run's wall_time_s.
    return SubRunResult(generator=None, summary=dict(summary, steps=cfg.search.rounds))


def retrain_config(cfg, genotype_ref):
    """The retrain sub-run's config: trains the genotype `genotype_ref` (path or published name) as a plain GAN run."""
    changes = {"method": "baseline", "model.g.arch": "genotype", "model.g.genotype": genotype_ref,
               "retrain.genotype": genotype_ref}
    if cfg.retrain.steps:
        changes["train.steps"] = cfg.retrain.steps
    return sub_config(cfg, "retrain", changes)


def plan(cfg, workdir):
    """The search (unless cfg.retrain.genotype is set) and the retraining of its genotype, and their summary."""
    runs = []
    if cfg.retrain.genotype:
        genotype_ref = cfg.retrain.genotype
        genotype_lib.resolve(genotype_ref)  # fail before any training on a bad path or JSON
        logging.info("search skipped: retraining genotype %s", genotype_ref)
    else:
        genotype_ref = os.path.join(workdir, "search", "genotype.json")
        runs.append(SubRun("search", cfg, step=search_step, steps=cfg.search.rounds, evaluate=False, export=False))
    runs.append(SubRun("retrain", retrain_config(cfg, genotype_ref)))

    def summarize(results):
        summary = dict(genotype=genotype_lib.resolve(genotype_ref).to_dict(), genotype_ref=genotype_ref,
                       retrain=results["retrain"])
        if "search" in results:
            summary["search"] = results["search"]
        return summary

    return Plan(runs=runs, main_run="retrain", summarize=summarize)
