"""`--method=compress --smoke` end to end with a sparse student: the table's rows and columns, masks kept through
the teacher-guided stage, every export mode verified in LiteRT."""

import os

import numpy as np
import pytest

from tfgan_eff import train_lib
from tfgan_eff.compress.plan import plan
from tfgan_eff.config import presets
from tfgan_eff.pieces.sparse_weights import SparseWeights
from tfgan_eff.pieces.sparsity_callback import read_diagnostics
from tfgan_eff.training.loop import train_gan

pytestmark = pytest.mark.long(34)  # run early (tests/conftest.py)

MODES = ("float32", "dynamic_int8", "full_int8")


@pytest.fixture(scope="module")
def sparse_run(tmp_path_factory):
    """(work dir, summary) of the smoke compression with a half-dense dynamic_g student."""
    cfg = presets.smoke(presets.get("compress"))
    cfg.compress.update(g_density=0.5, sparse_mode="dynamic_g")
    workdir = str(tmp_path_factory.mktemp("compress"))
    return workdir, train_lib.run(cfg, workdir)


def test_table_has_the_teacher_and_each_student_with_every_export_mode(sparse_run):
    workdir, summary = sparse_run
    rows = {row["run"]: row for row in summary["table"]}
    assert list(rows) == ["teacher", "g0.25"] and summary["generator_workdir"] == "g0.25"
    teacher, student = rows["teacher"], rows["g0.25"]
    assert student["G params"] < teacher["G params"] and student["G MFLOPs"] < teacher["G MFLOPs"]
    assert student["G nnz"] < student["G params"]  # the sparse student's zeros survive the export
    for row in rows.values():
        for mode in MODES:
            assert isinstance(row[f"{mode} gz KiB"], float) and row[f"{mode} gz KiB"] > 0, (row, mode)
            assert row[f"{mode} ms/img"] > 0
        assert np.isfinite(row["FID"]) and 0 <= row["z_share"] <= 1 and isinstance(row["collapsed"], bool)
    artifacts = summary["runs"]["g0.25"]["artifacts"]
    assert artifacts["float32"]["max_abs_diff"] < 1e-4  # LiteRT reproduces the Keras generator
    assert os.path.isfile(os.path.join(workdir, "g0.25", "export", "generator_full_int8.tflite"))


def _masks_and_kernels(workdir, name):
    """[(mask, kernel)] of G's masked conv kernels in sub-run `name`'s last checkpoint (rebuilt by the plan's own
    trainer factory and restored; the run has finished, so nothing trains)."""
    cfg = presets.smoke(presets.get("compress"))
    cfg.compress.update(g_density=0.5, sparse_mode="dynamic_g")
    sub = {run.name: run for run in plan(cfg, workdir).runs}[name]
    run, _ = train_gan(sub.cfg, os.path.join(workdir, name), trainer_factory=sub.trainer_factory)
    masks = run.trainer.piece(SparseWeights).g_masks
    return [(m.numpy(), k.numpy()) for m, k in zip(masks.masks, masks.kernels)]


def test_masks_stay_applied_and_per_layer_counts_fixed_through_the_teacher_guided_stage(sparse_run):
    workdir, summary = sparse_run
    stage1 = _masks_and_kernels(workdir, "g0.25_stage1")
    stage2 = _masks_and_kernels(workdir, "g0.25")
    assert stage1 and len(stage1) == len(stage2)
    assert [int(m.sum()) for m, _ in stage1] == [int(m.sum()) for m, _ in stage2]
    assert any(not np.array_equal(a, b) for (a, _), (b, _) in zip(stage1, stage2))  # stage 2 regrew G's masks
    for mask, kernel in stage2:
        assert np.all(kernel[mask == 0] == 0)
    history = read_diagnostics(os.path.join(workdir, "g0.25"))
    densities = [{k: v for k, v in record.items() if k.startswith("g/density/")} for record in history]
    assert len(history) >= 2 and all(d == densities[0] for d in densities)
    assert summary["runs"]["g0.25"]["steps"] == 4
