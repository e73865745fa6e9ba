"""Writing a result folder: one run's tables as parquet, its resolved scenario and its manifest.

A result folder holds

    outcomes.parquet    one row per alliance (AllianceModel.outcomes)
    timeseries.parquet  one row per recorded week (AllianceModel.timeseries)
    events.parquet      the event log (AllianceModel.events; empty if output.events is false)
    scenario.yaml       the resolved scenario, every default written out
    manifest.json       provenance (versions, commit, seed, scenario, command) and the summary

Every file is written atomically. manifest.json is removed first and written last, so a folder
with a manifest holds one complete run. The same scenario and seed give byte-identical parquet
files (no timestamps are stored); only `created` in the manifest differs between two such runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from experiments.engine.provenance import atomic_write, provenance, write_json_atomic
from sim import AllianceModel
from sim.scenario import scenario_to_yaml

MANIFEST = "manifest.json"
SCENARIO = "scenario.yaml"
FILES = ("outcomes.parquet", "timeseries.parquet", "events.parquet", SCENARIO, MANIFEST)

# Columns whose type pandas would infer from the data: an empty list column comes out as float64
# and an all-None one as null. Fixed types keep every run's files to one schema.
COLUMN_TYPES: dict[str, dict[str, pa.DataType]] = {
    "outcomes": {
        "partner_ids": pa.list_(pa.int64()),
        "kind": pa.string(),
        "outcome": pa.string(),
        "reason": pa.string(),
    },
    "timeseries": {},
    "events": {"event": pa.string()},
}


def to_arrow(frame: pd.DataFrame, types: Mapping[str, pa.DataType]) -> pa.Table:
    """`frame` as an Arrow table (no index), the columns named in `types` given those types."""
    columns = {
        name: pa.array(frame[name].astype(object).tolist(), type=types[name], from_pandas=True)
        if name in types
        else pa.Array.from_pandas(frame[name])
        for name in frame.columns
    }
    return pa.table(columns)


def write_parquet_atomic(path: Path, table: pa.Table) -> None:
    """Write `table` to `path` as parquet, atomically."""
    with atomic_write(path) as handle:
        pq.write_table(table, handle)


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` as UTF-8, atomically."""
    with atomic_write(path) as handle:
        handle.write(text.encode("utf-8"))


def write_run(
    model: AllianceModel, folder: Path, command: Sequence[str], claim: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Write the files of a finished run into the existing `folder`; returns the manifest.

    `claim` (study and title, see `experiments.engine.store.claim`) is recorded in the manifest.
    Raises OSError if a file cannot be written; files already written stay, but without a manifest.
    """
    (folder / MANIFEST).unlink(missing_ok=True)
    frames = {"outcomes": model.outcomes(), "timeseries": model.timeseries(), "events": model.events()}
    for name, frame in frames.items():
        write_parquet_atomic(folder / f"{name}.parquet", to_arrow(frame, COLUMN_TYPES[name]))
    write_text_atomic(folder / SCENARIO, scenario_to_yaml(model.config))
    manifest = {**(claim or {}), **provenance(model.config, model.seed, command), "summary": model.summary()}
    write_json_atomic(folder / MANIFEST, manifest)
    return manifest
