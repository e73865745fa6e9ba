"""Sweeps on a Dask cluster against the local process pool: runs per second and overhead per run.

    .venv/bin/python benchmarks/bench_cluster.py            # about 1.5-3 minutes on 2 cores
    .venv/bin/python benchmarks/bench_cluster.py --quick    # a smoke check, under a minute
    .venv/bin/python benchmarks/bench_cluster.py --json benchmarks/cluster.json

The benchmark starts its own `dask scheduler` and `dask worker` processes on 127.0.0.1 (one thread
each, the project preloaded), and measures in one session, on the same spec (a grid of two meeting
intervals on the baseline scenario, outcomes kept):

* **Runs per second** with 1 worker: in this process (`workers=1`, the local default for one
  worker) and through the cluster with one `dask worker`; then with 2 workers: the local pool
  (`workers=2`) and the cluster with two `dask worker`s. Each sweep writes a fresh results folder,
  from `run_sweep` being called to its return. The executors are started and warmed up before the
  timings (the pool's processes spawned, the workers' imports done), so the rates compare
  throughput, not start-up; the start-up times are printed on their own.
* **Ratio to the local pool** = cluster runs/s / local runs/s with the same number of workers,
  measured in interleaved rounds, so load drift on this noisy machine hits both alike. The
  headline is the median ratio of the rounds.
* **Overhead per run** beyond the simulation = wall seconds x workers / the runs' simulation
  seconds (as the workers measured them) - 1, and the same in milliseconds per run. The
  simulation seconds per run are printed too: on one machine a cluster worker shares the cores
  with the scheduler and the client, so its runs themselves take longer, which the overhead
  (time outside the runs) does not show but the ratio does.

On one machine the cluster cannot beat the pool (same cores, plus a scheduler and TCP in between):
the ratio says what the cluster path costs, which a real cluster repays with more cores. The exit
status is 0 whatever the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from distributed import Client  # noqa: E402

from experiments.engine.cluster import DaskExecutor  # noqa: E402
from experiments.engine.provenance import environment  # noqa: E402
from experiments.engine.runner import Executor, LocalPoolExecutor, SerialExecutor  # noqa: E402
from experiments.engine.spec import ExperimentSpec, KeepSpec, resolve_spec  # noqa: E402
from experiments.engine.sweep import run_sweep  # noqa: E402

BASELINE = ROOT / "configs" / "baseline.yaml"
DASK = Path(sys.executable).parent / "dask"
STARTUP_TIMEOUT_S = 120
WARM_UP_REPLICATIONS = 2
WORKER_OPTIONS = (
    "--nthreads", "1", "--nworkers", "1", "--no-dashboard", "--preload", "experiments.engine.runner"
)


def experiment(replications: int):
    """Two meeting intervals x `replications` on the baseline scenario."""
    spec = ExperimentSpec(
        name="bench_cluster",
        scenario="-",
        factors={"governance.meeting_interval_weeks": {"levels": [2, 8]}},
        design={"kind": "grid"},
        replications=replications,
        seed=20261203,
        keep=KeepSpec(outcomes=True, timeseries_every_weeks=0, events=False),
    )
    return resolve_spec(spec, BASELINE)


def timed_sweep(replications: int, executor: Executor, workers: int, label: str) -> dict:
    """One sweep on `executor` into a fresh folder: wall seconds, rate and overhead."""
    resolved = experiment(replications)
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as folder:
        started = time.perf_counter()
        runs = run_sweep(resolved, folder, executor=executor, progress=False, command=["bench_cluster"])
        wall = time.perf_counter() - started
    if (runs["status"] != "ok").any():
        raise SystemExit("a benchmark run failed; fix the model before measuring it")
    simulated = float(runs["seconds"].sum())
    return {
        "label": label,
        "workers": workers,
        "runs": int(len(runs)),
        "wall_s": wall,
        "simulation_s": simulated,
        "runs_per_s": len(runs) / wall,
        "overhead": wall * workers / simulated - 1,
        "overhead_ms_per_run": (wall * workers - simulated) / len(runs) * 1000,
        "simulation_s_per_run": simulated / len(runs),
    }


class LocalDask:
    """A dask scheduler and workers on 127.0.0.1, each in its own process group."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.processes: list[subprocess.Popen] = []
        self.file = folder / "scheduler.json"

    def _spawn(self, arguments: list[str], log: str) -> None:
        path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        with open(self.folder / log, "ab") as output:
            self.processes.append(
                subprocess.Popen(
                    [str(DASK), *arguments],
                    cwd=self.folder,
                    env={**os.environ, "PYTHONPATH": path},
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    def start_scheduler(self) -> str:
        self._spawn(
            [
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(self.file),
            ],
            "scheduler.log",
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self.file.exists():
            if time.monotonic() > deadline:
                raise SystemExit(f"the dask scheduler did not start; see {self.folder / 'scheduler.log'}")
            time.sleep(0.05)
        return json.loads(self.file.read_text())["address"]

    def add_worker(self, name: str) -> None:
        worker = ["worker", "--scheduler-file", str(self.file), "--name", name, *WORKER_OPTIONS]
        self._spawn([*worker, "--local-directory", str(self.folder / f"{name}-scratch")], f"{name}.log")

    def close(self) -> None:
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=30)


def wait_for_workers(client: Client, count: int, started: float) -> float:
    """Wait until `count` workers are connected; seconds since `started`."""
    client.wait_for_workers(count, timeout=STARTUP_TIMEOUT_S)
    return time.perf_counter() - started


def compare(label: str, local: Executor, cluster: Executor, workers: int, replications: int, rounds: int):
    """Interleaved rounds of the local executor and the cluster; one row of numbers per round."""
    for executor in (local, cluster):  # untimed warm-up: imports, caches, first-run costs
        timed_sweep(WARM_UP_REPLICATIONS, executor, workers, "warm-up")
    results = []
    for number in range(rounds):
        order = [("local", local), ("cluster", cluster)]
        if number % 2:
            order.reverse()  # alternate which goes first
        row = {name: timed_sweep(replications, executor, workers, name) for name, executor in order}
        row["ratio"] = row["cluster"]["runs_per_s"] / row["local"]["runs_per_s"]
        results.append(row)
        print(
            f"  {label} round {number + 1}: local {row['local']['runs_per_s']:.2f} runs/s, cluster "
            f"{row['cluster']['runs_per_s']:.2f} runs/s, ratio {row['ratio']:.2f}; overhead local "
            f"{row['local']['overhead']:+.1%}, cluster {row['cluster']['overhead']:+.1%} "
            f"({row['cluster']['overhead_ms_per_run']:.0f} ms/run); simulation s/run local "
            f"{row['local']['simulation_s_per_run']:.3f}, "
            f"cluster {row['cluster']['simulation_s_per_run']:.3f}",
            flush=True,
        )
    return results


def summary_rows(label: str, results: list[dict]) -> list[tuple[str, str]]:
    """Median of the rounds for one worker count."""

    def median(kind: str, key: str) -> float:
        return statistics.median(row[kind][key] for row in results)

    return [
        (f"{label}: local runs/s", f"{median('local', 'runs_per_s'):.2f}"),
        (f"{label}: cluster runs/s", f"{median('cluster', 'runs_per_s'):.2f}"),
        (
            f"{label}: cluster / local (median of rounds)",
            f"{statistics.median(r['ratio'] for r in results):.2f}",
        ),
        (f"{label}: simulation s per run, local", f"{median('local', 'simulation_s_per_run'):.3f}"),
        (f"{label}: simulation s per run, cluster", f"{median('cluster', 'simulation_s_per_run'):.3f}"),
        (f"{label}: overhead per run, local", f"{median('local', 'overhead'):+.1%}"),
        (f"{label}: overhead per run, cluster", f"{median('cluster', 'overhead'):+.1%}"),
        (
            f"{label}: extra ms per run, cluster - local",
            f"{median('cluster', 'overhead_ms_per_run') - median('local', 'overhead_ms_per_run'):+.0f}",
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and rounds: a smoke check")
    parser.add_argument("--json", type=Path, help="also write every number to this file")
    args = parser.parse_args()
    replications = 4 if args.quick else 10  # 2 points x this many per timed sweep
    rounds = 1 if args.quick else 3

    print(f"Sweeps of 2 design points x {replications} replications of {BASELINE.name}", flush=True)
    experiment(1)  # warm the scenario cache outside the timings
    folder = Path(tempfile.mkdtemp(prefix="bench-cluster-dask-"))
    dask = LocalDask(folder)
    serial = SerialExecutor()
    pool = None
    try:
        started = time.perf_counter()
        address = dask.start_scheduler()
        dask.add_worker("worker-1")
        client = Client(address, timeout=STARTUP_TIMEOUT_S, set_as_default=False)
        startup = {"scheduler_and_first_worker_s": wait_for_workers(client, 1, started)}
        cluster = DaskExecutor(client)
        one = compare("1 worker", serial, cluster, 1, replications, rounds)

        started = time.perf_counter()
        dask.add_worker("worker-2")
        startup["second_worker_s"] = wait_for_workers(client, 2, started)
        started = time.perf_counter()
        pool = LocalPoolExecutor(2)
        startup["local_pool_of_2_s"] = time.perf_counter() - started
        two = compare("2 workers", pool, cluster, 2, replications, rounds)
        client.close()
    finally:
        if pool is not None:
            pool.shutdown()
        dask.close()
        shutil.rmtree(folder, ignore_errors=True)

    print()
    rows = summary_rows("1 worker", one) + summary_rows("2 workers", two)
    rows += [
        (f"start-up: {name.removesuffix('_s').replace('_', ' ')} (s)", f"{value:.1f}")
        for name, value in startup.items()
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'measure':{width}s}  {'value':>8s}")
    for name, value in rows:
        print(f"{name:{width}s}  {value:>8s}")
    print("Speeds swing with the load on this machine; compare the ratios, measured in the same rounds.")
    if args.json:
        record = {"environment": environment(), "one_worker": one, "two_workers": two, "startup": startup}
        args.json.write_text(json.dumps(record, indent=2, default=str) + "\n")
        print(f"Every number: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
