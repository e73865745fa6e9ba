"""Running many simulation runs: the task a worker executes, the executors, and the driving loop.

* `RunTask` is everything one run needs (scenario, seed, what to keep); `execute_run(task)` runs
  it in a worker and returns a `RunResult` whose tables are already parquet bytes, so the parent
  only writes files. A run that raises is returned as failed with its traceback: it never stops
  the others.
* Executors share one small interface (`submit`, `wait_any`, `restart`, `shutdown`,
  `is_worker_loss`): `SerialExecutor` runs tasks in this process, `LocalPoolExecutor` in a pool of
  worker processes; `experiments.engine.cluster.DaskExecutor` on a dask.distributed cluster.
* `drive(tasks, executor, on_result)` keeps a bounded number of runs in flight (memory stays flat
  however many runs there are) and hands each result to `on_result` as it arrives. When a worker
  process dies, the runs it may have been running are retried one at a time, so the run that
  kills its worker is found and recorded as failed, and the innocent ones complete.

A run's result depends only on its task, never on which worker ran it or when, so any number of
workers gives the same bytes.
"""

from __future__ import annotations

import io
import math
import multiprocessing
import os
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from experiments.engine.metrics import describe_point
from experiments.engine.orphans import exit_with_parent
from experiments.engine.outputs import COLUMN_TYPES, to_arrow
from experiments.engine.spec import KeepSpec
from sim import AllianceModel, Scenario

#: Metric columns of a run row, in order, with their Arrow types (null for a failed run).
METRIC_TYPES: dict[str, pa.DataType] = {
    "weeks_simulated": pa.int64(),
    "alliances": pa.int64(),
    "decided": pa.int64(),
    "successes": pa.int64(),
    "failures": pa.int64(),
    "restructured": pa.int64(),
    "censored": pa.int64(),
    "success_rate": pa.float64(),
    "success_ci_low": pa.float64(),
    "success_ci_high": pa.float64(),
    "mean_duration_weeks": pa.float64(),
    "median_duration_weeks": pa.float64(),
    # failures_<reason> columns are added from sim.REASONS below
    "mean_value_realized": pa.float64(),
    "mean_final_trust": pa.float64(),
    "mean_governance_cost": pa.float64(),
    "mean_net_value": pa.float64(),
}
ID_COLUMNS = ("run_id", "point_id", "replication")


def _metric_types() -> dict[str, pa.DataType]:
    from sim import REASONS

    types = dict(METRIC_TYPES)
    tail = {
        k: types.pop(k)
        for k in ("mean_value_realized", "mean_final_trust", "mean_governance_cost", "mean_net_value")
    }
    types.update({f"failures_{reason}": pa.int64() for reason in REASONS})
    types.update(tail)
    return types


METRIC_TYPES = _metric_types()


@dataclass(frozen=True)
class RunTask:
    """One run of an experiment: which design point and replication, its scenario, seed and keep."""

    run_id: str
    point_id: int
    replication: int
    seed: int
    scenario: Scenario = field(repr=False)
    factors: Mapping[str, Any]
    keep: KeepSpec


@dataclass(frozen=True)
class RunResult:
    """What a worker sends back: status, the run row's values and the tables as parquet bytes.

    `files` maps a table name (runs, outcomes, timeseries, events) to its parquet bytes; `runs`
    (one row) is always present, the others when kept and the run succeeded.
    """

    run_id: str
    point_id: int
    replication: int
    status: str  # "ok" or "failed"
    error: str
    seconds: float
    success_rate: float
    files: Mapping[str, bytes] = field(repr=False)


def execute_run(task: RunTask) -> RunResult:
    """Run one simulation and package its results; never raises for a failing simulation."""
    started = time.perf_counter()
    files: dict[str, bytes] = {}
    try:
        model = AllianceModel(task.scenario, rng=task.seed).run()
        outcomes = model.outcomes()
        metrics = describe_point(outcomes)
        metrics["weeks_simulated"] = int(model.week)
        if task.keep.outcomes:
            files["outcomes"] = _table_bytes(task, outcomes, "outcomes")
        if task.keep.timeseries_every_weeks:
            files["timeseries"] = _table_bytes(task, model.timeseries(), "timeseries")
        if task.keep.events:
            files["events"] = _table_bytes(task, model.events(), "events")
        status, error = "ok", ""
    except Exception:  # a failing run is recorded with its traceback; the sweep goes on
        metrics, status, error = {}, "failed", traceback.format_exc()
        files.clear()
    seconds = time.perf_counter() - started
    files["runs"] = run_row_bytes(task, status, error, seconds, metrics)
    rate = metrics.get("success_rate", math.nan)
    return RunResult(task.run_id, task.point_id, task.replication, status, error, seconds, rate, files)


