"""alphaGAN's sub-runs: the search (resumable) then the retraining of the derived genotype, run by
training.experiment.

<workdir>/search   supernet checkpoints, TensorBoard, history.json, genotypes/round_XXX.json, genotype.json
<workdir>/retrain  an ordinary GAN run of model.g.arch="genotype" (checkpoints, eval, export)
<workdir>/random_<i>, sngan   with retrain.baselines: random genotypes of the same space (genotype.json in each)
                   and a hand-designed G of the derived G's size, retrained like it (search/baselines.py)
With `cfg.retrain.genotype` set (a JSON path or a published name) the search is skipped.
"""

import os

import keras
from absl import logging

from tfgan_eff.lists import comma_list
from tfgan_eff.search import baselines as baselines_lib
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
    # The executor adds the sub-run's wall_time_s; the rounds' own times (summed over resumes) are in the summary.
    return SubRunResult(generator=None, summary=dict(summary, steps=cfg.search.rounds))


def retrain_config(cfg, genotype_ref, name="retrain", arch="genotype"):
    """The config of the sub-run `name` that retrains a G as a plain GAN run with the retraining's steps: the genotype
    `genotype_ref` (path or published name), or with arch="sngan" an SNGAN-ResNet G (its width set later)."""
    changes = {"method": "baseline", "model.g.arch": arch, "model.g.genotype": genotype_ref,
               "retrain.genotype": genotype_ref}
    if arch != "genotype":
        changes.update({"model.g.genotype": "", "model.g.width": 1.0})
    if cfg.retrain.steps:
        changes["train.steps"] = cfg.retrain.steps
    return sub_config(cfg, name, changes)


def baseline_runs(cfg, workdir, derived, genotype_after):
    """The retrain.baselines sub-runs: random genotypes (no search needed; the plan's `prepare` writes them) and the
    SNGAN G sized like the G that the `derived` config builds, which is known once
    `genotype_after` (sub-run names) have finished."""
    wanted, runs = comma_list(cfg.retrain.baselines), []
    if "random" in wanted:
        runs += [SubRun(f"random_{i}", retrain_config(cfg, baselines_lib.random_genotype_path(workdir, i),
                                                      f"random_{i}"), after=())
                 for i in range(cfg.retrain.random_genotypes)]
    if "sngan" in wanted:
        runs.append(SubRun("sngan", retrain_config(cfg, "", "sngan", arch="sngan"), after=genotype_after,
                           configure=baselines_lib.size_matched_sngan(derived)))
    return runs


def plan(cfg, workdir):
    """The search (unless cfg.retrain.genotype is set), the retraining of its genotype and the retrain.baselines,
    and their summary (with a table when there are baselines)."""
    runs = []
    if cfg.retrain.genotype:
        genotype_ref = cfg.retrain.genotype
        genotype_lib.resolve(genotype_ref)  # fail before any training on a bad path or JSON
        logging.info("search skipped: retraining genotype %s", genotype_ref)
    else:
        genotype_ref = os.path.join(workdir, "search", "genotype.json")
        runs.append(SubRun("search", cfg, step=search_step, steps=cfg.search.rounds, evaluate=False, export=False))
    derived = retrain_config(cfg, genotype_ref)
    baselines = baseline_runs(cfg, workdir, derived, tuple(run.name for run in runs))
    runs += [SubRun("retrain", derived), *baselines]

    def summarize(results):
        return dict(results, genotype=genotype_lib.resolve(genotype_ref).to_dict(), genotype_ref=genotype_ref)

    def table(results):
        """One row per retrained G: the derived one and the baselines."""
        return [dict(run="derived" if name == "retrain" else name, fid=summary.get("metrics", {}).get("fid"),
                     g_params=summary.get("params", {}).get("generator"))
                for name, summary in results.items() if name != "search"]

    random_paths = [run.cfg.model.g.genotype for run in baselines if run.cfg.model.g.arch == "genotype"]

    def prepare(strategy):
        """Writes the random genotypes (the same ones for a seed) before anything trains."""
        del strategy
        for i, path in enumerate(random_paths):
            baselines_lib.write_random_genotype(cfg, i, path)

    return Plan(runs=runs, main_run="retrain", summarize=summarize, prepare=prepare,
                table=table if baselines else None,
                title=f"alphaGAN: the derived G and its baselines ({derived.train.steps} G steps each)")
