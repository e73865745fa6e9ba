"""A report's section, as a study gives it to the page (`experiments.report`): tables of text,
figures as PNG bytes, a plain-language reading; and the helpers the studies build it with.

A study's `section(folder, manifest)` returns a `Section`; the page shell adds what was run (from
the manifest) and turns it into HTML. Nothing here knows a study: the helpers read a folder's
CSV files (checked for the columns a study names), draw figures in memory and embed the PNGs a
folder holds.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.engine.store import KIND, StoreError
from experiments.present.text import words

FIGURES_DIR = "figures"
#: Dots per inch of the figures drawn for the page (the same as `experiments.present.figures.save_figure`).
FIGURE_DPI = 150
#: A trust-trajectory figure shows at most this many groups (one colour of the palette each).
MAX_TRAJECTORY_GROUPS = 8


class ReportError(StoreError):
    """A folder that cannot be reported on; the message says what is wrong and what is expected."""


@dataclass
class Table:
    """A headline table: its caption and its cells as text (a DataFrame of str)."""

    caption: str
    cells: pd.DataFrame
    note: str = ""


@dataclass
class Section:
    """Everything a report shows, before it becomes HTML: the study's part (title, reading, tables,
    figures, details) and the shell's (heading, provenance)."""

    kind: str
    title: str
    reading: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[tuple[str, bytes]] = field(default_factory=list)  # (caption, PNG bytes)
    provenance: list[tuple[str, str]] = field(default_factory=list)  # (label, value)
    details: list[tuple[str, str]] = field(default_factory=list)  # (summary, preformatted text)
    heading: str = ""  # the kind line, "Sweep" (the study's heading)


# --------------------------------------------------------------------------- reading a folder


def read_csv(folder: Path, name: str, columns: Sequence[str] = ()) -> pd.DataFrame:
    """The CSV `name` of the folder, checked for `columns`; ReportError otherwise."""
    path = folder / name
    try:
        frame = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ReportError(f"cannot read {path}: {exc}") from None
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ReportError(f"{path} lacks the column(s) {', '.join(missing)}; expected {', '.join(columns)}")
    return frame


def text_details(folder: Path, names: Iterable[str]) -> list[tuple[str, str]]:
    """(name, text) of each of these files the folder holds, to unfold at the end of the page."""
    return [
        (name, (folder / name).read_text(encoding="utf-8")) for name in names if (folder / name).is_file()
    ]


def is_true(value: Any) -> bool:
    """A CSV cell that says true ("True", "true", True)."""
    return str(value).strip().lower() == "true"


def level(value: Any) -> str:
    """A factor's level as text: 2.0 -> '2', 'virtual' -> 'virtual'."""
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    return str(value)


# --------------------------------------------------------------------------- figures


def png_bytes(figure: Figure) -> bytes:
    """`figure` rendered as PNG, reproducibly (no date in the metadata)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI, metadata={})
    return buffer.getvalue()


def figure_paths(folder: Path) -> list[Path]:
    """The PNGs in the folder and in its figures/ subfolder, sorted by name."""
    return sorted(folder.glob("*.png")) + sorted((folder / FIGURES_DIR).glob("*.png"))


def folder_figures(folder: Path) -> list[tuple[str, bytes]]:
    """The PNGs already in the folder and in its figures/ subfolder, sorted by name, with captions."""
    return [
        (path.stem.replace("_", " ").replace("-", " "), path.read_bytes()) for path in figure_paths(folder)
    ]


def point_labels(points_table: pd.DataFrame, factors: Sequence[str]) -> dict[int, str]:
    """point_id -> 'meeting interval weeks = 2, meeting mode = virtual'."""
    return {
        int(row["point_id"]): ", ".join(f"{words(f)} = {level(row[f])}" for f in factors)
        for _, row in points_table.iterrows()
    }


def chosen_points(
    summary: pd.DataFrame | None, all_points: Sequence[int], reference: int | None
) -> list[int]:
    """The points whose trust is drawn: all of them if few, else the reference, best and worst."""
    if len(all_points) <= MAX_TRAJECTORY_GROUPS or summary is None:
        return list(all_points)[:MAX_TRAJECTORY_GROUPS]
    decided = summary[summary["decided"] > 0].sort_values(["success_rate", "point_id"], kind="stable")
    picks = [reference] if reference is not None else []
    if not decided.empty:
        picks += [int(decided["point_id"].iloc[-1]), int(decided["point_id"].iloc[0])]
    return list(dict.fromkeys(p for p in picks if p is not None))


def engine_trust_figure(
    folder: Path, manifest: Mapping[str, Any] | None, summary: pd.DataFrame | None = None
) -> list[tuple[str, bytes]]:
    """Trust trajectories per design point (band across replications), drawn from the time series
    of an engine folder (a sweep, or a study run on the engine); nothing if none was kept."""
    from experiments.engine.store import read_points, read_table
    from experiments.present.figures.trajectories import trust_bands, trust_trajectories

    if manifest is None or manifest.get("kind") != KIND:
        return []
    series = read_table(folder, "timeseries")
    if series.empty or "mean_trust" not in series.columns:
        return []
    factors = list(manifest.get("experiment", {}).get("spec", {}).get("factors", {}))
    labels = point_labels(read_points(folder), factors)
    reference = manifest.get("experiment", {}).get("reference_point")
    shown = chosen_points(summary, sorted(series["point_id"].unique()), reference)
    bands = trust_bands(series[series["point_id"].isin(shown)], by="point_id")
    caption = "trust over time per design point (median and interquartile range across replications)"
    if len(shown) < series["point_id"].nunique():
        caption += "; the reference, best and worst points only"
    figure = trust_trajectories(bands, by="point_id", labels=labels, over="replications")
    return [(caption, png_bytes(figure))]


def run_trust_figure(folder: Path) -> list[tuple[str, bytes]]:
    """Trust over time in one run (median and band across alliances), from its event log."""
    from experiments.present.figures.trajectories import alliance_trust, trust_bands, trust_trajectories

    path = folder / "events.parquet"
    if not path.is_file():
        return []
    samples = alliance_trust(pd.read_parquet(path))
    if samples.empty:
        return []
    bands = trust_bands(samples, value="trust")
    figure = trust_trajectories(bands, over="alliances", title="Trust over time in this run")
    return [("trust over time (median and interquartile range across active alliances)", png_bytes(figure))]
