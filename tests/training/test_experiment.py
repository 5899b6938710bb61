"""The experiment executor: work-dir ownership, skipping finished sub-runs, the summary and table (no training:
sub-runs here are custom steps; the methods' own tests run real plans through it)."""

import json

import pytest

from tfgan_eff import train_lib
from tfgan_eff.config import presets
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

    def step(self, cfg, path, strategy):
        del strategy
        self.calls.append(path)
        return None, dict(steps=cfg.train.steps, value=len(self.calls))

    def plan(self, cfg, workdir):
        del workdir
        runs = [experiment.SubRun(name, cfg, step=self.step) for name in ("first", "second")]
        return experiment.Plan(runs=runs, main_run="second", title="two steps",
                               table=lambda results: [dict(run=k, value=v["value"]) for k, v in results.items()],
                               summarize=lambda results: dict(total=sum(v["value"] for v in results.values())))


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
    sub = experiment.SubRun("a", cfg, step=lambda *args: (None, {}))
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
    sub = experiment.SubRun("a", _cfg(), step=lambda *args: (None, dict(steps=4, wall_time_s=1000.0)))
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