def failed_result(task: RunTask, error: str) -> RunResult:
    """A failed result for a run that never came back from its worker."""
    files = {"runs": run_row_bytes(task, "failed", error, math.nan, {})}
    return RunResult(task.run_id, task.point_id, task.replication, "failed", error, math.nan, math.nan, files)


def run_row_bytes(
    task: RunTask, status: str, error: str, seconds: float, metrics: Mapping[str, Any]
) -> bytes:
    """The run's one-row table (ids, seed, factor values, status, metrics) as parquet bytes."""
    columns: dict[str, pa.Array] = {
        "run_id": pa.array([task.run_id], pa.string()),
        "point_id": pa.array([task.point_id], pa.int64()),
        "replication": pa.array([task.replication], pa.int64()),
        "seed": pa.array([task.seed], pa.int64()),
    }
    for name, value in task.factors.items():
        columns[name] = pa.array([value])
    columns["status"] = pa.array([status], pa.string())
    columns["error"] = pa.array([error], pa.string())
    columns["seconds"] = pa.array([seconds], pa.float64())
    for name, kind in METRIC_TYPES.items():
        value = metrics.get(name)
        if value is not None and kind == pa.float64() and math.isnan(value):
            value = None
        columns[name] = pa.array([value], kind)
    return _parquet_bytes(pa.table(columns))


def _table_bytes(task: RunTask, frame: pd.DataFrame, name: str) -> bytes:
    """One of the run's tables with its ids in front, as parquet bytes."""
    table = to_arrow(frame, COLUMN_TYPES[name])
    ids = [
        pa.array([task.run_id] * len(frame), pa.string()),
        pa.array([task.point_id] * len(frame), pa.int64()),
        pa.array([task.replication] * len(frame), pa.int64()),
    ]
    for position, (column, values) in enumerate(zip(ID_COLUMNS, ids)):
        table = table.add_column(position, column, values)
    return _parquet_bytes(table)


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


# --------------------------------------------------------------------------- executors


class Executor(Protocol):
    """Where runs execute. `submit` returns a future-like object with `.result()`."""

    workers: int

    def submit(self, fn: Callable[[RunTask], RunResult], task: RunTask) -> Any: ...

    def wait_any(self, futures: Iterable[Any]) -> set[Any]:
        """Block until at least one of `futures` is done; return the done ones."""
        ...

    def is_worker_loss(self, exc: BaseException) -> bool:
        """Whether `exc` (raised by a future's result) means the worker died, not the run."""
        ...

    def restart(self) -> None:
        """Make the executor usable again after a worker loss."""
        ...

    def shutdown(self, cancel: bool = False) -> None: ...


class SerialExecutor:
    """Runs each task in this process as soon as it is submitted (workers = 1)."""

    workers = 1

    def submit(self, fn: Callable[[RunTask], RunResult], task: RunTask) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(task))
        except Exception as exc:  # execute_run catches simulation errors; this is anything else
            future.set_exception(exc)
        return future

    def wait_any(self, futures: Iterable[Future]) -> set[Future]:
        return {f for f in futures if f.done()}

    def is_worker_loss(self, exc: BaseException) -> bool:
        return False

    def restart(self) -> None:
        pass

    def shutdown(self, cancel: bool = False) -> None:
        pass


class ClusterError(RuntimeError):
    """A cluster that cannot run the sweep (an unreachable scheduler, workers that cannot import
    the project); the message says what to do. See `experiments.engine.cluster`."""


class ClusterLost(ClusterError):
    """The cluster went away mid-sweep (its scheduler stopped); completed runs are on disk."""


class WorkersCannotStart(RuntimeError):
    """The worker processes die before they can run anything."""


