"""Throughput of the experiment engine: runs per second, parallel efficiency, overhead and memory.

    .venv/bin/python benchmarks/bench_sweep.py            # about 3-4 minutes on 2 cores
    .venv/bin/python benchmarks/bench_sweep.py --quick    # a smoke check, under a minute
    .venv/bin/python benchmarks/bench_sweep.py --json benchmarks/sweep.json

What it measures, each in the same process and session so that the ratios cancel the machine's load:

* **Runs per second** of a sweep of the baseline scenario with 1 worker (in this process) and with N
  workers (the local process pool, N = every core by default), written to a fresh results folder each
  time, from `run_sweep` being called to its return (spec resolution, scheduling, writing every run's
  parquet files, the final summary: everything a user waits for).
* **Parallel efficiency** = (runs/s with N workers) / (N x runs/s with 1 worker). Target >= 0.85 on
  2 cores.
* **The machine's own scaling**: N processes running the bare model at once (no engine), each
  run's speed against one process alone. On N independent cores it is 1; where the cores share a
  physical core or memory bandwidth, or other work competes, it is less, and no engine can do
  better. The efficiency is shown also divided by it (the engine's share of the loss).
* **Fixed costs per sweep**, shown apart: starting the pool (spawning N workers that import the
  model) and writing summary.csv at the end. They do not grow with the number of runs, so the
  sweeps here are 200 runs long, about the size of the smallest ready experiment; a shorter sweep
  shows a lower efficiency only because these seconds weigh more.
* **Overhead per run** beyond the simulation itself = (wall time x workers) / (sum of the runs'
  simulation seconds, as the workers measured them) - 1: the share of the workers' time not spent
  inside `AllianceModel(...).run()` and its tables. Target < 10%.
* **Peak memory** of a sweep of 2,000 runs against one of 200 (a tiny scenario, so that the count of
  runs, not their size, is what grows), each in a fresh child process reporting its own peak resident
  set size. Results stream to disk, so the ratio should be about 1 (flat). Target <= 1.2.

Speeds are ratios to a yardstick measured in the same run (the 1-worker rate), because absolute speeds
on these machines swing with whatever else runs. The exit status is 0 whatever the numbers; missed
targets are printed as FAIL.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments.engine.provenance import environment  # noqa: E402
from experiments.engine.runner import default_workers  # noqa: E402
from experiments.engine.spec import ExperimentSpec, KeepSpec, resolve_spec  # noqa: E402
from experiments.engine.sweep import run_sweep  # noqa: E402

BASELINE = ROOT / "configs" / "baseline.yaml"
EFFICIENCY_TARGET = 0.85
OVERHEAD_TARGET = 0.10
MEMORY_RATIO_TARGET = 1.2
#: A tiny scenario for the memory test: the number of runs grows, not their size.
TINY = {"formation.n_alliances": 6, "firms.count": 12}


def experiment(replications: int, *, overrides: dict | None = None, points: int = 2):
    """A grid sweep of `points` meeting intervals x `replications` on the baseline (what users run)."""
    spec = ExperimentSpec(
        name="bench_sweep",
        scenario="-",
        factors={"governance.meeting_interval_weeks": {"levels": [2, 4, 8, 13][:points]}},
        design={"kind": "grid"},
        replications=replications,
        seed=20261203,
        keep=KeepSpec(outcomes=True, timeseries_every_weeks=0, events=False),
    )
    return resolve_spec(spec, BASELINE, scenario_overrides=overrides or {})


def bare_model_seconds(seed: int) -> float:
    """One baseline run with no engine around it (no store, no tables): the machine's own speed."""
    from sim import AllianceModel, load_scenario

    scenario = load_scenario(BASELINE)
    started = time.perf_counter()
    AllianceModel(scenario, rng=seed).run()
    return time.perf_counter() - started


