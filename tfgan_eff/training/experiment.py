"""The experiment executor: runs a method's plan of sub-runs in one work dir, whatever the method.

A method describes its work as a `Plan` of `SubRun`s (each an ordinary resumable GAN run in `<workdir>/<name>`, or a
custom step such as alphaGAN's search). The executor, for every method alike:
- refuses a work dir that holds another method's or config's run;
- loads the training images once and counts the classes of conditional data before the plan copies the config;
- computes the reference statistics once, in `<workdir>/ref_stats.npz`, for every sub-run it evaluates;
- runs the plan's `prepare` check before any sub-run trains;
- skips sub-runs that finished earlier (their summary.json reports the final step and, where asked, metrics and an
  export), so re-running a finished command is nearly free and a killed one resumes where it stopped;
- trains (or runs the custom step of) each sub-run, which yields one `SubRunResult`, then evaluates and exports
  that result's generator (and with eval.curve measures the FID at each kept checkpoint, fid_curve.py), writing
  `<sub-run>/summary.json`; with train.jobs > 1, independent sub-runs (`after`) run
  at once, each in a process of its own pinned to its share of the cores (`run_parallel`);
- prints the method's table and writes `<workdir>/summary.json`.
"""

import dataclasses
import functools
import os
import sys
import time
from typing import Any, Callable, Optional

from absl import logging

from tfgan_eff.errors import UserError
from tfgan_eff.data import sources
from tfgan_eff.export.pipeline import ExportSettings, export_generator
from tfgan_eff.files import read_json, write_json
from tfgan_eff.lists import comma_list
from tfgan_eff.training import evaluator, scheduler
from tfgan_eff.training.fid_curve import fid_curve
from tfgan_eff.training.loop import train_gan
from tfgan_eff.training.workdir import CLAIM_FILE


class WorkdirMismatchError(UserError, ValueError):
    """The work dir holds a run of another method or config."""


class SubRunSelectionError(UserError, ValueError):
    """train.subruns names a sub-run the plan does not have, or one whose starting point has not finished."""


class SubRunFailedError(UserError, RuntimeError):
    """A sub-run run in a process of its own (train.jobs > 1) failed; its log says why."""


# The resolved config the executor hands the processes of its sub-runs (train.jobs > 1), in the work dir.
SUBRUN_CONFIG = "subrun_config.json"


@dataclasses.dataclass(frozen=True)
class SubRunResult:
    """What every sub-run hands the executor.

    Attributes:
      generator: the generator to evaluate and export (the EMA copy of a trained run), or None for work that yields
        none (e.g. the architecture search); a sub-run that evaluates or exports must yield one.
      summary: its summary fields (`steps` at least).
      trainer: the trainer that trained it (None for a custom step): reports and exporters read masks etc. from it.
    """
    generator: Any
    summary: dict
    trainer: object = None


@dataclasses.dataclass(frozen=True)
class SubRun:
    """One unit of a method's work, in `<workdir>/<name>` ("" = the work dir itself).

    Attributes:
      name: the sub-run's folder and its key in the summary's `runs`.
      cfg: its full run config.
      trainer_factory: fn(generator, discriminator, train_cfg, ema_generator=, diffaug=) -> a GANTrainer (None:
        GANTrainer).
      init_from: the sub-run whose last checkpoint starts this one (G, D, EMA and step; fresh optimizers).
      callbacks: fns(run) -> keras callback, added to training.
      evaluate: evaluate the result's generator at the end (when cfg.eval.at_end).
      export: export it (when cfg.export.enabled).
      exporter: fn(result, path, cfg) -> export summary fields, instead of the plain export.
      report: fn(result, path) -> summary fields added after training (e.g. mask statistics).
      step: fn(cfg, path, strategy, data) -> SubRunResult: a sub-run that is not a GAN training (`data` is the
        executor's DataCache).
      steps: the `steps` its finished summary reports (default cfg.train.steps).
      after: the sub-runs that must finish before it starts (besides `init_from`); None = every sub-run before it
        in the plan. Only sub-runs that need none of each other's results run at once (train.jobs > 1).
      configure: fn(cfg) -> cfg applied when it starts, for a config that depends on what its `after` sub-runs
        made (e.g. a G sized like a searched one); it must keep the step count.
    """
    name: str
    cfg: Any  # a locked ml_collections.ConfigDict
    trainer_factory: Optional[Callable] = None
    init_from: str = ""
    callbacks: tuple = ()
    evaluate: bool = True
    export: bool = True
    exporter: Optional[Callable] = None
    report: Optional[Callable] = None
    step: Optional[Callable] = None
    steps: Optional[int] = None
    after: Optional[tuple] = None
    configure: Optional[Callable] = None

    @property
    def final_steps(self):
        """The step count a finished run of this sub-run reports."""
        return self.cfg.train.steps if self.steps is None else self.steps

    @property
    def evaluates(self):
        return self.evaluate and self.cfg.eval.at_end

    @property
    def exports(self):
        return self.export and self.cfg.export.enabled

    @property
    def curves(self):
        """Whether its FID curve is measured after training (eval.curve; GAN training sub-runs only)."""
        return self.step is None and self.cfg.eval.curve


