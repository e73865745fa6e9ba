"""The results store: one folder per experiment, written as runs complete, safe to resume.

    DIR/
      manifest.json          kind, fingerprint, the experiment as resolved, seeds, software and
                             every invocation (command, start, finish, runs executed)
      spec.yaml              the spec as resolved (replications included)
      points.parquet         the design points (point_id, one column per factor)
      runs/<run_id>.parquet  one row per run: ids, seed, factor values, status, error, metrics
      outcomes/<run_id>.parquet    one row per alliance (if kept)
      timeseries/<run_id>.parquet  one row per recorded week (if kept)
      events/<run_id>.parquet      the event log (if kept)
      summary.csv            one row per design point (written when the sweep finishes, and by
                             `alliance-sim summarize`)

Every file is written atomically (a temporary file renamed into place), and a run's row in
`runs/` is written last, after its other tables: a run is complete exactly when its row exists.
A process killed at any moment leaves complete runs and, at worst, tables of an incomplete run
that the next invocation overwrites with identical bytes. Hidden temporary files are removed when
the folder is opened again.

Every command's folder is claimed here (`claim`): its manifest records the study that made it
(`study`, e.g. "sweep", "compare", "run") and what that is in words (`title`); a folder holding
another study's results, or files and no manifest, is refused before anything in it is touched.

A folder belongs to one experiment: its fingerprint (everything that decides the results except
the number of replications) must match, so a folder made by a different spec is refused, while
the same spec with more replications extends it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import yaml

from experiments.engine.integrity import NOTES, QUARANTINE, quarantine_bad_files, read_files
from experiments.engine.locking import LOCK_FILE, FolderLock, FolderLocked
from experiments.engine.outputs import write_parquet_atomic
from experiments.engine.paths import PathProblem, check_inside, check_out_path, describe_os_error, shown
from experiments.engine.provenance import atomic_write, environment, now, write_json_atomic
from experiments.engine.runner import RunResult
from experiments.engine.spec import ResolvedExperiment

MANIFEST = "manifest.json"
SPEC = "spec.yaml"
POINTS = "points.parquet"
SUMMARY = "summary.csv"
RUNS = "runs"
TABLES = ("outcomes", "timeseries", "events")
KIND = "sweep"


class StoreError(ValueError):
    """A results folder that cannot be used for this experiment; the message says why and what to do."""


class ResultsStore:
    """An experiment's results folder, opened for writing runs (see the module docstring)."""

    def __init__(self, folder: Path, experiment: ResolvedExperiment, manifest: dict[str, Any]):
        self.folder = folder
        self.experiment = experiment
        self.manifest = manifest
        self.lock: FolderLock | None = None
        self.quarantined: list[str] = []

    # ----------------------------------------------------------------------- opening

    @classmethod
    def open(
        cls,
        folder: str | Path,
        experiment: ResolvedExperiment,
        command: list[str],
        study: str = KIND,
        title: str = "a sweep",
    ) -> ResultsStore:
        """Create the folder for `experiment`, or reopen it if it holds this experiment already.

        `study` and `title` name the study the folder is claimed for (see `claim`). Raises
        StoreError if the folder is a file, holds another study's or experiment's results or
        something else, or already has more replications than asked for.
        """
        folder = Path(folder)
        try:
            check_out_path(folder)
            check_inside(folder, (RUNS, *TABLES, QUARANTINE))
        except PathProblem as exc:
            raise StoreError(str(exc)) from None
        _check_usable(folder, experiment, study, title)  # before anything is written (claim creates it)
        lock = FolderLock(folder, command)
        try:
            lock.acquire()
            manifest = _check_usable(folder, experiment, study, title)  # again, now that no one else writes
            manifest = manifest if manifest is not None else _new_manifest(experiment, study, title)
            for name in (RUNS, *TABLES):
                (folder / name).mkdir(exist_ok=True)
            remove_temporary_files(folder)
            moved = quarantine_bad_files(folder, TABLES)
            if moved:
                print(_quarantine_message(folder, moved), file=sys.stderr)
            manifest["experiment"]["spec"]["replications"] = experiment.spec.replications
            manifest["replications"] = experiment.spec.replications
            manifest["runs_total"] = experiment.n_runs
            manifest["finished"] = None
            manifest["invocations"].append(
                {"command": command, "started": now(), "finished": None, "runs_executed": 0, **environment()}
            )
            store = cls(folder, experiment, manifest)
            store.lock = lock
            store.quarantined = moved
            store.save_manifest()  # the manifest first: it describes everything written after it
            store._write_spec_and_points()
        except FolderLocked as exc:
            raise StoreError(str(exc)) from None
        except OSError as exc:
            lock.release()
            raise StoreError(describe_os_error(exc, f"cannot write to {shown(folder)}:")) from None
        except BaseException:
            lock.release()
            raise
        return store

    def close(self) -> None:
        """Release the folder's lock (the process's end releases it too, however it ends)."""
        if self.lock is not None:
            self.lock.release()

    def _write_spec_and_points(self) -> None:
        spec = self.experiment.spec.model_dump(mode="json")
        text = yaml.safe_dump(spec, sort_keys=False)
        with atomic_write(self.folder / SPEC) as handle:
            handle.write(text.encode("utf-8"))
        if not _readable_parquet(self.folder / POINTS):
            write_parquet_atomic(
                self.folder / POINTS, pa.Table.from_pandas(self.experiment.points, preserve_index=False)
            )

    # ----------------------------------------------------------------------- writing

    def completed(self) -> dict[str, str]:
        """run_id -> status ("ok" or "failed") of every complete run in the folder."""
        return completed_runs(self.folder)

    def write(self, result: RunResult) -> None:
        """Write one run's tables, its row last (the row marks the run complete)."""
        for name in TABLES:
            path = self.folder / name / f"{result.run_id}.parquet"
            if name in result.files:
                _write_bytes(path, result.files[name])
            else:
                path.unlink(missing_ok=True)  # a failed retry leaves no stale tables behind
        _write_bytes(self.folder / RUNS / f"{result.run_id}.parquet", result.files["runs"])
        self.manifest["invocations"][-1]["runs_executed"] += 1

    def save_manifest(self) -> None:
        write_json_atomic(self.folder / MANIFEST, self.manifest)

    def finish(self, counts: dict[str, int]) -> None:
        """Record the end of this invocation and, if every run is done, of the experiment."""
        stamp = now()
        self.manifest["invocations"][-1]["finished"] = stamp
        self.manifest["runs_done"] = counts
        if sum(counts.values()) >= self.experiment.n_runs:
            self.manifest["finished"] = stamp
        self.save_manifest()


