"""eval.curve: the FID at every kept checkpoint, measured after training, resumed point by point."""

import json

import pytest

from tfgan_eff import train_lib
from tfgan_eff.training import evaluator, experiment
from tfgan_eff.training.fid_curve import CURVE_FILE, read_curve


def test_curve_has_a_point_per_kept_checkpoint_and_resumes_where_it_stopped(smoke_cfg, tmp_path, monkeypatch):
    smoke_cfg.eval.update(curve=True, at_end=True, num_samples=32)
    smoke_cfg.train.update(ckpt_every=1, keep_checkpoints=100)
    summary = train_lib.run(smoke_cfg, str(tmp_path))
    curve = read_curve(str(tmp_path))
    assert [step for step, _ in curve] == [1, 2, 3, 4]
    assert json.loads((tmp_path / "summary.json").read_text())["fid_curve"] == [list(point) for point in curve]
    assert curve[-1][1] == pytest.approx(summary["metrics"]["fid"])  # the last point is the final evaluation
    assert len({fid for _, fid in curve}) == 4  # each point its own checkpoint's generator
    assert json.loads((tmp_path / "curve_eval" / "eval_0000002.json").read_text())["generator"]["step"] == 2

    # As if killed while measuring point 3: its result and the summary's curve are missing.
    points = json.loads((tmp_path / CURVE_FILE).read_text())
    del points["3"], points["4"]
    (tmp_path / CURVE_FILE).write_text(json.dumps(points))
    saved = json.loads((tmp_path / "summary.json").read_text())
    del saved["fid_curve"]
    (tmp_path / "summary.json").write_text(json.dumps(saved))
    measured = []
    evaluate_run = evaluator.evaluate_run
    monkeypatch.setattr(evaluator, "evaluate_run", lambda *args, **kwargs: measured.append(kwargs["name"]) or
                        evaluate_run(*args, **kwargs))
    monkeypatch.setattr(experiment, "train_gan", lambda *args, **kwargs: pytest.fail("a finished run trained again"))
    again = train_lib.run(smoke_cfg, str(tmp_path))
    assert measured == ["eval_0000003.json", "eval_0000004.json"]  # only the missing points, no retraining
    assert [tuple(point) for point in again["fid_curve"]] == curve