@dataclasses.dataclass(frozen=True)
class Plan:
    """A method's sub-runs (in training order) and how their results become the summary.

    Attributes:
      runs: the SubRuns.
      main_run: the sub-run whose generator the method delivers (summary's `generator_workdir`, what inference,
        evaluate and export load).
      table: fn({name: summary}) -> the rows (dicts) of the comparison table.
      summarize: fn({name: summary}) -> extra summary fields (e.g. costs of teacher and student).
      title: the line printed above the table.
      note: a line printed under the table and saved in the summary.
      prepare: fn(strategy) run before any sub-run trains, to refuse bad inputs early (e.g. load and check an
        external teacher).
    """
    runs: list
    main_run: str = ""
    table: Optional[Callable] = None
    summarize: Optional[Callable] = None
    prepare: Optional[Callable] = None
    title: str = ""
    note: str = ""


def sub_config(cfg, name, changes=None):
    """A copy of `cfg` for the sub-run `name`: named `<cfg.name>/<name>`, with `changes` ({"section.key": value})
    applied; a key the config does not have is a KeyError, locked or not."""
    sub = cfg.copy_and_resolve_references()
    sub.name = f"{cfg.name}/{name}"
    for key, value in (changes or {}).items():
        *parents, leaf = key.split(".")
        target = sub
        for part in parents:
            target = target[part]
        if leaf not in target:
            raise KeyError(f"sub-run {name!r}: the config has no key {key!r}")
        target[leaf] = value
    return sub


def format_table(rows):
    """Rows (dicts) as a fixed-width text table with the union of their columns."""
    columns = list(dict.fromkeys(key for row in rows for key in row))

    def cell(value):
        if isinstance(value, float):
            return f"{value:.4g}"
        return "-" if value is None else str(value)

    cells = [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)


def claim_workdir(cfg, workdir):
    """Records that `workdir` belongs to cfg's method and config name; refuses one that holds another's run."""
    owner = dict(method=cfg.method, config=cfg.name)
    marker = os.path.join(workdir, CLAIM_FILE)
    for path, keys in ((marker, ("method", "config")), (os.path.join(workdir, "summary.json"), ("method", "config")),
                       (os.path.join(workdir, "config.json"), ("method", "name"))):
        if os.path.isfile(path):
            found = read_json(path)
            theirs = dict(method=found.get(keys[0]), config=found.get(keys[1]))
            if theirs != owner:
                raise WorkdirMismatchError(
                    f"work dir {workdir} holds a {theirs['method']} run of config {theirs['config']!r}, not "
                    f"{owner['method']} / {owner['config']!r}: pass another --workdir (nothing was changed)")
            break
    write_json(marker, owner)


def _sub_path(workdir, sub):
    return os.path.join(workdir, sub.name) if sub.name else workdir


def _finished(path, sub):
    """The summary of `sub` in `path` when it already finished (final step, metrics and export as asked)."""
    summary_path = os.path.join(path, "summary.json")
    if not os.path.isfile(summary_path):
        return None
    summary = read_json(summary_path)
    if summary.get("steps") != sub.final_steps or (sub.evaluates and "metrics" not in summary) or \
            (sub.exports and "export" not in summary):
        return None
    return summary


def generator_source(summary):
    """What a sub-run's generator holds ({"step", "checkpoint"}), recorded in its eval.json and export report."""
    return dict(step=summary.get("steps"), checkpoint=summary.get("checkpoint"))


def _default_export(result, path, cfg):
    settings = ExportSettings(modes=comma_list(cfg.export.modes), seed=cfg.seed)
    report = export_generator(result.generator, os.path.join(path, "export"), settings,
                              source=generator_source(result.summary))
    return {"export": os.path.join(path, "export", "report.json"),
            "tflite_bytes": {k: v.get("size_bytes") for k, v in report.get("artifacts", {}).items()
                             if isinstance(v, dict)}}


class DataCache:
    """Training images and labels per data config, loaded once for every sub-run that uses them."""

    def __init__(self):
        self._cache = {}

    def load(self, cfg):
        """(images, labels) of cfg.data."""
        key = tuple(sorted((k, v) for k, v in cfg.data.items() if k != "num_classes"))
        if key not in self._cache:
            self._cache[key] = sources.load_images(cfg.data)
        return self._cache[key]