def _check_usable(
    folder: Path, experiment: ResolvedExperiment, study: str, title: str
) -> dict[str, Any] | None:
    """The folder's manifest if it holds this experiment, None if it is new or empty (`claim`
    creates it); StoreError if it is a file, holds another study's or experiment's results or
    something else."""
    manifest = claim(folder, study, title)
    if manifest is not None:
        _check_same_experiment(folder, manifest, experiment)
        manifest.setdefault("study", study)  # a folder written before manifests recorded it
        manifest.setdefault("title", title)
    return manifest


def _readable_parquet(path: Path) -> bool:
    try:
        pq.read_metadata(path)
    except (pa.ArrowException, OSError):
        return False
    return True


def _quarantine_message(folder: Path, moved: list[str]) -> str:
    shown_files = "; ".join(moved[:5]) + (f"; and {len(moved) - 5} more" if len(moved) > 5 else "")
    return (
        f"alliance-sim: {len(moved)} damaged run file(s) moved to {folder / QUARANTINE}/ (see "
        f"{NOTES} there); their runs are redone: {shown_files}"
    )


def _write_bytes(path: Path, data: bytes) -> None:
    with atomic_write(path) as handle:
        handle.write(data)


def _new_manifest(experiment: ResolvedExperiment, study: str, title: str) -> dict[str, Any]:
    spec = experiment.spec
    seeds: dict[str, Any] = {
        "experiment_seed": spec.seed,
        "common_random_numbers": spec.common_random_numbers,
        "scheme": (
            "run seed = SeedSequence(experiment_seed).spawn(replications)[replication], the same at "
            "every design point"
            if spec.common_random_numbers
            else "run seed = SeedSequence(experiment_seed).spawn(points)[point_id].spawn(replications)"
            "[replication]"
        ),
        "note": "each run's seed is in its row of runs/ (column seed)",
    }
    return {
        "kind": KIND,
        "study": study,
        "title": title,
        "name": spec.name,
        "fingerprint": experiment.fingerprint(),
        "started": now(),
        "finished": None,
        "points": experiment.n_points,
        "replications": spec.replications,
        "runs_total": experiment.n_runs,
        "seeds": seeds,
        "experiment": experiment.resolved(),
        "invocations": [],
    }