WORKERS_CANNOT_START = (
    "the worker processes could not start. If you call run_sweep from a script, put the call under "
    '`if __name__ == "__main__":` (workers start fresh and import your script; see the Python '
    "multiprocessing docs, 'Safe importing of main module'), or pass workers=1"
)


def _ready() -> bool:
    """A task that does nothing: a worker that returns it has started."""
    return True


class LocalPoolExecutor:
    """A pool of `workers` processes on this machine (concurrent.futures, 'spawn' start method,
    so workers start clean whatever threads the parent has, on every platform). The pool is
    checked when it starts: if its workers die before running anything, WorkersCannotStart."""

    def __init__(self, workers: int):
        self.workers = workers
        self._context = multiprocessing.get_context("spawn")
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=self._context,
            initializer=exit_with_parent,  # a worker ends when this process dies (engine.orphans)
            initargs=(os.getpid(),),
        )
        try:
            pool.submit(_ready).result()
        except BrokenProcessPool:
            pool.shutdown(wait=False, cancel_futures=True)
            raise WorkersCannotStart(WORKERS_CANNOT_START) from None
        return pool

    def submit(self, fn: Callable[[RunTask], RunResult], task: RunTask) -> Future:
        return self._pool.submit(fn, task)

    def wait_any(self, futures: Iterable[Future]) -> set[Future]:
        done, _ = wait(list(futures), return_when=FIRST_COMPLETED)
        return set(done)

    def is_worker_loss(self, exc: BaseException) -> bool:
        return isinstance(exc, BrokenProcessPool)

    def restart(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()

    def shutdown(self, cancel: bool = False) -> None:
        if cancel:
            for process in list(getattr(self._pool, "_processes", {}).values()):
                process.terminate()  # runs in flight are lost anyway; do not wait for them
        self._pool.shutdown(wait=True, cancel_futures=cancel)


def default_workers() -> int:
    """All the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def make_executor(workers: int | None) -> Executor:
    """SerialExecutor for one worker, else a LocalPoolExecutor (default: every core)."""
    count = default_workers() if workers is None else workers
    return SerialExecutor() if count == 1 else LocalPoolExecutor(count)


# --------------------------------------------------------------------------- the driving loop


WORKER_LOST = (
    "the worker process running this run died (killed, out of memory or crashed) twice, the second "
    "time running it alone; it is recorded as failed so the sweep can go on"
)


def drive(
    tasks: Iterable[RunTask],
    executor: Executor,
    on_result: Callable[[RunResult], None],
    *,
    in_flight: int | None = None,
) -> None:
    """Execute `tasks` on `executor`, calling `on_result` with each result as it completes.

    At most `in_flight` runs (default 2 per worker + 1) are submitted at a time, so memory does not
    grow with the number of tasks. If a worker dies, every run that was in flight is retried,
    alone; a run whose worker dies again while it runs alone is recorded as failed. Exceptions
    from `on_result` (and KeyboardInterrupt) propagate after cancelling what is queued.
    """
    source: Iterator[RunTask] = iter(tasks)
    retry: deque[RunTask] = deque()  # runs in flight when a worker died, to rerun one at a time
    isolated: set[str] = set()  # run ids being retried alone
    pending: dict[Any, RunTask] = {}
    try:
        while True:
            limit = in_flight or 2 * executor.workers + 1  # read each time: a cluster may grow
            alone = bool(retry) or any(t.run_id in isolated for t in pending.values())
            while len(pending) < (1 if alone else limit):
                task = retry.popleft() if retry else next(source, None)
                if task is None:
                    break
                pending[executor.submit(execute_run, task)] = task
            if not pending:
                return
            for future in executor.wait_any(pending):
                task = pending.pop(future)
                try:
                    result = future.result()
                except BaseException as exc:
                    if not executor.is_worker_loss(exc):
                        raise
                    lost = [task, *pending.values()]
                    pending.clear()  # every other run in flight went down with the pool
                    executor.restart()
                    if len(lost) == 1 and task.run_id in isolated:
                        isolated.discard(task.run_id)
                        on_result(failed_result(task, WORKER_LOST))
                    else:
                        retry.extend(lost)
                        isolated.update(t.run_id for t in lost)
                    break
                isolated.discard(task.run_id)
                on_result(result)
    except BaseException:
        executor.shutdown(cancel=True)
        raise
