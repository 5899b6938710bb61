"""The reproduction's scales and runs (no training): schedules scale with the steps, each part's jobs and their
dependencies, the commands that rebuild each run's config, and when a job counts as finished."""

import os

import pytest

from benchmarks import reproduction, scales
from tfgan_eff.distill.method import stages


@pytest.mark.parametrize("method", ["dgl", "sparse", "search"])
def test_long_scale_multiplies_the_steps_and_keeps_every_schedule_fraction(method):
    preset = scales.method_config(method, 0, scales.get("preset"))
    long = scales.method_config(method, 0, scales.get("long"))
    assert long.train.steps == 10 * preset.train.steps
    assert long.train.ckpt_every * scales.CURVE_POINTS == (long.retrain.steps or long.train.steps)  # 8 FID points
    assert long.train.keep_checkpoints >= scales.CURVE_POINTS and not long.export.enabled
    assert long.train.ema_decay == preset.train.ema_decay  # an averaging horizon, not a schedule
    if method == "sparse":  # mask updates every 2.5 % of training: 25 of 1,000, 250 of 10,000 steps
        assert (preset.sparse.update_every, long.sparse.update_every, long.train.steps) == (25, 250, 10000)
    if method == "dgl":
        assert long.dgl.teacher_steps == 10 * preset.dgl.teacher_steps
        (switch, total), (long_switch, long_total) = stages(preset), stages(long)
        assert long_switch / long_total == switch / total == preset.dgl.switch_fraction
    if method == "search":
        assert long.search.rounds == 99  # the paper's rounds
        assert long.search.worst_lr_halve_round / long.search.rounds == pytest.approx(
            preset.search.worst_lr_halve_round / preset.search.rounds, abs=0.01)


def test_scales_keep_a_switch_step_fraction_and_the_smoke_sizes():
    cfg = scales.method_config("dgl", 3, scales.Scale("x", factor=4, smoke=True))
    assert cfg.seed == 3 and cfg.train.steps == 16 and cfg.dgl.switch_step == 8  # smoke: step 2 of 4
    assert cfg.data.resolution == 16 and cfg.train.ckpt_every == 2
    with pytest.raises(ValueError, match="choose from"):
        scales.get("huge")
    assert scales.steps_table(scales.get("long"))["sparse_update_every"] == 250
    short = scales.steps_table(scales.get("short"))  # a fifth: still 2.5 %, a quarter, 8 points
    assert (short["sparse_steps"], short["sparse_update_every"], short["dgl_student_steps"]) == (200, 5, 400)
    assert scales.method_config("search", 0, scales.get("short")).search.worst_lr_halve_round == 2  # 10 of 30


def by_name(runs):
    return {run.name.split("/", 2)[2]: run for run in runs}


def test_dgl_runs_are_one_method_run_with_every_schedule_as_a_sub_run_and_the_finetune_against_its_teacher(tmp_path):
    runs = by_name(reproduction.dgl_runs(2, str(tmp_path), reproduction.Options(dgl_finetune_steps=300)))
    assert set(runs) == {"method", "finetune"}
    method, finetune = runs["method"], runs["finetune"]
    assert method.config.method == "dgl" and method.config.seed == 2 and method.after == ()
    assert method.config.dgl.baselines == "plain,from_step_0,full_width" and method.config.dgl.teacher_workdir == ""
    assert reproduction.run_kinds(method) == ("teacher", "two_stage", "from_step_0", "full_width")
    assert finetune.after == (method.name,) and finetune.config.dgl.finetune_steps == 300
    assert finetune.config.dgl.teacher_workdir == os.path.join(method.workdir, "teacher")
    # --runs picks the baselines: the method's teacher, stage 1 and DGL stage 2 always train.
    only = by_name(reproduction.dgl_runs(2, str(tmp_path), reproduction.Options(runs=("from_step_0",))))["method"]
    assert only.config.dgl.baselines == "from_step_0"