def _check_same_experiment(folder: Path, manifest: dict[str, Any], experiment: ResolvedExperiment) -> None:
    if manifest.get("kind") != KIND or "fingerprint" not in manifest:
        raise StoreError(f"{folder} holds no experiment's runs; give another folder with --out")
    if manifest["fingerprint"] != experiment.fingerprint():
        differences = describe_differences(manifest.get("experiment", {}), experiment.resolved())
        raise StoreError(
            f"{folder} holds results of a different experiment ('{manifest.get('name')}'"
            f"{'; differs in ' + ', '.join(differences) if differences else ''}); "
            "rerun with the spec and --set values that made it, or give another folder with --out"
        )
    if manifest.get("replications", 0) > experiment.spec.replications:
        raise StoreError(
            f"{folder} already has {manifest['replications']} replications per point; ask for at least "
            f"that many (--replications {manifest['replications']}) to resume or extend it"
        )


def describe_differences(old: Any, new: Any, prefix: str = "", limit: int = 5) -> list[str]:
    """Dotted paths where two resolved experiments differ (at most `limit`), replications aside."""
    found: list[str] = []

    def walk(a: Any, b: Any, path: str) -> None:
        if len(found) >= limit or path.endswith("replications") or path == "spec_path":
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                walk(a.get(key), b.get(key), f"{path}.{key}" if path else key)
        elif a != b:
            found.append(path or "(everything)")

    walk(old, new, prefix)
    return found


def remove_temporary_files(folder: Path) -> None:
    """Delete the hidden temporary files a killed writer may have left (see atomic_write)."""
    for sub in (folder, *(folder / name for name in (RUNS, *TABLES))):
        if sub.is_dir():
            for path in sub.glob(".*.tmp"):
                path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- reading


def read_manifest(folder: str | Path) -> dict[str, Any] | None:
    """The folder's manifest, or None if it has none; StoreError if it is unreadable."""
    return _read_record(Path(folder) / MANIFEST)


def require_experiment_folder(folder: str | Path) -> dict[str, Any]:
    """The manifest of a sweep's results folder; StoreError naming the problem otherwise."""
    folder = Path(folder)
    if not folder.exists():
        raise StoreError(f"results folder not found: {folder}")
    if not folder.is_dir():
        raise StoreError(f"{folder} is a file; give the folder a sweep wrote (alliance-sim sweep --out DIR)")
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("kind") != KIND:
        raise StoreError(f"{folder} is not a sweep's results folder (no sweep {MANIFEST} in it)")
    try:
        check_inside(folder, (RUNS, *TABLES, QUARANTINE, "figures"))
    except PathProblem as exc:
        raise StoreError(str(exc)) from None
    return manifest


def _run_files(folder: Path, table: str) -> list[Path]:
    return sorted((folder / table).glob("p*-r*.parquet"))


def completed_runs(folder: str | Path) -> dict[str, str]:
    """run_id -> status of every complete run (a run is complete when its row file exists)."""
    files = _run_files(Path(folder), RUNS)
    if not files:
        return {}
    try:
        tables = [ds.dataset(files, format="parquet").to_table(columns=["run_id", "status"])]
    except (pa.ArrowException, OSError):  # a damaged row file: read them one by one, skip it
        tables, _ = read_files(files, ["run_id", "status"], RUNS)
    done: dict[str, str] = {}
    for table in tables:
        done.update(zip(table.column("run_id").to_pylist(), table.column("status").to_pylist()))
    return done


