"""Provenance: what a result folder records about how it was made, and atomic file writes.

`provenance(scenario, seed, command)` gathers the versions, commit, seed, resolved scenario and
command line that re-create a run; `alliance-sim run` stores it in `manifest.json`.
`atomic_write` and `write_json_atomic` write a file so that it is either the old one or the
complete new one, never half-written, even if the process dies midway.
"""

from __future__ import annotations

import json
import math
import os
import platform
import secrets
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, BinaryIO

import sim
from sim import Scenario

DISTRIBUTION = "alliance-sim"
PACKAGES = ("mesa", "numpy", "scipy", "pandas", "pyarrow", "pydantic", "pyyaml", "SALib", "tqdm")
GIT_TIMEOUT_SECONDS = 10


def package_version(name: str) -> str | None:
    """Installed version of distribution `name`, or None if it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _git(folder: Path, *args: str) -> str | None:
    """Standard output of `git ARGS` run in `folder`; None if git is missing or fails."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
            timeout=GIT_TIMEOUT_SECONDS,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def git_state(folder: Path) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the git checkout whose tracked files include `folder`.

    `dirty` is True when the checkout has uncommitted changes or untracked files. Both are None
    when git is missing or `folder` is not tracked by a checkout (for instance an installed copy
    inside some other repository's ignored virtualenv).
    """
    if _git(folder, "ls-files", "--error-unmatch", "--", ".") is None:
        return None, None
    commit = _git(folder, "rev-parse", "HEAD")
    status = _git(folder, "status", "--porcelain")
    if commit is None or status is None:
        return None, None
    return commit, bool(status)


def environment() -> dict[str, Any]:
    """The software a result was made with: versions of Python, the packages and alliance-sim,
    the platform, the git commit and whether the checkout had uncommitted changes."""
    commit, dirty = git_state(Path(sim.__file__).resolve().parent)
    return {
        "alliance_sim_version": package_version(DISTRIBUTION),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {name: package_version(name) for name in PACKAGES},
        "git_commit": commit,
        "git_dirty": dirty,
    }


def now() -> str:
    """The current time in UTC, ISO 8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def provenance(scenario: Scenario, seed: int, command: Sequence[str] | None = None) -> dict[str, Any]:
    """Everything needed to re-create a run: versions, commit, seed, scenario and command line.

    Args:
        scenario: the resolved scenario (every default filled in).
        seed: the integer seed the run used.
        command: the command line as a list of words; defaults to `sys.argv`.
    """
    env = environment()
    return {
        "alliance_sim_version": env.pop("alliance_sim_version"),
        "created": now(),
        **env,
        "seed": int(seed),
        "scenario": scenario.model_dump(mode="json"),
        "command": list(sys.argv if command is None else command),
    }


@contextmanager
def atomic_write(path: str | Path) -> Iterator[BinaryIO]:
    """Open a new temporary file next to `path` for binary writing; on success it becomes `path`.

    The temporary file is in the same folder, so the final `os.replace` is a single rename, and is
    flushed to disk before it: readers see the old file or the complete new one. If the block
    raises, the temporary file is removed and `path` is left untouched.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with open(tmp, "xb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass  # a read-only or vanished folder: nothing to clean up, and the first error is the one
        if isinstance(exc, OSError) and exc.filename2 is None and exc.filename in (None, str(tmp)):
            # name the file being written, not its hidden temporary (a full disk fails in write())
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
        raise


def json_ready(obj: Any) -> Any:
    """`obj` with NaN and infinite floats replaced by None, since JSON has no such numbers."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {key: json_ready(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(value) for value in obj]
    return obj


def write_json_atomic(path: str | Path, obj: Any) -> None:
    """Write `obj` as indented JSON to `path` atomically (see `atomic_write`); NaN becomes null."""
    text = json.dumps(json_ready(obj), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    with atomic_write(path) as handle:
        # a string with undecodable bytes (a path given on the command line) is kept as JSON escapes
        handle.write(text.encode("utf-8", "backslashreplace"))
