"""Sweeps on a Dask cluster: the same results as a local run, a worker killed mid-sweep, a scheduler
that goes away and a rerun that resumes on a new one, and the command line's error paths.

The real-cluster tests start `dask scheduler` and `dask worker` processes of this virtualenv on
127.0.0.1 (each in its own process group, killed at the end whatever happens); the fast ones use an
in-process cluster or none at all.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml
from distributed import Client, KilledWorker, LocalCluster

import experiments.engine.cluster as cluster
from experiments import load_runs, run_sweep
from experiments.cli import main
from experiments.engine.runner import ClusterError, ClusterLost
from experiments.engine.spec import SpecError
from experiments.engine.store import completed_runs

ROOT = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).parent / "dask"
TINY = {"formation": {"n_alliances": 12}, "firms": {"count": 20}, "simulation": {"horizon_weeks": 104}}
POINTS = 4  # the spec's 2 x 2 grid
REPLICATIONS = 4
RUNS = POINTS * REPLICATIONS
STARTUP_TIMEOUT_S = 90
SWEEP_TIMEOUT_S = 180
POLL_S = 0.02
#: One process with one thread per `dask worker`, no dashboard, the project imported at start.
WORKER_OPTIONS = (
    "--nthreads", "1", "--nworkers", "1", "--no-dashboard", "--preload", "experiments.engine.runner"
)


def write_spec(folder: Path, replications: int = REPLICATIONS) -> Path:
    """A small grid experiment: meeting interval 2 or 8 weeks, in person or virtual."""
    (folder / "tiny.yaml").write_text(yaml.safe_dump({"name": "tiny", **TINY}))
    data = {
        "name": "tiny_cluster_sweep",
        "scenario": "tiny.yaml",
        "factors": {
            "governance.meeting_interval_weeks": {"levels": [2, 8]},
            "governance.meeting_mode": {"levels": ["in_person", "virtual"]},
        },
        "replications": replications,
        "seed": 5,
        "keep": {"outcomes": True, "timeseries_every_weeks": 13, "events": False},
    }
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def table_bytes(folder: Path, table: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / table).glob("*.parquet"))}


def comparable(runs: pd.DataFrame) -> pd.DataFrame:
    """A runs table without the one column that measures time."""
    return runs.drop(columns=["seconds"]).reset_index(drop=True)


def assert_same_results(folder: Path, reference: Path) -> None:
    """Same runs frame (but for timings) and the same bytes in every outcomes and timeseries file."""
    pd.testing.assert_frame_equal(comparable(load_runs(folder)), comparable(load_runs(reference)))
    for table in ("outcomes", "timeseries"):
        assert table_bytes(folder, table) == table_bytes(reference, table)


def runs_on_disk(folder: Path) -> int:
    return len(list((folder / "runs").glob("p*.parquet"))) if (folder / "runs").is_dir() else 0


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The spec run locally in this process: what every cluster run must reproduce."""
    folder = tmp_path_factory.mktemp("reference")
    spec = write_spec(folder)
    run_sweep(spec, folder / "local", workers=1, progress=False)
    return spec, folder / "local"


# --------------------------------------------------------------------------- real processes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def worker_environment() -> dict[str, str]:
    """The environment of the dask processes: the repository on PYTHONPATH, so workers import it."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


class LocalDask:
    """`dask scheduler` and `dask worker` processes on 127.0.0.1, each in its own process group."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.processes: list[subprocess.Popen] = []
        self.workers: dict[str, subprocess.Popen] = {}
        self.scheduler: subprocess.Popen | None = None

    def _spawn(self, arguments: list[str], log: str) -> subprocess.Popen:
        with open(self.folder / log, "ab") as output:  # the process's log, for a failing test
            process = subprocess.Popen(
                [str(DASK), *arguments],
                cwd=self.folder,
                env=worker_environment(),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)
        return process

    def start(self, workers: list[str]) -> tuple[str, Path]:
        """A scheduler on a free port and one single-threaded worker per name, all started at once
        (the workers find the scheduler through its file and preload the project while they wait).
        Returns the scheduler's address and file as soon as it is serving; the workers may still be
        starting. Every scheduler writes the same file, as on a cluster whose scheduler restarts."""
        file = self.folder / "scheduler.json"
        file.unlink(missing_ok=True)  # a killed scheduler leaves its file behind
        scheduler = ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
        self.scheduler = self._spawn([*scheduler, "--scheduler-file", str(file)], "scheduler.log")
        for name in workers:
            worker = ["worker", "--scheduler-file", str(file), "--name", name, *WORKER_OPTIONS]
            worker += ["--local-directory", str(self.folder / f"{name}-scratch")]
            self.workers[name] = self._spawn(worker, f"{name}.log")
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not file.exists():
            if self.scheduler.poll() is not None or time.monotonic() > deadline:
                log = (self.folder / "scheduler.log").read_text()
                pytest.fail(f"the dask scheduler did not start: {log}")
            time.sleep(POLL_S)
        return cluster.scheduler_address(file), file

    def kill(self, process: subprocess.Popen) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def close(self) -> None:
        for process in self.processes:
            self.kill(process)


