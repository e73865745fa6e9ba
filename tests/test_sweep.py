"""The experiment engine end to end: sweeps, the results store, resume after a kill, failures,
worker counts, common random numbers, and the statistics of the summary."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import experiments.engine.runner as runner
from experiments import load_outcomes, load_runs, run_sweep
from experiments.analysis.stats import paired_difference, wilson_interval
from experiments.analysis.summary import differences_from_reference, point_summary
from experiments.cli import main
from experiments.engine.spec import SpecError, load_spec, run_id
from experiments.engine.store import StoreError, completed_runs
from experiments.studies.sweep import summarize

ROOT = Path(__file__).resolve().parents[1]
TINY = {"formation": {"n_alliances": 12}, "firms": {"count": 20}, "simulation": {"horizon_weeks": 156}}


def write_spec(folder: Path, **changes) -> Path:
    """A small grid experiment: meeting interval 2 or 8 weeks, in person or virtual, 3 replications."""
    scenario = folder / "tiny.yaml"
    scenario.write_text(yaml.safe_dump({"name": "tiny", **TINY}))
    data = {
        "name": "tiny_sweep",
        "scenario": "tiny.yaml",
        "factors": {
            "governance.meeting_interval_weeks": {"levels": [2, 8]},
            "governance.meeting_mode": {"levels": ["in_person", "virtual"]},
        },
        "replications": 3,
        "seed": 11,
        "reference": {"governance.meeting_interval_weeks": 2, "governance.meeting_mode": "in_person"},
        "keep": {"outcomes": True, "timeseries_every_weeks": 13, "events": False},
    }
    data.update(changes)
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def table_bytes(folder: Path, table: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / table).glob("*.parquet"))}


def comparable(runs: pd.DataFrame) -> pd.DataFrame:
    """A runs table without the one column that measures time."""
    return runs.drop(columns=["seconds"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def reference_sweep(tmp_path_factory):
    """The tiny experiment run serially, once per module: what every other arrangement must match."""
    folder = tmp_path_factory.mktemp("reference")
    spec = write_spec(folder)
    out = folder / "out"
    runs = run_sweep(spec, out, workers=1, progress=False)
    return spec, out, runs


# --------------------------------------------------------------------------- the store


def test_a_sweep_writes_every_run_and_its_provenance(reference_sweep):
    spec, out, runs = reference_sweep
    assert len(runs) == 4 * 3 and (runs["status"] == "ok").all()
    assert runs["run_id"].tolist() == [run_id(p, r) for p in range(4) for r in range(3)]
    for column in (
        "run_id",
        "point_id",
        "replication",
        "seed",
        "governance.meeting_interval_weeks",
        "governance.meeting_mode",
        "status",
        "success_rate",
        "decided",
        "failures_value_shortfall",
    ):
        assert column in runs.columns
    manifest = yaml.safe_load((out / "manifest.json").read_text())
    assert manifest["kind"] == "sweep" and manifest["runs_total"] == 12
    assert manifest["finished"] is not None and manifest["runs_done"] == {"ok": 12}
    assert manifest["experiment"]["base_scenario"]["formation"]["n_alliances"] == 12
    assert manifest["invocations"][0]["packages"]["mesa"]
    assert "git_commit" in manifest["invocations"][0]
    assert (out / "summary.csv").exists() and (out / "points.parquet").exists()
    outcomes = load_outcomes(out)
    assert len(outcomes) == runs["alliances"].sum()
    assert list(outcomes.columns[:3]) == ["run_id", "point_id", "replication"]
    timeseries = pd.read_parquet(out / "timeseries")
    assert set(timeseries["week"] % 13) == {0}
    assert not any((out / "events").iterdir())  # the spec does not keep events


def test_the_same_spec_twice_gives_the_same_bytes(reference_sweep, tmp_path):
    spec, out, runs = reference_sweep
    again = run_sweep(spec, tmp_path / "again", workers=1, progress=False)
    assert table_bytes(out, "outcomes") == table_bytes(tmp_path / "again", "outcomes")
    pd.testing.assert_frame_equal(comparable(runs), comparable(again))


def test_results_do_not_depend_on_the_number_of_workers(reference_sweep, tmp_path):
    spec, out, runs = reference_sweep
    pooled = run_sweep(spec, tmp_path / "pooled", workers=2, progress=False)
    assert table_bytes(out, "outcomes") == table_bytes(tmp_path / "pooled", "outcomes")
    assert table_bytes(out, "timeseries") == table_bytes(tmp_path / "pooled", "timeseries")
    pd.testing.assert_frame_equal(comparable(runs), comparable(pooled))


def test_rerunning_a_finished_sweep_runs_nothing(reference_sweep):
    spec, out, runs = reference_sweep
    before = {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()}
    again = run_sweep(spec, out, workers=1, progress=False)
    assert {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()} == before
    pd.testing.assert_frame_equal(runs, again)


def test_more_replications_extend_the_folder(reference_sweep, tmp_path):
    spec, out, runs = reference_sweep
    first = run_sweep(spec, tmp_path / "grow", replications=2, workers=1, progress=False)
    kept = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "grow" / "runs").iterdir()}
    grown = run_sweep(spec, tmp_path / "grow", replications=3, workers=1, progress=False)
    assert len(first) == 8 and len(grown) == 12
    assert all((tmp_path / "grow" / "runs" / name).stat().st_mtime_ns == t for name, t in kept.items())
    pd.testing.assert_frame_equal(comparable(grown), comparable(runs))
    with pytest.raises(StoreError, match="already has 3 replications per point"):
        run_sweep(spec, tmp_path / "grow", replications=2, workers=1, progress=False)


def test_a_folder_of_another_experiment_is_refused(reference_sweep, tmp_path):
    spec, out, _ = reference_sweep
    other = write_spec(tmp_path, seed=12)
    with pytest.raises(StoreError, match=r"holds results of a different experiment .*differs in spec.seed"):
        run_sweep(other, out, workers=1, progress=False)
    with pytest.raises(StoreError, match="differs in base_scenario.environment.shock_rate_per_year"):
        run_sweep(spec, out, workers=1, progress=False, overrides={"environment.shock_rate_per_year": 1.0})


def test_a_folder_that_is_not_a_sweep_is_refused(reference_sweep, tmp_path):
    spec, _, _ = reference_sweep
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="is not empty and has no manifest.json"):
        run_sweep(spec, tmp_path / "busy", workers=1, progress=False)
    assert main(["run", str(spec.parent / "tiny.yaml"), "--out", str(tmp_path / "single"), "--quiet"]) == 0
    with pytest.raises(StoreError, match="holds the results of a single run"):
        run_sweep(spec, tmp_path / "single", workers=1, progress=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="is an existing file"):
        run_sweep(spec, tmp_path / "file", workers=1, progress=False)


def test_an_interrupted_run_and_stray_temporary_files_are_redone(reference_sweep, tmp_path):
    """A kill between a run's tables and its row: the tables are there, the row is not."""
    spec, out, runs = reference_sweep
    folder = tmp_path / "cut"
    run_sweep(spec, folder, replications=2, workers=1, progress=False)
    victim = run_id(1, 1)
    (folder / "runs" / f"{victim}.parquet").unlink()
    (folder / "outcomes" / f"{victim}.parquet").write_bytes(b"half a file")
    (folder / "runs" / ".p000002-r00000.parquet.0123456789ab.tmp").write_bytes(b"partial")
    assert victim not in completed_runs(folder)
    load_outcomes(folder)  # the torn table of an incomplete run is not read
    resumed = run_sweep(spec, folder, replications=3, workers=1, progress=False)
    assert not list((folder / "runs").glob(".*.tmp"))
    pd.testing.assert_frame_equal(comparable(resumed), comparable(runs))
    assert table_bytes(folder, "outcomes") == table_bytes(out, "outcomes")


