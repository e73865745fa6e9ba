"""The writer's lock on a results folder: one command writes a folder at a time.

`FolderLock(folder, command).acquire()` takes an exclusive `flock` on `DIR/.lock` and writes the
holder's process id, command line and start time into it. The lock belongs to the open file, so
the operating system releases it when the process ends however it ends (SIGKILL included): a lock
is never stale, whatever the file still says. The holder removes the file when it is done (a killed
holder leaves it, unlocked, and the next writer takes it). A second writer is refused with `FolderLocked`,
whose message names the process that holds the lock. Readers (`summarize`, `load_runs`) do not
take it.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from experiments.engine.provenance import now

LOCK_FILE = ".lock"


class FolderLocked(Exception):
    """The folder is being written by another process (or its lock file is unusable); the message
    names the process."""


class FolderLock:
    """An exclusive, process-lifetime lock on a results folder (see the module docstring)."""

    def __init__(self, folder: str | Path, command: list[str] | None = None):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self.command = list(command or [])
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> FolderLock:
        """Take the lock (the folder must exist); FolderLocked if another process holds it."""
        if self._fd is not None:
            return self
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        while True:
            try:
                fd = os.open(self.path, flags, 0o644)
            except OSError as exc:
                if os.path.islink(self.path):
                    raise FolderLocked(
                        f"{self.path} is a symbolic link; a results folder's lock file must be a file"
                    ) from None
                raise exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _describe_holder(fd)
                os.close(fd)
                raise FolderLocked(
                    f"{self.folder} is being written by {holder}; wait for it to finish (or stop it) "
                    "and run the command again, or give another folder with --out"
                ) from None
            except OSError:
                os.close(fd)
                raise
            # the holder before us removes the file before it unlocks: if the path is gone or is
            # another file now, this lock is on a file no one else will look at; take the new one
            if _same_file(fd, self.path):
                break
            os.close(fd)
        self._fd = fd
        record = {"pid": os.getpid(), "command": self.command, "started": now()}
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(record) + "\n").encode("utf-8", "backslashreplace"), 0)
        except OSError:
            pass  # a full disk: the lock holds all the same, only the note about it is missing
        return self

    def release(self) -> None:
        """Remove the lock file and give the lock up (a killed process leaves the file, which
        means nothing: no one holds a lock on it)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            if _same_file(fd, self.path):
                os.unlink(self.path)  # while still locked, so no one takes the old file meanwhile
        except OSError:
            pass  # a read-only folder: the file stays, unlocked
        finally:
            os.close(fd)  # releases the lock

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)


def _describe_holder(fd: int) -> str:
    """'process 1234 (alliance-sim sweep ..., since ...)' from the lock file, as far as it says."""
    try:
        record = json.loads(os.pread(fd, 65536, 0).decode("utf-8", "replace") or "{}")
    except (OSError, ValueError):
        record = {}
    pid = record.get("pid") if isinstance(record, dict) else None
    if not isinstance(pid, int):
        return "another process"
    command = " ".join(str(word) for word in record.get("command") or [])[:200]
    since = record.get("started")
    detail = ", ".join(part for part in (command, f"since {since}" if since else "") if part)
    return f"process {pid}" + (f" ({detail})" if detail else "")
