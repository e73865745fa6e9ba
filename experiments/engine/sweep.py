"""Parameter sweeps: every design point of an experiment, replicated, into a resumable results store.

    from experiments import run_sweep, load_runs, load_outcomes, summarize
    runs = run_sweep("configs/experiments/meeting_frequency.yaml", "results/meeting_frequency")
    summary = summarize("results/meeting_frequency")   # one row per design point; writes summary.csv

`run_sweep` runs what the folder does not hold yet (all of it the first time), writing each run
as it completes, and returns the runs table. Run it again after an interruption and it finishes
the rest; with `retry_failed` it reruns the runs that failed. See `experiments.engine.store` for the
folder's layout and `experiments.engine.runner` for how runs are executed.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from experiments.engine.paths import describe_os_error, shown
from experiments.engine.runner import (
    ClusterError,
    ClusterLost,
    Executor,
    RunResult,
    RunTask,
    drive,
    make_executor,
)
from experiments.engine.spec import ResolvedExperiment, SpecError, load_spec, run_id
from experiments.engine.store import (
    SUMMARY,
    ResultsStore,
    StoreError,
    read_table,
    require_experiment_folder,
)


class SweepInterrupted(Exception):
    """The sweep was stopped (Ctrl-C, or its cluster went away); what completed is on disk and a
    rerun finishes the rest. `reason` says what stopped it."""

    def __init__(self, folder: Path, done: int, total: int, reason: str = "interrupted"):
        super().__init__(
            f"{reason}: {done} of {total} runs are saved in {folder}; run the same command again "
            "to finish the rest"
        )
        self.done, self.total, self.reason = done, total, reason


def run_sweep(
    spec: str | Path | ResolvedExperiment,
    out: str | Path,
    *,
    workers: int | None = None,
    replications: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    retry_failed: bool = False,
    progress: bool = True,
    executor: Executor | None = None,
    client: Any = None,
    scheduler: str | Path | None = None,
    command: Sequence[str] | None = None,
    study: str = "sweep",
    title: str = "a sweep",
    finish: Callable[[Path], Any] | None = None,
) -> pd.DataFrame:
    """Run the experiment `spec` into folder `out` and return its runs table (`load_runs`).

    Args:
        spec: a spec file or an already resolved experiment.
        out: the results folder; created if missing, resumed if it holds this experiment.
        workers: worker processes (default: every core; 1 runs in this process).
        replications: replaces the spec's replications (more than the folder has extends it).
        overrides: base-scenario values by dotted path, fixed across the design (the CLI's --set).
        retry_failed: rerun the runs recorded as failed (otherwise they are kept as they are).
        progress: show a progress bar on stderr.
        executor: where to run (default: `make_executor(workers)`).
        client: a `distributed.Client`: run on its Dask cluster (see `experiments.engine.cluster`); the
            client stays open.
        scheduler: a Dask scheduler's address (tcp://HOST:PORT) or scheduler file: connect to it,
            run there and disconnect at the end. Results are identical to a local run's.
        command: the command line recorded in the manifest (default: sys.argv).
        study, title: the study the folder is claimed for, and what it is in words (see
            `experiments.engine.store.claim`): a comparison, a stress test, ... run their arms here.
        finish: called with the folder when runs were added (or the summary is missing): the
            sweep study writes its summary.csv (`experiments.studies.sweep.run_sweep`).

    Raises SpecError or StoreError for input that cannot be used, ClusterError for a cluster that
    cannot be reached or used, SweepInterrupted on Ctrl-C or when the cluster's scheduler goes away.
    """
    experiment = (
        spec
        if isinstance(spec, ResolvedExperiment)
        else load_spec(spec, replications=replications, scenario_overrides=overrides)
    )
    if isinstance(spec, ResolvedExperiment) and (replications is not None or overrides):
        raise SpecError("replications and overrides apply to a spec file; resolve them into the experiment")
    if workers is not None and workers < 1:
        raise SpecError(f"--workers must be a positive integer, got {workers}")
    check_executor_choice(workers, executor, client, scheduler)
    # connect before opening the folder: nothing is written if the cluster cannot be reached
    on_cluster = None if client is None and scheduler is None else cluster_executor(client, scheduler)
    try:
        return _run(
            experiment,
            Path(out),
            executor or on_cluster,
            workers,
            retry_failed,
            progress,
            command,
            study,
            title,
            finish,
        )
    finally:
        if on_cluster is not None:
            on_cluster.shutdown()


def check_executor_choice(workers: int | None, executor: Any, client: Any, scheduler: Any) -> None:
    """At most one of workers, executor, client and scheduler says where the runs execute."""
    given = [
        name
        for name, value in (("workers", workers), ("executor", executor), ("client", client))
        if value is not None
    ]
    if scheduler is not None:
        given.append("scheduler")
    if len(given) > 1:
        raise SpecError(
            f"give one of workers, executor, client and scheduler, not {' and '.join(given)}: on a "
            "cluster the scheduler's workers run the sweep (start more with `dask worker`)"
        )


def cluster_executor(client: Any, scheduler: str | Path | None) -> Executor:
    """A DaskExecutor on `client`, or on a new client of `scheduler` (closed at shutdown)."""
    from experiments.engine.cluster import DaskExecutor

    return DaskExecutor(client) if client is not None else DaskExecutor.connect(scheduler)


def _run(
    experiment: ResolvedExperiment,
    folder: Path,
    executor: Executor | None,
    workers: int | None,
    retry_failed: bool,
    progress: bool,
    command: Sequence[str] | None,
    study: str = "sweep",
    title: str = "a sweep",
    finish: Callable[[Path], Any] | None = None,
) -> pd.DataFrame:
    """The body of run_sweep: open the store, run what it lacks, close it, summarise. Without an
    `executor` it makes one for `workers` and shuts it down at the end."""
    command = list(sys.argv if command is None else command)
    store = ResultsStore.open(folder, experiment, command, study, title)
    try:
        return _run_in(store, experiment, folder, executor, workers, retry_failed, progress, finish)
    finally:
        store.close()


def _run_in(
    store: ResultsStore,
    experiment: ResolvedExperiment,
    folder: Path,
    executor: Executor | None,
    workers: int | None,
    retry_failed: bool,
    progress: bool,
    finish: Callable[[Path], Any] | None,
) -> pd.DataFrame:
    """_run with the store open (and locked)."""
    done = store.completed()
    skip = {rid for rid, status in done.items() if status == "ok" or not retry_failed}
    counts = Counter(status for rid, status in done.items() if rid in skip)
    todo = sum(1 for p, r in experiment.runs() if run_id(p, r) not in skip)
    bar = tqdm(
        total=experiment.n_runs,
        initial=len(skip),
        unit="run",
        desc=experiment.spec.name,
        disable=not progress or todo == 0,
        dynamic_ncols=True,
        file=sys.stderr,
    )

    def record(result: RunResult) -> None:
        store.write(result)
        counts[result.status] += 1
        bar.update(1)
        if counts["failed"]:
            bar.set_postfix(failed=counts["failed"], refresh=False)

    owned = executor is None
    executor = executor or make_executor(workers)
    store.manifest["invocations"][-1]["executor"] = describe_executor(executor)
    try:
        drive(pending_tasks(experiment, skip), executor, record)
    except (KeyboardInterrupt, ClusterLost) as exc:
        bar.close()
        store.finish(dict(counts))
        reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"stopped, {exc}"
        raise SweepInterrupted(folder, sum(counts.values()), experiment.n_runs, reason) from None
    except ClusterError:
        bar.close()
        store.finish(dict(counts))
        raise
    except OSError as exc:  # a full or read-only disk: what is written stays, a rerun resumes
        bar.close()
        with contextlib.suppress(OSError):
            store.finish(dict(counts))
        raise StoreError(
            f"{describe_os_error(exc)}; {sum(counts.values())} of {experiment.n_runs} runs are saved in "
            f"{shown(folder)}: make room (or make it writable) and run the same command again to finish"
        ) from None
    finally:
        bar.close()
        if owned:
            executor.shutdown()
    store.finish(dict(counts))
    if finish is not None and (todo or not (folder / SUMMARY).exists()):
        finish(folder)
    return load_runs(folder)


def describe_executor(executor: Executor) -> dict[str, Any]:
    """Where the runs of an invocation executed, for its manifest entry."""
    describe = getattr(executor, "describe", None)
    if callable(describe):
        return describe()
    return {"kind": type(executor).__name__, "workers": executor.workers}


def _importing_script_in_a_worker() -> bool:
    """Whether this is a worker process of a pool, importing the user's script as __mp_main__."""
    main = sys.modules.get("__main__")
    return multiprocessing.parent_process() is not None and getattr(main, "__name__", "") == "__mp_main__"


def pending_tasks(experiment: ResolvedExperiment, skip: set[str]) -> Iterator[RunTask]:
    """The tasks of every run not in `skip`, replication-major (made lazily: memory stays flat)."""
    keep = experiment.spec.keep
    factors = experiment.factor_names
    values = experiment.points[factors].to_dict("records")
    for point_id, replication in experiment.runs():
        rid = run_id(point_id, replication)
        if rid in skip:
            continue
        yield RunTask(
            run_id=rid,
            point_id=point_id,
            replication=replication,
            seed=experiment.run_seed(point_id, replication),
            scenario=experiment.scenarios[point_id],
            factors=values[point_id],
            keep=keep,
        )


# --------------------------------------------------------------------------- reading results


def load_runs(folder: str | Path) -> pd.DataFrame:
    """One row per complete run: run_id, point_id, replication, seed, a column per factor (its
    dotted path), status ("ok" or "failed"), error, seconds, success_rate and the other metrics."""
    require_experiment_folder(folder)
    return read_table(folder, "runs")


def load_outcomes(folder: str | Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per alliance per complete run (run_id, point_id, replication, then the columns of
    `AllianceModel.outcomes()`); empty if the experiment did not keep outcomes."""
    require_experiment_folder(folder)
    return read_table(folder, "outcomes", columns)


def load_timeseries(folder: str | Path) -> pd.DataFrame:
    """One row per recorded week per complete run; empty if the experiment kept no time series."""
    require_experiment_folder(folder)
    return read_table(folder, "timeseries")


def load_events(folder: str | Path) -> pd.DataFrame:
    """The event log of every complete run; empty if the experiment did not keep events."""
    require_experiment_folder(folder)
    return read_table(folder, "events")