@pytest.fixture
def local_dask(tmp_path):
    processes = LocalDask(tmp_path)
    try:
        yield processes
    finally:
        processes.close()


def cli_sweep(spec: Path, out: Path, scheduler: str | Path) -> subprocess.Popen:
    """`alliance-sim sweep SPEC --scheduler ...` in its own process group."""
    command = [sys.executable, "-m", "experiments.cli", "sweep", str(spec), "--out", str(out)]
    command += ["--quiet", "--scheduler", str(scheduler)]
    return subprocess.Popen(
        command, cwd=ROOT, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finished(process: subprocess.Popen) -> tuple[int, str]:
    """Exit status and stderr of a sweep process (killed if it overruns)."""
    try:
        _, err = process.communicate(timeout=SWEEP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        _, err = process.communicate()
        pytest.fail(f"the sweep did not finish: {err}")
    return process.returncode, err


def run_ids_of(keys: list[str]) -> set[str]:
    """The run ids in the task keys DaskExecutor gives its runs."""
    return {m.group(1) for key in keys if (m := re.match(r"alliance-run-(p\d+-r\d+)-", str(key)))}


def test_a_worker_killed_mid_sweep_loses_and_duplicates_nothing(reference, local_dask, tmp_path):
    spec, local = reference
    address, _ = local_dask.start(["victim", "survivor"])
    out = tmp_path / "out"
    with Client(address, timeout=STARTUP_TIMEOUT_S, set_as_default=False) as observer:
        observer.wait_for_workers(2, timeout=STARTUP_TIMEOUT_S)  # both share the work from the start
        victim = next(a for a, w in observer.scheduler_info()["workers"].items() if w["name"] == "victim")
        sweep = cli_sweep(spec, out, address)
        lost: set[str] = set()
        while not lost:  # kill the victim once runs are on disk and it holds runs of its own
            if sweep.poll() is not None:
                pytest.fail(f"the sweep ended before the worker could be killed: {sweep.stderr.read()}")
            if runs_on_disk(out) >= 2:
                lost = run_ids_of(observer.processing().get(victim, []))
            time.sleep(POLL_S)
        done_at_kill = runs_on_disk(out)
        local_dask.kill(local_dask.workers["victim"])
        status, err = finished(sweep)
        assert len(observer.scheduler_info()["workers"]) == 1
    assert status == 0, err
    assert done_at_kill < RUNS
    runs = load_runs(out)
    assert len(runs) == RUNS and runs["run_id"].is_unique and (runs["status"] == "ok").all()
    assert lost <= set(runs["run_id"])  # the victim's runs were rescheduled and completed
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["invocations"][-1]["runs_executed"] == RUNS  # each run recorded exactly once
    assert manifest["invocations"][-1]["executor"]["kind"] == "dask"
    assert_same_results(out, local)


def test_a_lost_scheduler_stops_the_sweep_and_a_new_one_resumes_it(reference, local_dask, tmp_path):
    spec, local = reference
    _, scheduler_file = local_dask.start(["first"])
    out = tmp_path / "out"
    sweep = cli_sweep(spec, out, scheduler_file)
    deadline = time.monotonic() + SWEEP_TIMEOUT_S
    while runs_on_disk(out) < 3:
        if sweep.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the sweep ended before its scheduler could be killed: {sweep.stderr.read()}")
        time.sleep(POLL_S)
    local_dask.kill(local_dask.scheduler)
    status, err = finished(sweep)
    assert status == 130, err
    assert "stopped, lost the connection to the Dask scheduler" in err
    assert "Traceback" not in err and "run the same command again" in err
    survivors = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (out / "runs").glob("p*.parquet")}
    assert 3 <= len(survivors) < RUNS
    local_dask.kill(local_dask.workers.pop("first"))

    local_dask.start(["second"])  # a new scheduler, which writes the same scheduler file
    status, err = finished(cli_sweep(spec, out, scheduler_file))  # the same command as before
    assert status == 0, err
    assert len(completed_runs(out)) == RUNS
    for name, stamp in survivors.items():  # the runs saved before the loss were not run again
        path = out / "runs" / name
        assert (path.stat().st_ino, path.stat().st_mtime_ns) == stamp
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["invocations"][-1]["runs_executed"] == RUNS - len(survivors)
    assert manifest["finished"] is not None
    assert_same_results(out, local)


def test_a_scheduler_that_cannot_import_the_task_is_one_clear_error(local_dask, tmp_path, monkeypatch):
    """A task of a module this process has but the cluster lacks: the scheduler cannot unpickle it."""
    client_only = tmp_path / "client-only"
    client_only.mkdir()
    (client_only / "only_here.py").write_text("def run(task):\n    return task\n")
    monkeypatch.syspath_prepend(str(client_only))
    import only_here

    address, _ = local_dask.start([])  # no worker is needed: the scheduler fails first
    executor = cluster.DaskExecutor.connect(address)
    try:
        future = executor.submit(only_here.run, SimpleNamespace(run_id="p000000-r00000"))
        assert executor.wait_any([future]) == {future}
        with pytest.raises(
            ClusterError, match=r"cannot import alliance-sim \(the Dask scheduler\).*pip install"
        ):
            future.result()
    finally:
        executor.shutdown()
    assert executor.client.status == "closed"  # a client it made is closed at shutdown


# --------------------------------------------------------------------------- in-process cluster


@pytest.fixture(scope="module")
def in_process_client():
    """A two-worker cluster in this process (threads): fast, and the same client API as a real one."""
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as dask,
        Client(dask, set_as_default=False) as client,
    ):
        yield client


