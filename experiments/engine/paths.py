"""Paths a command writes to: checked before use, and filesystem errors turned into one message.

* `check_out_path(path, option)` refuses, before anything is written, an output path that cannot
  work: bytes that are not UTF-8 (the manifest records the path as text), a name longer than the
  filesystem allows, a dangling symbolic link.
* `check_inside(folder, names)` refuses a results folder whose subfolders (runs/, outcomes/, ...)
  are symbolic links: the files of a results folder are never read or written outside it.
* `describe_os_error(exc)` is the one line a filesystem error becomes: the path and the reason
  (no space left on device, read-only file system, file name too long, ...).

Problems raise `PathProblem` (a ValueError); the store and the command line turn it into exit 2.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


class PathProblem(ValueError):
    """A path that cannot be used; the message names it and says why."""


def shown(path: str | Path) -> str:
    """`path` as text that can be printed, undecodable bytes as \\xNN."""
    raw = os.fsencode(os.fspath(path))
    return raw.decode("utf-8", "backslashreplace")


def check_out_path(path: str | Path, option: str = "--out") -> None:
    """PathProblem if `path` cannot be an output folder (see the module docstring)."""
    path = Path(path)
    try:
        os.fspath(path).encode("utf-8")
    except UnicodeEncodeError:
        raise PathProblem(
            f"{option} {shown(path)}: the path has bytes that are not UTF-8 text; the results record "
            "their path, so give a folder whose name is text"
        ) from None
    limit = _name_max(path)
    for part in path.parts:
        if len(os.fsencode(part)) > limit:
            raise PathProblem(
                f"{option} {shown(path)}: the name '{shown(part)[:40]}...' has {len(os.fsencode(part))} "
                f"bytes, more than the {limit} a file name may have here"
            )
    if path.is_symlink() and not path.exists():
        raise PathProblem(
            f"{option} {shown(path)} is a symbolic link to {shown(os.readlink(path))}, which does not "
            "exist; create the folder it points to or give another --out"
        )


def _name_max(path: Path) -> int:
    probe = path
    while True:
        try:
            return int(os.pathconf(probe if str(probe) else ".", "PC_NAME_MAX"))
        except (OSError, ValueError):
            if probe == probe.parent:
                return 255
            probe = probe.parent


def check_inside(folder: str | Path, names: Iterable[str]) -> None:
    """PathProblem if one of `folder`'s subfolders `names` is a symbolic link (or not a folder)."""
    folder = Path(folder)
    for name in names:
        sub = folder / name
        if sub.is_symlink():
            raise PathProblem(
                f"{shown(sub)} is a symbolic link (to {shown(os.readlink(sub))}); the subfolders of a "
                "results folder must be real folders inside it, so nothing is read or written "
                "elsewhere. Replace the link by a folder"
            )
        if sub.exists() and not sub.is_dir():
            raise PathProblem(f"{shown(sub)} is a file; in a results folder it must be a folder")


def describe_os_error(exc: OSError, doing: str = "cannot write") -> str:
    """One line for a filesystem error: what could not be done, to which path, and why."""
    where = exc.filename2 or exc.filename
    reason = exc.strerror or str(exc)
    return f"{doing} {shown(where)}: {reason}" if where else f"{doing}: {reason}"
