"""The experiment executor: work-dir ownership, skipping finished sub-runs, the summary and table (no training:
sub-runs here are custom steps; the methods' own tests run real plans through it)."""

import dataclasses
import json

import pytest

from tfgan_eff import train_lib
from tfgan_eff.config import presets, registry
from tfgan_eff.training import experiment


def _cfg(method="baseline"):
    cfg = presets.smoke(presets.get(method))
    cfg.eval.at_end = False
    cfg.export.enabled = False
    return cfg


class _StepPlan:
    """A method whose plan is two custom steps, counting how often each runs."""

    def __init__(self):
        self.calls = []

    def step(self, cfg, path, strategy, data):
        """A custom step that records its call."""
        del strategy, data
        self.calls.append(path)
        return experiment.SubRunResult(None, dict(steps=cfg.train.steps, value=len(self.calls)))

    def plan(self, cfg, workdir):
        """Two custom steps; the second is the main run."""
        del workdir
        runs = [experiment.SubRun(name, cfg, step=self.step) for name in ("first", "second")]
        return experiment.Plan(runs=runs, main_run="second", title="two steps",
                               table=lambda results: [dict(run=k, value=v["value"]) for k, v in results.items()],
                               summarize=lambda results: dict(total=sum(v["value"] for v in results.values())))


def test_configure_shapes_a_sub_run_from_what_ran_before_it_when_it_starts(tmp_path):
    cfg, seen = _cfg(), []

    def step(sub_cfg, path, strategy, data):
        del strategy, data
        seen.append(sub_cfg.model.g.ch)
        return experiment.SubRunResult(None, dict(steps=sub_cfg.train.steps, value=len(path)))

    def configure(sub_cfg):
        sized = sub_cfg.copy_and_resolve_references()
        sized.model.g.ch = json.loads((tmp_path / "first" / "summary.json").read_text())["value"]
        return sized

    first = experiment.SubRun("first", cfg, step=step)
    second = experiment.SubRun("second", cfg, step=step, configure=configure)
    experiment.run_sub(first, str(tmp_path), None)
    experiment.run_sub(second, str(tmp_path), None)
    assert seen == [cfg.model.g.ch, len(str(tmp_path / "first"))] and second.cfg.model.g.ch == cfg.model.g.ch

    def refuse(sub_cfg):
        raise AssertionError(f"a finished sub-run was configured again: {sub_cfg.name}")

    experiment.run_sub(dataclasses.replace(second, configure=refuse), str(tmp_path), None)  # finished: read back
    assert len(seen) == 2


def test_plan_runs_once_then_is_read_back(tmp_path, capsys):
    method, cfg = _StepPlan(), _cfg()
    summary = experiment.execute(method, cfg, str(tmp_path), None)
    assert [p.rsplit("/", 1)[1] for p in method.calls] == ["first", "second"]
    assert summary["generator_workdir"] == "second" and summary["total"] == 3
    assert summary["table"] == [dict(run="first", value=1), dict(run="second", value=2)]
    assert "two steps:" in capsys.readouterr().out
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["runs"]["second"]["steps"] == cfg.train.steps == 4
    assert json.loads((tmp_path / "second" / "summary.json").read_text())["value"] == 2

    again = experiment.execute(method, cfg, str(tmp_path), None)
    assert len(method.calls) == 2 and again["table"] == summary["table"]  # nothing ran again
    cfg = _cfg()
    cfg.train.steps = 6  # more steps asked: the sub-runs are not finished any more
    experiment.execute(method, cfg, str(tmp_path), None)
    assert len(method.calls) == 4


def test_a_sub_run_missing_its_evaluation_or_export_is_not_finished(tmp_path):
    cfg = _cfg()
    sub = experiment.SubRun("a", cfg, step=lambda *args: experiment.SubRunResult(None, {}))
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "summary.json").write_text(json.dumps(dict(steps=4)))
    assert experiment._finished(str(tmp_path / "a"), sub) == {"steps": 4}  # pylint: disable=protected-access
    cfg = _cfg()
    cfg.eval.at_end = True
    evaluated = experiment.SubRun("a", cfg, step=sub.step)
    assert experiment._finished(str(tmp_path / "a"), evaluated) is None  # pylint: disable=protected-access


def test_a_sub_runs_wall_time_counts_its_training_once(tmp_path):
    """The sub-run's wall time is measured around training, evaluation and export; the loop's own time is kept
    beside it (it was once added on top, doubling the training time)."""
    sub = experiment.SubRun("a", _cfg(),
                            step=lambda *args: experiment.SubRunResult(None, dict(steps=4, wall_time_s=1000.0)))
    summary = experiment.run_sub(sub, str(tmp_path), None)
    assert summary["train_wall_time_s"] == 1000.0 and 0 <= summary["wall_time_s"] < 100