def machine_scaling(runs_each: int, workers: int) -> float:
    """How much faster N processes run bare model runs than one does: N x (per-run time alone) /
    (per-run time while N run at once). 1.0 on N truly independent cores; less when the cores
    share something (a host's hyperthreads, memory bandwidth, other load). The engine cannot
    beat this, so its parallel efficiency is also shown relative to it."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        list(pool.map(bare_model_seconds, range(workers)))  # start and warm every worker
        alone = float(np.median([bare_model_seconds(seed) for seed in range(runs_each)]))
        together = list(pool.map(bare_model_seconds, range(runs_each * workers)))
    return alone / float(np.median(together))


def timed_sweep(replications: int, workers: int) -> dict:
    """One sweep into a fresh folder: wall seconds, runs, and the workers' simulation seconds."""
    resolved = experiment(replications)
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as folder:
        started = time.perf_counter()
        runs = run_sweep(resolved, folder, workers=workers, progress=False, command=["bench_sweep"])
        wall = time.perf_counter() - started
    if (runs["status"] != "ok").any():
        raise SystemExit("a benchmark run failed; fix the model before measuring it")
    simulated = float(runs["seconds"].sum())
    return {
        "workers": workers,
        "runs": int(len(runs)),
        "wall_s": wall,
        "simulation_s": simulated,
        "runs_per_s": len(runs) / wall,
        "overhead": wall * workers / simulated - 1,
    }


def pool_startup_seconds(workers: int) -> float:
    """Seconds from creating the local pool to every worker having run a task (imports included)."""
    from experiments.engine.runner import LocalPoolExecutor

    started = time.perf_counter()
    pool = LocalPoolExecutor(workers)
    futures = [pool.submit(worker_pid, index) for index in range(workers * 8)]
    pids = {future.result() for future in futures}
    elapsed = time.perf_counter() - started
    pool.shutdown()
    return elapsed if len(pids) == workers else float("nan")


def worker_pid(index: int) -> int:
    """A task that sleeps a moment and names its worker, so that every worker gets one."""
    time.sleep(0.4)
    return os.getpid()


def summary_seconds(replications: int) -> float:
    """Seconds `write_summary` (summary.csv, which `run_sweep` writes at the end) takes for a sweep
    of 2 points x this many replications."""
    from experiments.studies.sweep import write_summary

    resolved = experiment(replications, overrides=TINY)
    with tempfile.TemporaryDirectory(prefix="bench-summary-") as folder:
        run_sweep(resolved, folder, workers=1, progress=False, command=["bench_sweep"])
        started = time.perf_counter()
        write_summary(folder)
        return time.perf_counter() - started