#: Run files read together by `read_table` (bounds its peak memory; see there).
READ_BATCH_FILES = 256


def read_table(
    folder: str | Path, table: str, columns: Iterable[str] | None = None, *, complete_only: bool = True
) -> pd.DataFrame:
    """All runs' rows of one table (runs, outcomes, timeseries or events), in run order.

    With `complete_only`, tables of runs without a row in runs/ (interrupted) are left out.
    """
    folder = Path(folder)
    files = _run_files(folder, table)
    if complete_only and table != RUNS:
        done = {path.name for path in _run_files(folder, RUNS)}
        files = [path for path in files if path.name in done]
    wanted = list(columns) if columns else None
    # read a bounded number of files at a time: one dataset over thousands of files holds scan
    # buffers for all of them at once, so peak memory would grow with the number of runs
    parts, unreadable = [], []
    for start in range(0, len(files), READ_BATCH_FILES):
        batch = files[start : start + READ_BATCH_FILES]
        try:
            part = ds.dataset(batch, format="parquet").to_table(columns=wanted)
            if (
                table == RUNS
                and "run_id" in part.column_names
                and part.column("run_id").to_pylist() != [path.name[: -len(".parquet")] for path in batch]
            ):  # one row per file, in file order: a row file holding another run's row
                raise pa.ArrowInvalid("a row file holds another run")
            parts.append(part)
        except (pa.ArrowException, OSError):  # a damaged file: read one by one, report and skip it
            good, bad = read_files(batch, wanted, table)
            parts += good
            unreadable += bad
    if not parts:
        empty = pd.DataFrame(columns=wanted)
        empty.attrs["unreadable"] = unreadable
        return empty
    # a failed run has null counts: the runs table's integers are nullable (Int64) so that their
    # type does not depend on whether some run failed
    mapper = {pa.int64(): pd.Int64Dtype()}.get if table == RUNS else None
    frame = pa.concat_tables(parts, promote_options="permissive").to_pandas(types_mapper=mapper)
    order = [c for c in ("point_id", "replication") if c in frame.columns]
    frame = frame.sort_values(order, kind="stable").reset_index(drop=True) if order else frame
    frame.attrs["unreadable"] = unreadable  # 'table/file: reason' of each file that was skipped
    return frame


def read_points(folder: str | Path) -> pd.DataFrame:
    return pq.read_table(Path(folder) / POINTS).to_pandas()


# --------------------------------------------------------------------------- claiming a folder

#: What the studies of folders written before manifests recorded their study were, in words.
LEGACY_TITLES = {
    "run": "a single run (alliance-sim run)",
    "sweep": "a sweep",
    "story": "a story",
    "sensitivity": "a sensitivity analysis",
    "compare": "a comparison",
    "stress": "a stress test",
    "discover": "a scenario discovery",
    "validate": "a validation",
    "calibrate": "a calibration",
}
#: Folders written before manifests recorded their study: the headline file each study left
#: there, first match wins (a comparison's or a stress test's folder is an engine folder too, of
#: kind "sweep", so its file tells it from a sweep's).
LEGACY_FILES: tuple[tuple[str, str], ...] = (
    ("story", "story.csv"),
    ("compare", "comparison.csv"),
    ("stress", "stress.csv"),
    ("discover", "boxes.csv"),
    ("sensitivity", "indices.csv"),
    ("validate", "validation.csv"),
)
#: The commands that ran their arms in an engine folder (kind "sweep") before manifests recorded
#: their study: an interrupted one has no headline file yet, but its command line says what it was.
LEGACY_ENGINE_COMMANDS = ("compare", "stress", "discover", "validate", "calibrate")


def study_of(manifest: dict[str, Any], default: str = "run", folder: str | Path | None = None) -> str:
    """The study that made a folder, from its manifest: `study`. For folders written before that
    was recorded, the one place that derives it: the headline file the study left in `folder`
    (LEGACY_FILES), else for an engine folder the command that made it (LEGACY_ENGINE_COMMANDS),
    else `kind`; a manifest with none of them is a single run's (alliance-sim run)."""
    if manifest.get("study"):
        return str(manifest["study"])
    if folder is not None:
        for study, name in LEGACY_FILES:
            if (Path(folder) / name).is_file():
                return study
    if manifest.get("kind") == KIND:
        commands = [inv.get("command") or [] for inv in manifest.get("invocations") or []]
        words = commands[0][1:2] if commands and len(commands[0]) > 1 else []
        if words and words[0] in LEGACY_ENGINE_COMMANDS:
            return str(words[0])
    return str(manifest.get("kind") or default)