@pytest.mark.parametrize("existing,content", [
    ("experiment.json", dict(method="baseline", config="baseline_digits")),
    ("summary.json", dict(method="baseline", config="baseline_digits", steps=4)),
    ("config.json", dict(method="baseline", name="baseline_digits")),
])
def test_a_workdir_of_another_method_is_refused_and_left_alone(tmp_path, existing, content):
    (tmp_path / existing).write_text(json.dumps(content))
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(experiment.WorkdirMismatchError,
                       match="holds a baseline run of config 'baseline_digits', not sparse / 'sparse_digits'"):
        train_lib.run(_cfg("sparse"), str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert json.loads((tmp_path / existing).read_text()) == content
    experiment.claim_workdir(_cfg("baseline"), str(tmp_path))  # its own method and config are welcome


def test_format_table_aligns_the_union_of_columns():
    text = experiment.format_table([dict(run="a", fid=1.23456), dict(run="bb", kid=None, note="x")])
    assert text.splitlines() == ["run  fid    kid  note", "a    1.235  -    -   ", "bb   -      -    x   "]


def test_a_sub_run_that_yields_no_generator_cannot_evaluate_or_export(tmp_path):
    cfg = _cfg()
    cfg.export.enabled = True
    sub = experiment.SubRun("a", cfg, step=lambda *args: experiment.SubRunResult(None, dict(steps=4)))
    with pytest.raises(ValueError, match="sub-run 'a' yields no generator but is set to evaluate or export"):
        experiment.run_sub(sub, str(tmp_path), None)
    assert not (tmp_path / "a" / "summary.json").exists()


def test_prepare_runs_before_any_sub_run_and_its_error_trains_nothing(tmp_path):
    method = _StepPlan()
    plan = method.plan

    def refusing_plan(cfg, workdir):
        def prepare(strategy):
            del strategy
            raise experiment.WorkdirMismatchError("refused")
        return dataclasses.replace(plan(cfg, workdir), prepare=prepare)

    method.plan = refusing_plan
    with pytest.raises(experiment.WorkdirMismatchError, match="refused"):
        experiment.execute(method, _cfg(), str(tmp_path), None)
    assert not method.calls


def test_the_plan_gets_one_resolved_config_and_the_images_are_loaded_once(tmp_path, monkeypatch):
    loads = []
    real_load = experiment.sources.load_images
    monkeypatch.setattr(experiment.sources, "load_images", lambda data_cfg: loads.append(1) or real_load(data_cfg))
    cfg = _cfg()
    cfg.data.conditional = True
    cfg.eval.at_end = True
    seen = []

    class _Method(_StepPlan):
        def step(self, cfg, path, strategy, data):
            data.load(cfg)
            return super().step(cfg, path, strategy, data)

        def plan(self, cfg, workdir):
            seen.append(cfg)
            base = super().plan(cfg, workdir)
            return dataclasses.replace(base, runs=[dataclasses.replace(sub, evaluate=False) for sub in base.runs])

    experiment.execute(_Method(), cfg, str(tmp_path), None)
    assert len(seen) == 1 and len(loads) == 1
    assert seen[0].data.num_classes == 10 and cfg.data.num_classes == 0  # the caller's config is not changed
    assert seen[0].eval.ref_stats == str(tmp_path / "ref_stats.npz") and (tmp_path / "ref_stats.npz").exists()


def test_sub_config_names_the_copy_and_applies_dotted_changes():
    cfg = _cfg()
    sub = experiment.sub_config(cfg, "stage1", {"train.steps": 9, "model.g.width": 0.5, "method": "dgl"})
    assert (sub.name, sub.train.steps, sub.model.g.width, sub.method) == ("baseline_digits/stage1", 9, 0.5, "dgl")
    assert (cfg.name, cfg.train.steps, cfg.model.g.width, cfg.method) == ("baseline_digits", 4, 1.0, "baseline")
    with pytest.raises(KeyError, match="the config has no key 'train.stepz'"):
        experiment.sub_config(cfg, "x", {"train.stepz": 1})


def test_train_subruns_runs_only_the_named_sub_runs_and_summarises_when_all_finished(tmp_path):
    method = _StepPlan()
    cfg = _cfg()
    cfg.train.subruns = "second"
    partial = experiment.execute(method, cfg, str(tmp_path), None)
    assert [p.rsplit("/", 1)[1] for p in method.calls] == ["second"]
    assert partial["unfinished"] == ["first"] and not (tmp_path / "summary.json").exists()
    cfg.train.subruns = "first"
    summary = experiment.execute(method, cfg, str(tmp_path), None)
    assert [p.rsplit("/", 1)[1] for p in method.calls] == ["second", "first"]
    assert summary["total"] == 3 and (tmp_path / "summary.json").exists()  # both read back for the summary


@pytest.mark.parametrize("subruns,message", [
    ("third", r"train.subruns names \['third'\], which this baseline plan does not have; its sub-runs are "
              r"\['first', 'second'\]"),
    ("second", "sub-run 'second' starts after 'first', which has not finished in .*: run "
               "--config.train.subruns=first first"),
])
def test_train_subruns_refuses_unknown_names_and_a_missing_starting_point(tmp_path, subruns, message):
    method = _StepPlan()
    plan = method.plan

    def chained(cfg, workdir):
        base = plan(cfg, workdir)
        return dataclasses.replace(base, runs=[base.runs[0], dataclasses.replace(base.runs[1], init_from="first")])

    method.plan = chained
    cfg = _cfg()
    cfg.train.subruns = subruns
    with pytest.raises(experiment.SubRunSelectionError, match=message):
        experiment.execute(method, cfg, str(tmp_path), None)
    assert not method.calls


def _named(names_after):
    """A Plan of custom steps named as the keys, each with the `after` its value gives."""
    return experiment.Plan(runs=[experiment.SubRun(name, None, after=after) for name, after in names_after.items()])


def test_dependencies_default_to_every_earlier_sub_run_and_add_the_starting_point():
    plan = _named({"a": (), "b": None, "c": ()})
    plan.runs[2] = dataclasses.replace(plan.runs[2], init_from="a")
    assert experiment.dependencies(plan) == {"a": (), "b": ("a",), "c": ("a",)}
    deps = experiment.dependencies(_named({"a": (), "b": (), "c": ("a", "b")}))
    assert experiment._independent_pair(deps, ["a", "b", "c"])  # pylint: disable=protected-access
    assert not experiment._independent_pair(deps, ["a", "c"])  # pylint: disable=protected-access
    chain = experiment.dependencies(_named({"a": (), "b": None, "c": None}))
    assert not experiment._independent_pair(chain, ["a", "b", "c"])  # pylint: disable=protected-access


@pytest.mark.parametrize("method,keys,expected", [
    # STU-GAN: the comparison runs need nothing of each other; the pruned run prunes the trained dense one.
    ("sparse", {"sparse.comparisons": "dense,static,prune"},
     {"sparse": (), "dense": (), "static": (), "prune": ("dense",)}),
    # DGL: stage 1 trains the student alone, beside the teacher; the guided stage 2 needs both, the plain one stage 1.
    ("dgl", {"dgl.baselines": "plain"}, {"teacher": (), "stage1": (), "dgl": ("teacher", "stage1"),
                                         "plain": ("stage1",)}),
    ("search", {}, {"search": (), "retrain": ("search",)}),
    # alphaGAN's baselines: random genotypes need no search; the SNGAN G is sized after the derived one.
    ("search", {"retrain.baselines": "random,sngan", "retrain.random_genotypes": 2},
     {"search": (), "retrain": ("search",), "random_0": (), "random_1": (), "sngan": ("search",)}),
])
def test_plans_declare_which_sub_runs_may_run_at_once(tmp_path, method, keys, expected):
    cfg = _cfg(method)
    for key, value in keys.items():
        section, leaf = key.split(".")
        cfg[section][leaf] = value
    plan = registry.get(method).plan(cfg, str(tmp_path))
    assert experiment.dependencies(plan) == expected


def test_a_failed_sub_run_process_is_one_error_naming_its_log(tmp_path, monkeypatch):
    cfg = _cfg("sparse")
    cfg.train.jobs = 2
    monkeypatch.setattr(experiment.scheduler, "run_jobs", lambda jobs, *args, **kwargs: {
        job.name: "failed: exit code 1 (log /w/logs/dense.log)" if job.name == "dense" else "ran" for job in jobs})
    plan = registry.get("sparse").plan(cfg, str(tmp_path))
    with pytest.raises(experiment.SubRunFailedError, match=r"sub-run 'dense' failed: exit code 1 \(log "
                                                             r"/w/logs/dense.log\)\. Everything finished is kept"):
        experiment.run_parallel(plan, {"sparse", "dense", "static"}, cfg, str(tmp_path))
    assert json.loads((tmp_path / experiment.SUBRUN_CONFIG).read_text())["train"]["jobs"] == 2