def peak_memory_child(runs: int) -> dict:
    """Peak RSS (MiB) of a fresh process running a sweep of `runs` tiny runs with 1 worker."""
    code = (
        "import json, resource, sys, tempfile, time\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from benchmarks.bench_sweep import experiment, TINY\n"
        "from experiments.engine.sweep import run_sweep\n"
        f"resolved = experiment({runs // 2}, overrides=TINY)\n"
        "with tempfile.TemporaryDirectory(prefix='bench-mem-') as folder:\n"
        "    t = time.perf_counter()\n"
        "    done = run_sweep(resolved, folder, workers=1, progress=False, command=['bench_sweep'])\n"
        "    wall = time.perf_counter() - t\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps({'runs': int(len(done)), 'peak_mib': peak, 'wall_s': wall}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs: a smoke check")
    parser.add_argument("--workers", type=int, default=default_workers(), help="pool size (default: cores)")
    parser.add_argument("--json", type=Path, help="also write every number to this file")
    args = parser.parse_args()
    per_point = 8 if args.quick else 100  # 2 points x this many replications per sweep
    memory_sizes = (100, 400) if args.quick else (200, 2000)

    print(f"Sweep throughput: 2 design points x {per_point} replications of {BASELINE.name}")
    experiment(1)  # warm imports and the scenario cache outside the timings
    rounds = []
    for round_number in range(1 if args.quick else 2):  # interleaved, so load drift hits both alike
        serial = timed_sweep(per_point, 1)
        pool = timed_sweep(per_point, args.workers)
        rounds.append({"serial": serial, "pool": pool})
        print(
            f"  round {round_number + 1}: 1 worker {serial['runs_per_s']:.2f} runs/s "
            f"(overhead {serial['overhead']:+.1%}); {args.workers} workers {pool['runs_per_s']:.2f} "
            f"runs/s (overhead {pool['overhead']:+.1%})"
        )
    scaling = machine_scaling(4 if args.quick else 10, args.workers)
    print(f"  the machine: {args.workers} bare runs at once each go at {scaling:.2f} x the speed of one")
    startup = pool_startup_seconds(args.workers)
    summary_s = summary_seconds(per_point)
    print(f"  fixed costs: starting {args.workers} workers {startup:.2f} s; summary.csv {summary_s:.2f} s")
    serial_rate = max(r["serial"]["runs_per_s"] for r in rounds)
    pool_rate = max(r["pool"]["runs_per_s"] for r in rounds)
    efficiency = pool_rate / (args.workers * serial_rate)
    overhead = min(r["pool"]["overhead"] for r in rounds)
    serial_overhead = min(r["serial"]["overhead"] for r in rounds)

    small, big = memory_sizes
    print(f"Peak memory: sweeps of {small} and {big} tiny runs, each in a fresh process")
    memory = {n: peak_memory_child(n) for n in memory_sizes}
    for m in memory.values():
        print(f"  {m['runs']:5d} runs: peak {m['peak_mib']:.0f} MiB ({m['runs'] / m['wall_s']:.1f} runs/s)")
    memory_ratio = memory[memory_sizes[1]]["peak_mib"] / memory[memory_sizes[0]]["peak_mib"]

    print()
    print(f"{'measure':46s} {'value':>10s}  {'target':>10s}  result")
    rows = [
        ("runs/s, 1 worker (the yardstick)", f"{serial_rate:.2f}", "", ""),
        (f"runs/s, {args.workers} workers", f"{pool_rate:.2f}", "", ""),
        (
            f"parallel efficiency on {args.workers} workers",
            f"{efficiency:.2f}",
            f">= {EFFICIENCY_TARGET}",
            verdict(efficiency >= EFFICIENCY_TARGET),
        ),
        (
            "  the same relative to the machine's own scaling",
            f"{efficiency / scaling:.2f}",
            f">= {EFFICIENCY_TARGET}",
            verdict(efficiency / scaling >= EFFICIENCY_TARGET),
        ),
        (
            f"overhead per run, {args.workers} workers",
            f"{overhead:.1%}",
            f"< {OVERHEAD_TARGET:.0%}",
            verdict(overhead < OVERHEAD_TARGET),
        ),
        (
            "overhead per run, 1 worker",
            f"{serial_overhead:.1%}",
            f"< {OVERHEAD_TARGET:.0%}",
            verdict(serial_overhead < OVERHEAD_TARGET),
        ),
        (
            f"peak memory, {memory_sizes[1]} runs / {memory_sizes[0]} runs",
            f"{memory_ratio:.2f}",
            f"<= {MEMORY_RATIO_TARGET}",
            verdict(memory_ratio <= MEMORY_RATIO_TARGET),
        ),
    ]
    for row in rows:
        print(f"{row[0]:46s} {row[1]:>10s}  {row[2]:>10s}  {row[3]}")
    if args.workers > (os.cpu_count() or 1):
        print(f"note: {args.workers} workers on {os.cpu_count()} cores; efficiency cannot reach 1")
    if args.json:
        record = {
            "environment": environment(),
            "rounds": rounds,
            "memory": {str(k): v for k, v in memory.items()},
            "efficiency": efficiency,
            "overhead_pool": overhead,
            "overhead_serial": serial_overhead,
            "pool_startup_s": startup,
            "machine_scaling": scaling,
            "summary_s": summary_s,
            "memory_ratio": memory_ratio,
            "self_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
        args.json.write_text(json.dumps(record, indent=2, default=str) + "\n")
        print(f"Every number: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