def test_sparse_runs_are_a_dense_run_and_a_method_run_per_density_pruning_it_at_half_the_steps(tmp_path):
    runs = by_name(reproduction.sparse_runs(0, str(tmp_path), reproduction.Options(densities=(0.1, 0.2))))
    assert set(runs) == {"dense", "d0.1/method", "d0.2/method"}
    dense = runs["dense"]
    assert dense.config.method == "baseline" and dense.config.train.steps == 1000 and dense.after == ()
    for density in (0.1, 0.2):
        method = runs[f"d{density}/method"]
        cfg = method.config
        assert cfg.method == "sparse" and cfg.sparse.mode == "dynamic_g" and cfg.sparse.g_density == density
        assert cfg.sparse.comparisons == "static,prune" and method.after == (dense.name,)
        # the pruned pipeline: the dense run's checkpoint at step 500 pruned, 500 static-mask steps: 1,000 in all
        assert (cfg.sparse.prune_from, cfg.sparse.prune_step) == (dense.workdir, 500)
        assert cfg.sparse.prune_step + cfg.sparse.finetune_steps == cfg.train.steps == 1000
        assert cfg.train.ckpt_every == dense.config.train.ckpt_every == 125  # one FID grid for both pipelines
        assert reproduction.run_kinds(method) == ("dynamic", "static", "prune")
    # --runs picks the comparisons; without the pruned pipeline the method run needs no dense run
    only = by_name(reproduction.sparse_runs(0, str(tmp_path), reproduction.Options(densities=(0.1,),
                                                                                   runs=("static",))))
    assert only["d0.1/method"].config.sparse.comparisons == "static" and only["d0.1/method"].after == ()
    assert only["d0.1/method"].config.sparse.prune_from == ""


def test_selected_runs_bring_the_runs_they_need_and_say_so_in_the_protocol(tmp_path):
    opts = reproduction.Options(seeds=(0, 1), densities=(0.1, 0.2), runs=("from_step_0", "prune"))
    runs = [run for seed in opts.seeds for part in (reproduction.dgl_runs, reproduction.sparse_runs)
            for run in part(seed, str(tmp_path), opts)]
    names = [run.name for run in reproduction.select_runs(runs, opts.runs)]
    # the pruned pipelines prune the seed's dense run; DGL from step 0 is a sub-run of the DGL method run
    assert names == [f"{part}/s{seed}/{run}" for seed in (0, 1) for part, run in (
        ("dgl", "method"), ("sparse", "dense"), ("sparse", "d0.1/method"), ("sparse", "d0.2/method"))]
    assert reproduction.select_runs(runs, ()) == runs
    with pytest.raises(reproduction.UnknownRunError, match=r"\['two_stages'\].*'from_step_0'.*'static'"):
        reproduction.select_runs(runs, ("two_stages",))
    assert reproduction.protocol(opts)["runs"] == "only from_step_0, prune and the runs they need"
    assert "runs" not in reproduction.protocol(reproduction.Options())  # reports of every run keep their protocol


def test_search_runs_are_one_method_run_with_the_baselines_as_sub_runs(tmp_path):
    run, = reproduction.search_runs(1, str(tmp_path), reproduction.Options(random_genotypes=2))
    assert run.name == "search/s1/method" and run.config.seed == 1 and run.config.method == "search"
    assert (run.config.retrain.baselines, run.config.retrain.random_genotypes) == ("random,sngan", 2)
    assert reproduction.run_kinds(run) == ("search", "random_0", "random_1", "sngan")
    for runs, baselines in ((("sngan",), "sngan"), (("random_1",), "random"), (("search",), "")):
        only, = reproduction.search_runs(1, str(tmp_path), reproduction.Options(random_genotypes=2, runs=runs))
        assert only.config.retrain.baselines == baselines


def test_retrain_steps_lengthen_every_retraining_of_the_search_part_and_only_those(tmp_path):
    opts = reproduction.Options(retrain_steps=4800)
    cfg = reproduction.search_runs(1, str(tmp_path), opts)[0].config
    # retrain.steps 0: the derived G and the baselines retrain for train.steps
    assert (cfg.train.steps, cfg.retrain.steps, cfg.train.ckpt_every) == (4800, 0, 600)
    assert cfg.search.rounds == 30  # the search itself is the scale's
    assert reproduction.protocol(opts)["steps"]["retrain_steps"] == 4800
    assert reproduction.method_config("sparse", 0, opts).train.steps == 1000  # other parts keep the scale's


def test_train_command_sets_what_differs_from_the_preset_and_threads_only_where_it_leaves_the_default(tmp_path):
    opts = reproduction.Options(densities=(0.2,), threads=1)
    method = by_name(reproduction.sparse_runs(0, str(tmp_path), opts))["d0.2/method"]
    argv, fingerprint = reproduction.train_command(method, scales.get("preset"), threads=1)
    assert argv[1:4] == ["-m", "tfgan_eff.train", "--method=sparse"]
    flags = argv[3:]
    for flag in ("--config.sparse.comparisons=static,prune", "--config.sparse.prune_step=500",
                 "--config.sparse.finetune_steps=500", "--config.train.intra_op_threads=1",
                 "--config.train.inter_op_threads=1", "--config.export.enabled=False", f"--workdir={method.workdir}"):
        assert flag in flags
    assert "--config.sparse.g_density=0.2" not in flags  # the preset's value
    assert fingerprint["flags"] == [f for f in flags if "_op_threads" not in f]
    search, = reproduction.search_runs(0, str(tmp_path), opts)
    flags = reproduction.train_command(search, scales.get("preset"), threads=2)[0]
    assert "--config.train.inter_op_threads=2" in flags
    assert not [f for f in flags if "intra_op_threads" in f]  # the search preset's own 1 thread per op stays
    quick = reproduction.train_command(search, scales.get("quick"), threads=0)[0]
    assert "--smoke" in quick