def _train(sub, path, workdir, strategy, data):
    """A GAN training sub-run as a SubRunResult."""
    init_from = os.path.join(workdir, sub.init_from, "checkpoints") if sub.init_from else ""
    run, summary = train_gan(sub.cfg, path, strategy, trainer_factory=sub.trainer_factory, init_from=init_from,
                             extra_callbacks=sub.callbacks, data=data.load(sub.cfg))
    return SubRunResult(generator=run.sampling_generator, summary=summary, trainer=run.trainer)


def _add_curve(sub, path, summary, data):
    """`summary` with the sub-run's FID curve (fid_curve.py) when eval.curve asks for one, written back."""
    if sub.curves and "fid_curve" not in summary:
        summary = dict(summary, fid_curve=fid_curve(sub.cfg, path, data.load(sub.cfg)[0]))
        write_json(os.path.join(path, "summary.json"), summary)
    return summary


def run_sub(sub, workdir, strategy, data=None):
    """Runs (or resumes, or reads back when finished) one sub-run; returns its summary."""
    path = _sub_path(workdir, sub)
    data = data or DataCache()
    summary = _finished(path, sub)
    if summary is not None:
        logging.info("%s: finished earlier (step %d), not run again", path, summary["steps"])
        return _add_curve(sub, path, summary, data)
    t0 = time.time()
    if sub.configure is not None:
        sub = dataclasses.replace(sub, cfg=sub.configure(sub.cfg))
    result = sub.step(sub.cfg, path, strategy, data) if sub.step is not None else \
        _train(sub, path, workdir, strategy, data)
    if result.generator is None and (sub.evaluates or sub.exports):
        raise ValueError(f"sub-run {sub.name!r} yields no generator but is set to evaluate or export")
    summary = dict(result.summary)
    if sub.report is not None:
        summary.update(sub.report(result, path))
    if sub.evaluates:
        summary["metrics"] = evaluator.evaluate_run(sub.cfg, result.generator, data.load(sub.cfg)[0], path,
                                                    source=generator_source(summary))
    if sub.exports:
        summary.update((sub.exporter or _default_export)(result, path, sub.cfg))
    for key in ("wall_time_s", "cpu_time_s"):  # the training loop's own time (over resumes), a part of the sub-run's
        if key in summary:
            summary[f"train_{key}"] = summary.pop(key)
    summary["wall_time_s"] = round(time.time() - t0, 2)  # training, evaluation and export
    write_json(os.path.join(path, "summary.json"), summary)
    return _add_curve(sub, path, summary, data)


def resolve_config(cfg, workdir, data):
    """A copy of `cfg` that every sub-run can copy as it is: data.num_classes of conditional data counted from the
    labels, and eval.ref_stats pointing at <workdir>/ref_stats.npz (computed here once) when the run evaluates
    and names no reference statistics."""
    cfg = cfg.copy_and_resolve_references()
    images, labels = data.load(cfg)
    with cfg.unlocked():
        if cfg.data.conditional:
            cfg.data.num_classes = int(labels.max()) + 1
        if (cfg.eval.at_end or cfg.eval.curve) and not cfg.eval.ref_stats:
            evaluator.reference_stats(cfg, evaluator.build_extractor(cfg), images, workdir)
            cfg.eval.ref_stats = os.path.join(os.path.abspath(workdir), "ref_stats.npz")
    return cfg


def _needs(sub):
    """The sub-runs `sub` declares it starts after: its `after` (when given) and `init_from`."""
    return tuple(dict.fromkeys((*(sub.after or ()), *((sub.init_from,) if sub.init_from else ()))))


def dependencies(plan):
    """{sub-run name: the names of the sub-runs it waits for}: `_needs`, or every earlier sub-run where the plan
    leaves `after` unset."""
    deps, earlier = {}, []
    for sub in plan.runs:
        deps[sub.name] = tuple(earlier) if sub.after is None else _needs(sub)
        earlier.append(sub.name)
    return deps


def _ran_earlier(workdir, sub):
    return _finished(_sub_path(workdir, sub), sub) is not None


def _independent_pair(deps, names):
    """Whether two of `names` need neither the other (transitively through `deps`)."""
    up = {name: scheduler.with_dependencies(deps, [name]) for name in names}
    return any(a not in up[b] and b not in up[a] for i, a in enumerate(names) for b in names[i + 1:])