def test_a_sweep_through_a_client_equals_the_local_one_and_resumes_across_executors(
    reference, in_process_client, tmp_path
):
    """A local sweep cut short (its later replications removed) is finished on the cluster."""
    spec, local = reference
    out = tmp_path / "mixed"
    shutil.copytree(local, out)
    for path in out.glob("*/p*-r0000[2-9].parquet"):
        path.unlink()
    kept = {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()}
    assert len(kept) == POINTS * 2
    runs = run_sweep(spec, out, client=in_process_client, progress=False)
    assert len(runs) == RUNS and runs["run_id"].is_unique
    assert {name: (out / "runs" / name).stat().st_mtime_ns for name in kept} == kept
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["invocations"][-1]["runs_executed"] == RUNS - len(kept)
    assert manifest["invocations"][-1]["executor"]["kind"] == "dask"
    assert manifest["invocations"][0]["executor"]["kind"] == "SerialExecutor"
    assert in_process_client.status == "running"  # a client we were given stays open
    assert_same_results(out, local)


def test_runs_in_flight_stay_bounded_by_the_cluster_size(reference, in_process_client, tmp_path):
    spec, _ = reference
    executor = cluster.DaskExecutor(in_process_client)
    assert executor.workers == 2  # two single-threaded workers
    peak = 0
    real_submit = executor.submit

    def counting_submit(fn, task):
        nonlocal peak
        future = real_submit(fn, task)
        peak = max(peak, len(executor._active))
        return future

    executor.submit = counting_submit
    runs = run_sweep(spec, tmp_path / "bounded", replications=2, executor=executor, progress=False)
    assert len(runs) == POINTS * 2
    assert 1 < peak <= 2 * 2 + 1
    assert not executor._active  # every result was taken and released


def test_only_a_killed_worker_is_a_worker_loss(in_process_client):
    """KilledWorker (a run that took down its workers) goes to drive's worker-loss handling; a lost
    scheduler and other errors do not."""
    executor = cluster.DaskExecutor(in_process_client)
    assert executor.is_worker_loss(KilledWorker("alliance-run-p000000-r00000", "tcp://10.0.0.9:1", 3))
    assert not executor.is_worker_loss(ClusterLost("lost the connection to the Dask scheduler"))
    assert not executor.is_worker_loss(RuntimeError("something else"))


# --------------------------------------------------------------------------- addresses and errors


def test_scheduler_addresses_and_files_are_read(tmp_path):
    assert cluster.scheduler_address("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    assert cluster.scheduler_address("head-node:8786") == "tcp://head-node:8786"
    file = tmp_path / "scheduler.json"
    file.write_text(json.dumps({"type": "Scheduler", "address": "tcp://10.0.0.7:40123"}))
    assert cluster.scheduler_address(file) == "tcp://10.0.0.7:40123"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not a scheduler address .* and no such scheduler file"),
        ("{not json", "cannot read it as a Dask scheduler file"),
        ('{"type": "Scheduler"}', "not a Dask scheduler file .it has no 'address'"),
    ],
)
def test_a_bad_scheduler_file_is_one_clear_error(reference, tmp_path, capsys, content, message):
    spec, _ = reference
    file = tmp_path / "scheduler.json"
    if content is not None:
        file.write_text(content)
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--quiet", "--scheduler", str(file)]) == 2
    err = capsys.readouterr().err
    assert re.search(f"alliance-sim: error: --scheduler .*{message}", err) and "Traceback" not in err
    assert not out.exists()


def test_an_unreachable_scheduler_is_one_clear_error(reference, tmp_path, capsys, monkeypatch):
    spec, _ = reference
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 0.5)
    address = f"tcp://127.0.0.1:{free_port()}"  # nobody listens there
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--quiet", "--scheduler", address]) == 2
    err = capsys.readouterr().err
    assert f"alliance-sim: error: cannot reach the Dask scheduler at {address} within 0.5 s" in err
    assert "Traceback" not in err and err.count("\n") == 1
    assert not out.exists()  # nothing is written before the cluster answers
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler"):
        run_sweep(spec, out, scheduler=address, progress=False)


def test_scheduler_and_workers_together_are_a_usage_error(reference, tmp_path, capsys):
    spec, _ = reference
    out = tmp_path / "out"
    argv = ["sweep", str(spec), "--out", str(out), "--scheduler", "tcp://127.0.0.1:8786", "--workers", "2"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "alliance-sim: error: --scheduler and --workers cannot be used together" in err
    assert not out.exists()
    with pytest.raises(SpecError, match="give one of workers, executor, client and scheduler, not workers"):
        run_sweep(spec, out, workers=2, scheduler="tcp://127.0.0.1:8786", progress=False)