# --------------------------------------------------------------------------- killed for real


def sweep_process(spec: Path, out: Path, workers: int) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "experiments.cli",
        "sweep",
        str(spec),
        "--out",
        str(out),
        "--workers",
        str(workers),
        "--quiet",
    ]
    return subprocess.Popen(
        command, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def kill_when(process: subprocess.Popen, folder: Path, runs_done: int, timeout: float = 120) -> int:
    """SIGKILL the sweep's whole process group once `runs_done` runs are saved; runs saved then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = len(list((folder / "runs").glob("p*.parquet"))) if (folder / "runs").is_dir() else 0
        if done >= runs_done:
            break
        if process.poll() is not None:
            pytest.fail(f"the sweep ended before it could be killed: {process.stderr.read().decode()}")
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    return len(list((folder / "runs").glob("p*.parquet")))


def check_resumed(folder: Path, survivors: dict, done_at_kill: int, total: int) -> pd.DataFrame:
    """The resumed folder holds every run once, and nothing complete at the kill was run again."""
    resumed = load_runs(folder)
    assert len(resumed) == total and resumed["run_id"].is_unique and (resumed["status"] == "ok").all()
    for name, stamp in survivors.items():
        path = folder / "runs" / name
        assert (path.stat().st_ino, path.stat().st_mtime_ns) == stamp
    manifest = yaml.safe_load((folder / "manifest.json").read_text())
    assert manifest["invocations"][-1]["runs_executed"] == total - done_at_kill
    return resumed


def saved_runs(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (folder / "runs").glob("p*.parquet")}


def test_a_sweep_killed_midway_resumes_without_repeating_or_losing_runs(reference_sweep, tmp_path):
    spec, out, runs = reference_sweep
    big = write_spec(tmp_path, replications=6)  # 24 runs: the kill lands midway
    folder = tmp_path / "killed"
    done_at_kill = kill_when(sweep_process(big, folder, 2), folder, 5)
    assert 0 < done_at_kill < 24
    survivors = saved_runs(folder)
    run_sweep(big, folder, workers=2, progress=False)
    resumed = check_resumed(folder, survivors, done_at_kill, 24)
    # the result is the uninterrupted one: the first 3 replications equal the reference sweep's
    first = resumed[resumed["replication"] < 3].reset_index(drop=True)
    pd.testing.assert_frame_equal(comparable(first), comparable(runs))
    reference_outcomes = table_bytes(out, "outcomes")
    resumed_outcomes = table_bytes(folder, "outcomes")
    assert {k: resumed_outcomes[k] for k in reference_outcomes} == reference_outcomes


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_a_sweep_killed_again_and_again_still_completes_exactly(reference_sweep, tmp_path, workers):
    """Kill the same sweep four times at different moments, then let it finish: the folder equals
    an uninterrupted sweep's, byte for byte."""
    spec, _, _ = reference_sweep
    big = write_spec(tmp_path, replications=12)
    folder = tmp_path / "killed"
    for target in (2, 9, 17, 30):
        kill_when(sweep_process(big, folder, workers), folder, target)
    survivors = saved_runs(folder)
    run_sweep(big, folder, workers=workers, progress=False)
    resumed = check_resumed(folder, survivors, len(survivors), 48)
    straight = run_sweep(big, tmp_path / "straight", workers=1, progress=False)
    assert table_bytes(folder, "outcomes") == table_bytes(tmp_path / "straight", "outcomes")
    assert table_bytes(folder, "timeseries") == table_bytes(tmp_path / "straight", "timeseries")
    pd.testing.assert_frame_equal(comparable(resumed), comparable(straight))


def test_the_command_line_resumes_after_a_kill(reference_sweep, tmp_path):
    spec, _, _ = reference_sweep
    big = write_spec(tmp_path, replications=5)
    folder = tmp_path / "cli"
    kill_when(sweep_process(big, folder, 1), folder, 4)
    assert main(["sweep", str(big), "--out", str(folder), "--workers", "1", "--quiet"]) == 0
    assert len(completed_runs(folder)) == 20


# --------------------------------------------------------------------------- failing runs


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(reference_sweep, tmp_path, monkeypatch):
    spec, _, runs = reference_sweep
    real = runner.AllianceModel

    class Exploding(real):
        def run(self):
            if self.config.governance.meeting_interval_weeks == 8 and self.seed == runs["seed"].iloc[1]:
                raise RuntimeError("planted failure")
            return super().run()

    monkeypatch.setattr(runner, "AllianceModel", Exploding)
    folder = tmp_path / "fails"
    first = run_sweep(spec, folder, workers=1, progress=False)
    failed = first[first["status"] == "failed"]
    assert failed["run_id"].tolist() == [run_id(2, 1), run_id(3, 1)]
    assert failed["error"].str.contains("RuntimeError: planted failure").all()
    assert failed["error"].str.contains("Traceback").all()
    assert failed["success_rate"].isna().all()
    assert not (folder / "outcomes" / f"{run_id(2, 1)}.parquet").exists()
    ok = first[first["status"] == "ok"]
    pd.testing.assert_frame_equal(comparable(ok), comparable(runs[runs["run_id"].isin(ok["run_id"])]))
    # without --retry-failed the failures stay; with it only they are rerun
    stamps = {p.name: p.stat().st_mtime_ns for p in (folder / "runs").iterdir()}
    run_sweep(spec, folder, workers=1, progress=False)
    assert {p.name: p.stat().st_mtime_ns for p in (folder / "runs").iterdir()} == stamps
    monkeypatch.setattr(runner, "AllianceModel", real)
    fixed = run_sweep(spec, folder, workers=1, progress=False, retry_failed=True)
    assert (fixed["status"] == "ok").all()
    changed = {p.name for p in (folder / "runs").iterdir() if p.stat().st_mtime_ns != stamps[p.name]}
    assert changed == {f"{run_id(2, 1)}.parquet", f"{run_id(3, 1)}.parquet"}
    pd.testing.assert_frame_equal(comparable(fixed), comparable(runs))


class FlakyPool:
    """A fake executor whose 'worker' dies whenever a poisoned run is in flight (as a pool breaks:
    every run in flight is lost), recording how many runs were in flight at once."""

    def __init__(self, poisoned: set[str], workers: int = 2, die_once: set[str] = frozenset()):
        self.workers = workers
        self.poisoned, self.die_once = set(poisoned), set(die_once)
        self.in_flight: dict[Future, object] = {}
        self.max_in_flight = 0
        self.restarts = 0

    def submit(self, fn, task):
        future = Future()
        self.in_flight[future] = (fn, task)
        self.max_in_flight = max(self.max_in_flight, len(self.in_flight))
        return future

    def wait_any(self, futures):
        ids = {task.run_id for _, task in self.in_flight.values()}
        dying = ids & (self.poisoned | self.die_once)
        for future, (fn, task) in list(self.in_flight.items()):
            if dying:
                future.set_exception(BrokenProcessPool("a worker died"))
            else:
                future.set_result(fn(task))
        self.die_once -= dying
        self.in_flight.clear()
        return {f for f in futures if f.done()}

    def is_worker_loss(self, exc):
        return isinstance(exc, BrokenProcessPool)

    def restart(self):
        self.restarts += 1

    def shutdown(self, cancel=False):
        pass


def tiny_tasks(tmp_path, replications=2):
    experiment = load_spec(write_spec(tmp_path, replications=replications))
    from experiments.engine.sweep import pending_tasks

    return list(pending_tasks(experiment, set()))


def test_a_run_that_kills_its_worker_is_isolated_and_recorded(tmp_path):
    tasks = tiny_tasks(tmp_path)
    poison = tasks[3].run_id
    pool = FlakyPool({poison})
    results = []
    runner.drive(tasks, pool, results.append)
    by_id = {r.run_id: r for r in results}
    assert sorted(by_id) == sorted(t.run_id for t in tasks) and len(results) == len(tasks)
    assert by_id[poison].status == "failed" and "worker process" in by_id[poison].error
    assert all(r.status == "ok" for r in results if r.run_id != poison)
    assert pool.max_in_flight <= 2 * pool.workers + 1


def test_a_worker_lost_once_costs_nothing(tmp_path):
    tasks = tiny_tasks(tmp_path)
    pool = FlakyPool(set(), die_once={tasks[0].run_id})
    results = []
    runner.drive(tasks, pool, results.append)
    assert pool.restarts == 1
    assert sorted(r.run_id for r in results) == sorted(t.run_id for t in tasks)
    assert all(r.status == "ok" for r in results)


def test_drive_keeps_a_bounded_number_of_runs_in_flight_and_reads_tasks_lazily(tmp_path):
    tasks = tiny_tasks(tmp_path, replications=3)
    taken = []

    def source():
        for task in tasks:
            taken.append(task.run_id)
            yield task

    pool = FlakyPool(set(), workers=1)
    seen = []

    def on_result(result):
        seen.append(result.run_id)
        assert len(taken) - len(seen) <= 3  # never more than the window read ahead

    runner.drive(source(), pool, on_result, in_flight=3)
    assert pool.max_in_flight == 3 and len(seen) == len(tasks)


# --------------------------------------------------------------------------- common random numbers


def test_common_random_numbers_give_every_point_the_same_shocks(tmp_path):
    """Changing the meeting interval leaves the external shocks of every replication unchanged."""
    spec = write_spec(
        tmp_path,
        factors={"governance.meeting_interval_weeks": {"levels": [1, 13]}},
        reference=None,
        replications=2,
        keep={"outcomes": True, "events": True},
    )
    out = tmp_path / "crn"
    run_sweep(spec, out, workers=1, progress=False, overrides={"environment.shock_rate_per_year": 4.0})
    events = pd.read_parquet(out / "events")
    outcomes = load_outcomes(out)
    for replication in range(2):
        ends = (
            outcomes[outcomes["replication"] == replication]
            .pivot(index="alliance_id", columns="point_id", values="end_week")
            .min(axis=1)
        )
        shocks = events[(events["event"] == "shock") & (events["replication"] == replication)]
        shocks = shocks[shocks["week"] <= ends.loc[shocks["alliance_id"]].to_numpy()]
        a = shocks[shocks["point_id"] == 0].set_index(["alliance_id", "week"])["value"].sort_index()
        b = shocks[shocks["point_id"] == 1].set_index(["alliance_id", "week"])["value"].sort_index()
        assert len(a) > 10
        pd.testing.assert_series_equal(a, b)
    assert outcomes.groupby("point_id")["end_week"].apply(tuple).nunique() == 2  # the lever mattered


# --------------------------------------------------------------------------- statistics


def test_summary_matches_a_hand_computation(reference_sweep):
    spec, out, runs = reference_sweep
    summary = summarize(out, figures=False)
    outcomes = load_outcomes(out)
    for point, group in outcomes.groupby("point_id"):
        row = summary.set_index("point_id").loc[point]
        decided = group[group["outcome"] != "censored"]
        successes = int((decided["outcome"] == "success").sum())
        assert row["decided"] == len(decided) and row["successes"] == successes
        assert row["success_rate"] == pytest.approx(successes / len(decided))
        assert (row["success_ci_low"], row["success_ci_high"]) == pytest.approx(
            wilson_interval(successes, len(decided))
        )
        assert row["mean_duration_weeks"] == pytest.approx(decided["duration_weeks"].mean())
        assert row["median_duration_weeks"] == pytest.approx(decided["duration_weeks"].median())
        assert row["mean_final_trust"] == pytest.approx(group["final_trust"].mean())
        counts = group.assign(d=group["outcome"] != "censored", s=group["outcome"] == "success")
        counts = counts.groupby("replication")[["d", "s"]].sum()
        by_run = counts["s"] / counts["d"].replace(0, np.nan)
        assert row["success_rate_sd"] == pytest.approx(by_run.dropna().std(ddof=1), nan_ok=True)
    # the paired difference from the reference, by hand
    rates = runs.pivot(index="replication", columns="point_id", values="success_rate")
    for point in range(4):
        expected = paired_difference(rates[0], rates[point])
        row = summary.set_index("point_id").loc[point]
        assert row["diff_success_rate"] == pytest.approx(expected["mean"])
        if point:
            assert (row["diff_ci_low"], row["diff_ci_high"]) == pytest.approx(
                (expected["ci_low"], expected["ci_high"])
            )
    assert summary["reference"].tolist() == [True, False, False, False]
    on_disk = pd.read_csv(out / "summary.csv")
    assert on_disk["success_rate"].to_numpy() == pytest.approx(summary["success_rate"].to_numpy())


def test_paired_difference_by_hand():
    runs = pd.DataFrame(
        {
            "point_id": [0, 0, 0, 1, 1, 1],
            "replication": [0, 1, 2, 0, 1, 2],
            "status": ["ok"] * 6,
            "success_rate": [0.5, 0.6, 0.4, 0.6, 0.8, 0.5],
        }
    )
    diffs = differences_from_reference(runs, 0).set_index("point_id")
    d = np.array([0.1, 0.2, 0.1])
    half = 4.302652729911275 * d.std(ddof=1) / np.sqrt(3)  # t(0.975, 2)
    assert diffs.loc[1, "difference"] == pytest.approx(d.mean())
    assert (diffs.loc[1, "ci_low"], diffs.loc[1, "ci_high"]) == pytest.approx(
        (d.mean() - half, d.mean() + half)
    )
    assert diffs.loc[0, "difference"] == 0 and diffs.loc[0, "ci_low"] == 0
    unpaired = differences_from_reference(runs, 0, paired=False).set_index("point_id")
    assert unpaired.loc[1, "difference"] == pytest.approx(d.mean())
    assert unpaired.loc[1, "ci_high"] - unpaired.loc[1, "ci_low"] > 2 * half  # pairing narrows it


def test_point_summary_counts_failed_runs_and_pools_the_rest():
    runs = pd.DataFrame(
        {
            "point_id": [0, 0, 1],
            "replication": [0, 1, 0],
            "status": ["ok", "failed", "failed"],
            "f": ["a", "a", "b"],
            "success_rate": [0.5, np.nan, np.nan],
            **{c: [4, 0, 0] for c in ("alliances", "decided")},
            "successes": [2, 0, 0],
            "failures": [2, 0, 0],
            **{
                c: [0, 0, 0]
                for c in (
                    "restructured",
                    "censored",
                    "failures_trust_collapse",
                    "failures_detected_opportunism",
                    "failures_strategic_drift",
                )
            },
            "failures_value_shortfall": [2, 0, 0],
            "mean_duration_weeks": [50.0, np.nan, np.nan],
            "mean_value_realized": [10.0, np.nan, np.nan],
            "mean_final_trust": [0.5, np.nan, np.nan],
        }
    )
    summary = point_summary(runs, ["f"]).set_index("point_id")
    assert summary.loc[0, "runs_ok"] == 1 and summary.loc[0, "runs_failed"] == 1
    assert summary.loc[0, "success_rate"] == 0.5 and summary.loc[0, "mean_duration_weeks"] == 50
    assert summary.loc[1, "decided"] == 0 and np.isnan(summary.loc[1, "success_rate"])


# --------------------------------------------------------------------------- command line


def test_sweep_and_summarize_on_the_command_line(reference_sweep, tmp_path, capsys):
    spec, out, _ = reference_sweep
    folder = tmp_path / "cli"
    assert main(["sweep", str(spec), "--out", str(folder), "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    assert "12 runs in" in printed and "success" in printed and "reference" in printed
    assert main(["summarize", str(folder)]) == 0
    printed = capsys.readouterr().out
    assert "4 design points, 12 runs" in printed
    figures = sorted(p.name for p in (folder / "figures").iterdir())
    assert "success_governance-meeting_interval_weeks.png" in figures
    assert "heatmap_governance-meeting_interval_weeks_governance-meeting_mode.svg" in figures
    assert "survival_governance-meeting_mode.png" in figures


@pytest.mark.parametrize(
    "args, expected",
    [
        (["sweep", "{spec}", "--workers", "0"], "--workers must be a positive integer"),
        (["sweep", "{spec}", "--replications", "0"], "--replications must be a positive integer"),
        (["sweep", "{spec}", "--set", "governance.meeting_mode=mixed"], "names a factor of the experiment"),
        (["sweep", "{spec}", "--set", "formation.n_alliance=5"], "did you mean 'formation.n_alliances'"),
        (["sweep", "{missing}"], "experiment spec file not found"),
        (
            ["sweep", "{spec}", "--out", "{reference}", "--set", "environment.shock_severity=0.5"],
            "holds results of a different experiment",
        ),
        (["summarize", "{missing}"], "results folder not found"),
        (["summarize", "{spec}"], "is a file"),
        (["summarize", "{empty}"], "is not a sweep's results folder"),
    ],
)
def test_bad_input_exits_2_with_one_message(reference_sweep, tmp_path, capsys, args, expected):
    spec, out, _ = reference_sweep
    (tmp_path / "empty").mkdir()
    fill = {
        "spec": str(spec),
        "missing": str(tmp_path / "none.yaml"),
        "reference": str(out),
        "empty": str(tmp_path / "empty"),
    }
    status = main(
        [a.format(**fill) for a in args]
        + (["--out", str(tmp_path / "o")] if "--out" not in args and args[0] == "sweep" else [])
    )
    err = capsys.readouterr().err
    assert status == 2
    assert expected in err and "Traceback" not in err and err.count("\n") == 1


def test_spec_errors_reach_the_python_api_as_spec_errors(tmp_path):
    spec = write_spec(tmp_path, replications=0)
    with pytest.raises(SpecError, match="replications: Input should be greater than or equal to 1"):
        run_sweep(spec, tmp_path / "x", progress=False)


def test_a_script_without_a_main_guard_gets_a_clear_error_not_a_hang(reference_sweep, tmp_path):
    """Workers start fresh and import the calling script; without `if __name__ == "__main__":`
    they cannot start, and the sweep says so at once instead of retrying runs forever."""
    spec, _, _ = reference_sweep
    script = tmp_path / "unguarded.py"
    script.write_text(
        "from experiments import run_sweep\n"
        f"run_sweep({str(spec)!r}, {str(tmp_path / 'out')!r}, workers=2, progress=False)\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "WorkersCannotStart: the worker processes could not start" in done.stderr
    assert 'if __name__ == "__main__":' in done.stderr
    assert not list((tmp_path / "out" / "runs").glob("*.parquet"))  # nothing recorded as failed


def _snapshot(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("command", ["run", "story"])
def test_run_or_story_into_a_sweep_folder_is_refused_and_touches_nothing(reference_sweep, capsys, command):
    spec, out, _ = reference_sweep
    before = _snapshot(out)
    scenario = str(spec.parent / "tiny.yaml")
    extra = ["--set", "governance.risk_clinic=periodic", "--alliance", "0"] if command == "story" else []
    assert main([command, scenario, *extra, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds the results of a sweep" in err and "give another folder" in err
    assert _snapshot(out) == before
    assert len(load_runs(out)) > 0  # the sweep still reads


def test_every_manifest_records_its_study(reference_sweep, tmp_path):
    spec, out, _ = reference_sweep
    assert json.loads((out / "manifest.json").read_text())["study"] == "sweep"
    assert main(["run", str(spec.parent / "tiny.yaml"), "--out", str(tmp_path / "one"), "--quiet"]) == 0
    assert json.loads((tmp_path / "one" / "manifest.json").read_text())["study"] == "run"