def run_parallel(plan, selected, cfg, workdir):
    """Trains the selected sub-runs that have not finished cfg.train.jobs at a time, each in a process of its own
    (`python -m tfgan_eff.subrun`) pinned to its share of the cores (and its own GPU where there are
    several), in the order of `dependencies`; logs in <workdir>/logs/. Does nothing when no two of them are
    independent (they run in this process). A sub-run that fails is a SubRunFailedError naming its log."""
    deps = dependencies(plan)
    todo = [sub for sub in plan.runs if sub.name in selected and not _ran_earlier(workdir, sub)]
    names = [sub.name for sub in todo]
    if not _independent_pair(deps, names):
        return
    write_json(os.path.join(workdir, SUBRUN_CONFIG), cfg.to_dict())
    cores = scheduler.available_cores()
    threads = max(1, len(cores) // cfg.train.jobs)
    jobs = [scheduler.Job(sub.name, [sys.executable, "-m", "tfgan_eff.subrun", workdir, sub.name,
                                     str(threads)],
                          functools.partial(_ran_earlier, workdir, sub), tuple(d for d in deps[sub.name] if d in names))
            for sub in todo]
    logging.info("%s: sub-runs %s, %d at a time, %d thread(s) each; their output goes to %s", cfg.method, names,
                 cfg.train.jobs, threads, os.path.join(workdir, "logs"))
    status = scheduler.run_jobs(jobs, cfg.train.jobs, log_dir=os.path.join(workdir, "logs"), cores=cores,
                                gpus=scheduler.gpu_ids(), report=lambda line: logging.info("%s", line))
    failed = {name: state for name, state in status.items() if state not in scheduler.FINISHED}
    if failed:
        raise SubRunFailedError("; ".join(f"sub-run {name!r} {state}" for name, state in failed.items()) +
                                ". Everything finished is kept: fix the cause and rerun the same command")


def _selected(plan, cfg, workdir):
    """The names of the sub-runs that train.subruns asks for (all when empty), checked against the plan and the
    order its sub-runs start from each other."""
    wanted = comma_list(cfg.train.subruns)
    runs = {sub.name: sub for sub in plan.runs}
    unknown = [name for name in wanted if name not in runs]
    if unknown:
        raise SubRunSelectionError(f"train.subruns names {unknown}, which this {cfg.method} plan does not have; its "
                                   f"sub-runs are {list(runs)}")
    selected = {name for name in runs if not wanted or name in wanted}
    for name in selected:
        for parent in (runs[need] for need in _needs(runs[name])):
            if parent.name not in selected and not _ran_earlier(workdir, parent):
                raise SubRunSelectionError(f"sub-run {name!r} starts after {parent.name!r}, which has not finished "
                                           f"in {workdir}: run --config.train.subruns={parent.name} first (or both)")
    return selected


def execute(method, cfg, workdir, strategy):
    """Runs `method`'s plan for `cfg` in `workdir` (resuming whatever is there); returns the summary dict (only the
    sub-runs' summaries while a train.subruns selection leaves some unfinished)."""
    t0 = time.time()
    claim_workdir(cfg, workdir)
    data = DataCache()
    resolved = resolve_config(cfg, workdir, data)
    plan = method.plan(resolved, workdir)
    selected = _selected(plan, cfg, workdir)
    if plan.prepare is not None:
        plan.prepare(strategy)
    if cfg.train.jobs > 1:
        run_parallel(plan, selected, resolved, workdir)
    results = {}
    for sub in plan.runs:
        if sub.name in selected:
            logging.info("%s: sub-run %r", cfg.method, sub.name or workdir)
            results[sub.name] = run_sub(sub, workdir, strategy, data)
        else:
            finished = _finished(_sub_path(workdir, sub), sub)
            if finished is not None:
                results[sub.name] = finished
    if len(results) < len(plan.runs):
        missing = [sub.name for sub in plan.runs if sub.name not in results]
        logging.info("%s: sub-runs %s not finished yet: the method's summary is written when they are",
                     cfg.method, missing)
        return dict(method=cfg.method, config=cfg.name, workdir=workdir, runs=results, unfinished=missing)
    if len(plan.runs) == 1 and not plan.runs[0].name:  # a single run in the work dir: its summary is the summary
        return results[""]
    summary = dict(method=cfg.method, config=cfg.name, workdir=workdir, generator_workdir=plan.main_run,
                   runs=results)
    if plan.summarize is not None:
        summary.update(plan.summarize(results))
    if plan.table is not None:
        rows = plan.table(results)
        summary.update(table=rows, table_text=format_table(rows))
        print(f"\n{plan.title or cfg.name}:\n{summary['table_text']}\n" + (f"{plan.note}\n" if plan.note else ""))
    if plan.note:
        summary["note"] = plan.note
    summary["wall_time_s"] = round(time.time() - t0, 2)
    write_json(os.path.join(workdir, "summary.json"), summary)
    return summary