def test_with_fewer_runs_than_slots_each_run_trains_its_sub_runs_at_once_on_their_cores(tmp_path, monkeypatch):
    calls = []

    def run_jobs(jobs, slots, **_):
        calls.append((slots, [job.command() for job in jobs]))
        return {job.name: "ran" for job in jobs}

    monkeypatch.setattr(reproduction.scheduler, "run_jobs", run_jobs)
    for seeds, slots, expected in (((1,), 2, (1, "--config.train.jobs=2")), ((0, 1), 2, (2, None)),
                                   ((0, 1), 4, (2, "--config.train.jobs=2")), ((0, 1, 2), 2, (2, None))):
        reproduction.run_parts(["search"], str(tmp_path), reproduction.Options(seeds=seeds), slots, log=lambda _: None)
        used, argvs = calls.pop()
        assert len(argvs) == len(seeds)
        assert (used, next((f for f in argvs[0] if f.startswith("--config.train.jobs=")), None)) == expected
    # Runs that finished earlier leave their cores to the others: seed 0 done, seed 1 gets both slots.
    done, = reproduction.search_runs(0, str(tmp_path), reproduction.Options(seeds=(0, 1)))
    reproduction.write_json(os.path.join(done.workdir, "summary.json"), {})
    reproduction.run_parts(["search"], str(tmp_path), reproduction.Options(seeds=(0, 1)), 2, log=lambda _: None)
    used, argvs = calls.pop()
    assert used == 1 and "--config.train.jobs=2" in argvs[1]
    # Sub-runs at once change the speed only: the job record is the same command's.
    run, = reproduction.search_runs(1, str(tmp_path), reproduction.Options())
    at_once, one = (reproduction.train_command(run, scales.get("preset"), 1, n) for n in (2, 1))
    assert at_once[1] == one[1] and "--config.train.jobs=2" in at_once[0] and at_once[0] != one[0]


def test_a_job_is_finished_when_its_work_dir_has_a_summary_of_the_same_command(tmp_path):
    opts = reproduction.Options(seeds=(0,), densities=(0.5,))
    dynamic = by_name(reproduction.sparse_runs(0, str(tmp_path), opts))["d0.5/method"]
    job = next(j for j in reproduction.jobs_of([dynamic], opts) if j.name == dynamic.name)
    scale = scales.get("preset")
    assert not job.done()
    argv = job.command()  # writes the job record, as a start does
    assert argv[:3] == reproduction.train_command(dynamic, scale, 0)[0][:3]
    assert not job.done()  # started, not finished
    reproduction.write_json(os.path.join(dynamic.workdir, "summary.json"), {})
    assert job.done()
    changed = dynamic.config.copy_and_resolve_references()
    changed.sparse.g_density = 0.3
    other = reproduction.TrainRun(dynamic.name, "sparse", dynamic.workdir, changed)
    assert not reproduction._trained(other, scale)  # pylint: disable=protected-access  # another config: run it
    # Started, the other command's summary goes: killed before it finishes, the job must not read as finished.
    other_job = next(j for j in reproduction.jobs_of([other], opts) if j.name == other.name)
    other_job.command()
    assert not other_job.done() and not os.path.exists(os.path.join(dynamic.workdir, "summary.json"))
    job.command()  # the first command again: its record is not the one on disk either
    reproduction.write_json(os.path.join(dynamic.workdir, "summary.json"), {})
    assert job.done()


def test_every_run_measures_its_fid_curve_on_its_kept_checkpoints(tmp_path):
    opts = reproduction.Options(seeds=(0,), densities=(0.5,), dgl_finetune_steps=100)
    runs = [run for part in (reproduction.dgl_runs, reproduction.sparse_runs, reproduction.search_runs)
            for run in part(0, str(tmp_path), opts)]
    assert len(runs) == 5 and len(reproduction.jobs_of(runs, opts)) == len(runs)
    for run in runs:
        cfg = run.config
        assert cfg.eval.curve and cfg.train.keep_checkpoints >= scales.CURVE_POINTS
        # every 1/8 of the part's runs
        assert cfg.train.ckpt_every == reproduction.method_config(run.preset, 0, reproduction.Options()).train.steps \
            // scales.CURVE_POINTS
