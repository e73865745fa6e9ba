"""Worker processes that do not outlive their parent.

A pool's workers wait on a pipe from the parent; if the parent is killed (SIGKILL, the OOM killer),
nothing tells them, and each goes on holding its memory. `exit_with_parent(parent_pid)` runs in
every worker as it starts (the pool's initializer): a daemon thread checks every `POLL_SECONDS`
whether `parent_pid` is still its parent and ends the worker at once when it is not (it has been
re-parented to init or a subreaper). The resource tracker then sees its pipe close and exits too.

Linux's prctl(PR_SET_PDEATHSIG) is not used: it fires when the parent *thread* that started the
worker ends, which for a pool is whichever thread happened to submit work, not the process.
"""

from __future__ import annotations

import os
import threading
import time

POLL_SECONDS = 0.5


def exit_with_parent(parent_pid: int) -> None:
    """End this process soon after `parent_pid` (its parent) dies; call it as the worker starts."""
    if os.getppid() != parent_pid:  # the parent died before the worker got here
        os._exit(1)
    watchdog = threading.Thread(target=_watch, args=(parent_pid,), name="exit-with-parent", daemon=True)
    watchdog.start()


def _watch(parent_pid: int) -> None:
    while True:
        time.sleep(POLL_SECONDS)
        if os.getppid() != parent_pid:
            os._exit(1)
