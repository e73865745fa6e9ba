"""Sweeps on a Dask cluster: `DaskExecutor` runs the engine's tasks on `dask.distributed` workers.

    alliance-sim sweep SPEC --scheduler tcp://head-node:8786        # or --scheduler scheduler.json
    run_sweep(spec, out, client=Client("tcp://head-node:8786"))   # the Python API

`DaskExecutor` implements the executor interface of `experiments.engine.runner` (submit, wait_any,
is_worker_loss, restart, shutdown), so a sweep on a cluster goes through the same `drive` loop and
the same results store as one on the local process pool: a bounded number of runs in flight, each
result written atomically as it arrives, resumable after any interruption.

Where results go: the workers return each run's result (its tables as parquet bytes, tens of
kilobytes) to the client, and the client writes them to the results folder exactly as it does
locally. No shared filesystem is needed, the store has a single writer, and the bytes are the
same as a local run's, because `execute_run` depends only on its task.

Faults: when a worker dies, the scheduler reruns its tasks elsewhere; the client holds one future
per run and takes its result once, so nothing is lost or recorded twice. A run that kills every
worker it lands on ends as `KilledWorker`, which `drive` treats as a worker loss (rerun alone, then
recorded as failed). When the scheduler goes away, the futures are cancelled and `ClusterLost`
stops the sweep; the completed runs stay on disk and the same command resumes on a new scheduler.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError
from pathlib import Path
from typing import Any

from distributed import Client, Future, KilledWorker
from distributed import __version__ as distributed_version
from distributed.comm.core import CommClosedError

from experiments.engine.runner import ClusterError, ClusterLost, RunResult, RunTask

#: Seconds to wait for the scheduler when connecting, before giving up with a clear message.
CONNECT_TIMEOUT_S = 10.0
#: Seconds between two looks at the cluster's size (it may grow or shrink during a sweep).
WORKER_COUNT_REFRESH_S = 5.0
#: Seconds `wait_any` waits for a result before checking that the scheduler is still there.
POLL_S = 1.0
#: An address without a protocol: HOST:PORT (a host name, an IPv4 address or a bracketed IPv6 one).
HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:]+\]|[\w.-]+):\d+$")
DOCS = "docs/how-to/run-sweeps-on-a-cluster.md"
#: The reason distributed gives for the futures it cancels when the scheduler connection drops.
SCHEDULER_LOST = "scheduler-connection-lost"
CLIENT_LOGGER = "distributed.client"
#: How the scheduler reports a task it cannot unpickle (it imports the task's modules to read it).
DESERIALIZATION_FAILED = "Error during deserialization of the task graph"


@contextlib.contextmanager
def _silenced(name: str) -> Iterator[None]:
    """Turn off one logger for the duration of a block."""
    logger = logging.getLogger(name)
    was = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = was


def scheduler_address(scheduler: str | Path) -> str:
    """The address of a scheduler given as tcp://HOST:PORT, HOST:PORT or a scheduler file.

    A scheduler file is the JSON that `dask scheduler --scheduler-file FILE` writes; its
    "address" is used. ClusterError if `scheduler` is none of these.
    """
    text = str(scheduler)
    if "://" in text:
        return text
    path = Path(text)
    if path.is_file():
        return _address_in_file(path)
    if HOST_PORT.match(text):
        return f"tcp://{text}"
    raise ClusterError(
        f"--scheduler {text}: not a scheduler address (tcp://HOST:PORT) and no such scheduler file "
        "(the file `dask scheduler --scheduler-file FILE` writes)"
    )


def _address_in_file(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ClusterError(f"--scheduler {path}: cannot read it as a Dask scheduler file ({exc})") from None
    address = info.get("address") if isinstance(info, dict) else None
    if not isinstance(address, str) or not address:
        raise ClusterError(
            f"--scheduler {path}: not a Dask scheduler file (it has no 'address'); give the file "
            "`dask scheduler --scheduler-file FILE` writes, or the address tcp://HOST:PORT"
        )
    return address


def connect(scheduler: str | Path, timeout: float | None = None) -> Client:
    """A client of the scheduler (an address or a scheduler file); ClusterError if unreachable."""
    address = scheduler_address(scheduler)
    seconds = CONNECT_TIMEOUT_S if timeout is None else timeout
    try:
        return Client(address, timeout=seconds, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address} within {seconds:g} s ({exc}); start it with "
            "`dask scheduler` (and workers with `dask worker ADDRESS`) or check the address"
        ) from None


class ClusterFuture:
    """A run submitted to the cluster: `result()` returns its RunResult, or raises ClusterLost if
    the scheduler went away and ClusterError if the scheduler or a worker cannot import the project
    (both unpickle the task, so both need it installed)."""

    def __init__(self, future: Future, executor: DaskExecutor):
        self.future = future
        self._executor = executor

    def done(self) -> bool:
        return self.future.done()

    def result(self) -> RunResult:
        try:
            return self.future.result()
        except (CancelledError, CommClosedError) as exc:
            raise ClusterLost(self._executor.lost_message(exc)) from None
        except ImportError as exc:
            raise ClusterError(self._executor.environment_message(f"a Dask worker: {exc}")) from None
        except RuntimeError as exc:
            if DESERIALIZATION_FAILED not in str(exc):
                raise
            raise ClusterError(self._executor.environment_message("the Dask scheduler")) from None
        finally:
            self._executor.forget(self)


class DaskExecutor:
    """The engine's executor on a dask.distributed cluster (see the module docstring).

    Give it a connected `distributed.Client`, or use `DaskExecutor.connect(scheduler)`, which owns
    the client it makes and closes it on shutdown. `workers` is the cluster's thread count (at
    least 1), looked at again every few seconds, so the runs in flight follow the cluster's size.
    """

    def __init__(self, client: Client, *, owns_client: bool = False):
        self.client = client
        self.owns_client = owns_client
        self.address = str(client.scheduler.address) if client.scheduler else "unknown"
        self._token = uuid.uuid4().hex[:12]  # keys are unique per submission: a retry is a new task
        self._submitted = 0
        self._active: dict[str, ClusterFuture] = {}
        self._finished = threading.Event()
        self._threads = 1
        self._counted_at = -float("inf")

    @classmethod
    def connect(cls, scheduler: str | Path, timeout: float | None = None) -> DaskExecutor:
        return cls(connect(scheduler, timeout), owns_client=True)

    @property
    def workers(self) -> int:
        now = time.monotonic()
        if now - self._counted_at >= WORKER_COUNT_REFRESH_S and self.client.status == "running":
            info = self.client.scheduler_info(n_workers=0)
            self._threads = max(1, int(info.get("total_threads", 0)))
            self._counted_at = now
        return self._threads

    def describe(self) -> dict[str, Any]:
        """What the manifest records about where the runs executed."""
        return {
            "kind": "dask",
            "scheduler": self.address,
            "threads_at_start": self.workers,
            "distributed": distributed_version,
        }

    def submit(self, fn: Callable[[RunTask], RunResult], task: RunTask) -> ClusterFuture:
        if self.client.status != "running":
            raise ClusterLost(self.lost_message(None))
        self._submitted += 1
        key = f"alliance-run-{task.run_id}-{self._token}-{self._submitted}"
        future = ClusterFuture(self.client.submit(fn, task, key=key), self)
        self._active[key] = future
        future.future.add_done_callback(lambda _: self._finished.set())
        return future

    def wait_any(self, futures: Iterable[ClusterFuture]) -> set[ClusterFuture]:
        wanted = list(futures)
        while True:
            self._finished.clear()
            done = {future for future in wanted if future.done()}
            if done:
                return done
            if self.client.status != "running":
                raise ClusterLost(self.lost_message(None))
            self._finished.wait(POLL_S)

    def is_worker_loss(self, exc: BaseException) -> bool:
        return isinstance(exc, KilledWorker)

    def restart(self) -> None:
        """After a worker loss `drive` reruns the runs in flight itself: release the old ones."""
        self._cancel_active()

    def shutdown(self, cancel: bool = False) -> None:
        if cancel:
            self._cancel_active()
        self._active.clear()
        if self.owns_client and self.client.status not in ("closing", "closed"):
            lost = self.client.status != "running"
            # closing a client that is reconnecting makes distributed log the cancelled reconnection
            # as an error with its traceback; the sweep has already said what happened
            with _silenced(CLIENT_LOGGER) if lost else contextlib.nullcontext():
                try:
                    self.client.close(timeout=CONNECT_TIMEOUT_S)
                except (OSError, TimeoutError):
                    pass  # the scheduler is gone; nothing left to tell it

    def forget(self, future: ClusterFuture) -> None:
        """Drop a future whose result was taken, so its data is released on the cluster."""
        self._active.pop(future.future.key, None)

    def lost_message(self, exc: BaseException | None) -> str:
        """Why the sweep cannot go on: the scheduler went away, or the cluster cancelled its runs."""
        reason = getattr(exc, "reason", SCHEDULER_LOST)
        if reason != SCHEDULER_LOST and not isinstance(exc, CommClosedError):
            return f"the Dask cluster at {self.address} cancelled the sweep's runs (reason: {reason})"
        return f"lost the connection to the Dask scheduler at {self.address}"

    def environment_message(self, where: str) -> str:
        """What to do when the cluster cannot import the project (`where` says who could not)."""
        return (
            f"the cluster at {self.address} cannot import alliance-sim ({where}); the scheduler and "
            "every worker need this checkout installed (pip install -e . or its wheel, with the same "
            f"Python and package versions), see {DOCS}"
        )

    def _cancel_active(self) -> None:
        futures = [future.future for future in self._active.values()]
        self._active.clear()
        if futures and self.client.status == "running":
            try:
                self.client.cancel(futures)
            except (OSError, TimeoutError):
                pass  # the scheduler is gone: the futures are cancelled already
