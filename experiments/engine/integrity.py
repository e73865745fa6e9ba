"""Checking a results folder's run files, and moving the bad ones aside to DIR/quarantine/.

A run file can be damaged after it was written (a disk error, a copy cut short, a hand edit): it
is then truncated, not parquet at all, of another schema or of another run. Writers check every
run file when they open a folder (`quarantine_bad_files`): a bad file is moved to
`DIR/quarantine/<table>/` with a line in `DIR/quarantine/notes.txt` saying what was wrong, and
the run's row in `runs/` is moved with it, so the run counts as not done and the sweep redoes it.
Readers (`read_files`) skip a bad file and report it instead of failing.

A check reads each file's footer and its id columns (all of a row file): a file cut short has no
footer, so truncation is always found.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from experiments.engine.provenance import now

QUARANTINE = "quarantine"
NOTES = "notes.txt"
ID_COLUMNS = ("run_id", "point_id", "replication")
RUN_ROW_COLUMNS = (*ID_COLUMNS, "seed", "status")
RUN_FILE = re.compile(r"^p(\d{6})-r(\d{5})\.parquet$")


def check_run_file(path: Path, table: str) -> str | None:
    """What is wrong with the run file `path` of `table` (runs, outcomes, ...), or None if it is sound."""
    match = RUN_FILE.match(path.name)
    if match is None:
        return "not named like a run file"
    if path.is_symlink():
        return "a symbolic link (a results folder's files are never followed out of it)"
    if not path.is_file():
        return "not a regular file"
    run_id = path.name[: -len(".parquet")]
    try:
        schema = pq.read_schema(path)
        names = schema.names
        if table == "runs":
            missing = [c for c in RUN_ROW_COLUMNS if c not in names]
            if missing:
                return f"not a run row: no column {', '.join(missing)}"
            ids = pq.read_table(path, columns=list(RUN_ROW_COLUMNS))
            if ids.num_rows != 1:
                return f"a run row file with {ids.num_rows} rows"
        else:
            if tuple(names[:3]) != ID_COLUMNS:
                return f"columns start {names[:3]}, not {list(ID_COLUMNS)}"
            ids = pq.read_table(path, columns=list(ID_COLUMNS))
    except (pa.ArrowException, OSError, ValueError) as exc:
        return f"unreadable ({_short(exc)})"
    point, replication = int(match.group(1)), int(match.group(2))
    found = set(ids.column("run_id").to_pylist())
    if found - {run_id}:
        return f"holds run {sorted(map(str, found - {run_id}))[0]}, not {run_id}"
    if set(ids.column("point_id").to_pylist()) - {point} or set(ids.column("replication").to_pylist()) - {
        replication
    }:
        return f"point_id or replication do not match {run_id}"
    return None


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] + ("..." if len(text) > 200 else "")


def quarantine(folder: Path, path: Path, reason: str) -> Path:
    """Move `path` (a file in a table folder of `folder`) to quarantine/<table>/ and note why."""
    target_dir = folder / QUARANTINE / path.parent.name
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / path.name
    n = 1
    while os.path.lexists(target):
        target = target_dir / f"{path.name}.{n}"
        n += 1
    os.replace(path, target)
    line = f"{now()}\t{path.parent.name}/{path.name}\t{reason}\t-> {target.relative_to(folder)}\n"
    with open(folder / QUARANTINE / NOTES, "a", encoding="utf-8", errors="backslashreplace") as notes:
        notes.write(line)
    return target


def quarantine_bad_files(folder: Path, tables: Sequence[str]) -> list[str]:
    """Check every run file of `folder` (runs/ and `tables`); quarantine the bad ones and, with a bad
    table, the run's row too, so the run is redone. Returns 'table/file: reason' for each."""
    moved: list[str] = []
    rows = folder / "runs"
    for table in ("runs", *tables):
        sub = folder / table
        if not sub.is_dir():
            continue
        for path in sorted(sub.iterdir()):
            if path.name.startswith("."):
                continue  # hidden temporary files are removed separately
            reason = check_run_file(path, table)
            if reason is None:
                continue
            row = rows / path.name
            if table != "runs" and os.path.lexists(row):  # the row first: a kill in between leaves
                # a run that is not done (and is redone), never a done run without its table
                quarantine(folder, row, f"its {table} file was bad ({reason}); the run is redone")
                moved.append(f"runs/{path.name}: moved with its {table} file")
            quarantine(folder, path, reason)
            moved.append(f"{table}/{path.name}: {reason}")
    return moved


def read_files(
    files: Iterable[Path], columns: Sequence[str] | None, table: str
) -> tuple[list[pa.Table], list[str]]:
    """Each file read as a table (`columns` only), and 'table/file: reason' for those that could not be."""
    tables, bad = [], []
    for path in files:
        reason = check_run_file(path, table)
        if reason is None:
            try:
                tables.append(pq.read_table(path, columns=list(columns) if columns else None))
                continue
            except (pa.ArrowException, OSError, ValueError) as exc:
                reason = f"unreadable ({_short(exc)})"
        bad.append(f"{table}/{path.name}: {reason}")
    return tables, bad