def title_of(manifest: dict[str, Any], default: str = "run", folder: str | Path | None = None) -> str:
    study = study_of(manifest, default, folder)
    return str(manifest.get("title") or LEGACY_TITLES.get(study, study))


def folder_study(folder: str | Path) -> str | None:
    """The study whose results `folder` holds (see `study_of`), or None when it holds none that a
    study wrote: no manifest and no headline file, or a manifest of no kind without a run's tables."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        return next((study for study, name in LEGACY_FILES if (folder / name).is_file()), None)
    study = study_of(manifest, folder=folder)
    if study == "run" and not manifest.get("study") and not (folder / "outcomes.parquet").is_file():
        return None
    return study


def runs_changed(folder: str | Path) -> int:
    """When the folder's runs last changed (the newest run row's mtime, in ns; 0 without runs)."""
    return max((path.stat().st_mtime_ns for path in _run_files(Path(folder), RUNS)), default=0)


def claim(
    folder: str | Path,
    study: str,
    title: str,
    *,
    fingerprint: str | None = None,
    name: str | None = None,
    record: str = MANIFEST,
    replace: bool = False,
) -> dict[str, Any] | None:
    """Claim `folder` for `study` (`title`: what it is in words, "a comparison"); the one folder claim.

    Returns the folder's record (its manifest, or the file `record`) when it holds this study's
    results already, None when the folder is new or empty (it is created). Raises StoreError,
    touching nothing, when the folder is a file, holds another study's results (the message
    names them), holds this study's results of another spec (`fingerprint` differs; allowed with
    `replace`, for a study whose rerun replaces its files), or holds files and no record (allowed
    with `replace` too, as a single run always has been).
    """
    folder = Path(folder)
    try:
        check_out_path(folder)  # a name too long, not UTF-8, a dangling link: refused, nothing made
    except PathProblem as exc:
        raise StoreError(str(exc)) from None
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"{folder} is an existing file, not a folder")
    found = _read_record(folder / record) if folder.is_dir() else None
    default = study if record != MANIFEST else "run"
    if found is not None and study_of(found, default, folder) != study:
        named = f" ('{found['name']}')" if found.get("name") else ""
        raise StoreError(
            f"{folder} holds the results of {title_of(found, default, folder)}{named}, not of {title}; "
            "give another folder with --out"
        )
    if found is not None and fingerprint is not None and found.get("fingerprint") != fingerprint:
        if not replace:
            raise StoreError(
                f"{folder} holds another {title.split(' ', 1)[-1]} ({found.get('name', 'unreadable')!r}); "
                "give another --out, or the same spec to resume it"
            )
    # a lock file left by a killed writer is not content (see engine.locking)
    has_files = folder.is_dir() and any(p.name != LOCK_FILE for p in folder.iterdir())
    if found is None and has_files and not replace:
        raise StoreError(
            f"{folder} is not empty and has no {record}, so it is not {title.split(' ', 1)[0]} "
            f"{title.split(' ', 1)[-1]} folder; give an empty or new folder with --out"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the output folder {folder}: {exc.strerror or exc}") from None
    return found


def write_manifest(folder: str | Path, manifest: dict[str, Any]) -> Path:
    """Write the manifest of a folder claimed with `claim` (atomically); it must name its study.

    The manifest of a study that keeps its own record beside (or instead of) an engine folder's:
    a story, a sensitivity analysis. OSError if it cannot be written."""
    if not manifest.get("study") or not manifest.get("title"):
        raise ValueError("a manifest names the study that claimed its folder (study and title)")
    path = Path(folder) / MANIFEST
    write_json_atomic(path, manifest)
    return path


def _read_record(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StoreError(f"cannot read {path}: {exc}") from None
