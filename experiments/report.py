"""A self-contained HTML report of any result folder: what was run, the headline table, the figures
and a plain-language reading of the numbers.

    alliance-sim report results/meeting_frequency        # writes results/meeting_frequency/report.html

    from experiments.report import write_report
    write_report("results/meeting_frequency")

The kind of folder is told from the files in it (`detect_kind`), first match wins:

    story.csv         a story (alliance-sim story): one alliance replayed in two worlds
    comparison.csv    a paired comparison (alliance-sim compare)
    stress.csv        a stress test (alliance-sim stress)
    boxes.csv         a scenario discovery (alliance-sim discover)
    indices.csv       a sensitivity analysis (alliance-sim sensitivity)
    validation.csv    a validation (alliance-sim validate)
    manifest.json     of kind "sweep": a sweep (alliance-sim sweep)
    manifest.json     with outcomes.parquet and no kind: a single run (alliance-sim run)

The page embeds every PNG already in the folder (and in its figures/ subfolder) as base64, plus the
figures drawn for it from the data (trust trajectories from a kept time series or event log; for a
sweep without figures, success rate by factor). Drawn figures are embedded only, never written
into the folder, so a second report of the same folder gives the same bytes: nothing in the page
depends on the time it was made, only on the folder's files (dates shown come from manifest.json).
There is no external stylesheet, script, font or image, so the page opens in any browser offline.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure

from experiments.engine.store import MANIFEST, StoreError, read_manifest
from experiments.studies.base import PROG

REPORT_HTML = "report.html"
FIGURES_DIR = "figures"
#: Dots per inch of the figures drawn for the page (the same as `experiments.present.figures.save_figure`).
FIGURE_DPI = 150
#: A trust-trajectory figure shows at most this many groups (one colour of the palette each).
MAX_TRAJECTORY_GROUPS = 8
#: At most this many rows of a story's timeline are shown (all are in story.csv).
STORY_MAX_ROWS = 80
#: At most this many Sobol interactions (S2) are listed.
MAX_INTERACTIONS = 10
#: At most this many design points of a sweep are listed in the headline table (all are in summary.csv).
SWEEP_MAX_ROWS = 60
CONFIDENCE_NOTE = "95% CI"

KIND_FILES: tuple[tuple[str, str], ...] = (
    ("story", "story.csv"),
    ("compare", "comparison.csv"),
    ("stress", "stress.csv"),
    ("discovery", "boxes.csv"),
    ("sensitivity", "indices.csv"),
    ("validation", "validation.csv"),
)
KIND_TITLES = {
    "run": "Single run",
    "sweep": "Sweep",
    "compare": "Paired comparison",
    "story": "Story of one alliance",
    "stress": "Stress test",
    "discovery": "Scenario discovery",
    "sensitivity": "Sensitivity analysis",
    "validation": "Validation",
}
EXPECTED = (
    "a single run (manifest.json and outcomes.parquet, from alliance-sim run), a sweep (manifest.json of "
    "kind sweep, from alliance-sim sweep), a comparison (comparison.csv), a story (story.csv), a stress "
    "test (stress.csv), a discovery (boxes.csv), a sensitivity analysis (indices.csv) or a validation "
    "(validation.csv)"
)
#: The columns each kind's headline file must have (as documented by the module that writes it).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "comparison.csv": ("metric", "baseline", "alternative", "difference", "ci_low", "ci_high"),
    "stress.csv": ("design", "scenario", "success_rate", "ci_low", "ci_high", "regret"),
    "boxes.csv": ("box", "coverage", "density", "n_restricted", "rule"),
    "indices.csv": ("parameter", "method", "index", "value", "ci"),
    "validation.csv": (
        "target",
        "expected",
        "band",
        "measured",
        "ci_low",
        "ci_high",
        "unit",
        "passed",
        "note",
    ),
    "summary.csv": ("point_id", "decided", "success_rate", "success_ci_low", "success_ci_high"),
}


class ReportError(StoreError):
    """A folder that cannot be reported on; the message says what is wrong and what is expected."""


# --------------------------------------------------------------------------- formatting numbers


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float | np.floating) and math.isnan(value)) or value is pd.NA


def percent(value: Any) -> str:
    """A share as a percentage with one decimal ('63.0%'), 'n/a' when missing."""
    return "n/a" if _missing(value) else f"{float(value):.1%}"


def percent_interval(rate: Any, low: Any, high: Any) -> str:
    """'63.0% (58.2% to 67.4%)'; without the interval when it is missing."""
    if _missing(rate):
        return "n/a"
    if _missing(low) or _missing(high):
        return percent(rate)
    return f"{percent(rate)} ({percent(low)} to {percent(high)})"


def points(difference: Any) -> str:
    """A difference of two shares in percentage points, signed: '+13.0 points'."""
    return "n/a" if _missing(difference) else f"{100 * float(difference):+.1f} points"


def points_interval(difference: Any, low: Any, high: Any) -> str:
    """'+13.0 points (95% CI +11.0 to +15.0)'; without the interval when it is missing."""
    if _missing(difference):
        return "n/a"
    if _missing(low) or _missing(high):
        return points(difference)
    return f"{points(difference)} ({CONFIDENCE_NOTE} {100 * float(low):+.1f} to {100 * float(high):+.1f})"


def shortfall(difference: Any) -> str:
    """A non-negative gap between two shares in percentage points, unsigned: '4.2 points'."""
    return "n/a" if _missing(difference) else f"{100 * float(difference):.1f} points"


def number(value: Any) -> str:
    """A plain number with four significant digits ('123.5'), 'n/a' when missing."""
    if _missing(value):
        return "n/a"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    return f"{float(value):.4g}"


def signed_interval(difference: Any, low: Any, high: Any) -> str:
    """'+10 (95% CI +2.5 to +17)' for a difference that is not a share."""
    if _missing(difference):
        return "n/a"
    text = f"{float(difference):+.4g}"
    if _missing(low) or _missing(high):
        return text
    return f"{text} ({CONFIDENCE_NOTE} {float(low):+.4g} to {float(high):+.4g})"


def excludes_zero(low: Any, high: Any) -> bool:
    """Whether the interval [low, high] lies entirely on one side of zero."""
    return not (_missing(low) or _missing(high)) and (float(low) > 0 or float(high) < 0)


def words(name: str) -> str:
    """A column or factor name in words: 'governance.meeting_interval_weeks' -> 'meeting interval weeks'."""
    return str(name).split(".")[-1].replace("_", " ")


# --------------------------------------------------------------------------- the page's content


@dataclass
class Table:
    """A headline table: its caption and its cells as text (a DataFrame of str)."""

    caption: str
    cells: pd.DataFrame
    note: str = ""


@dataclass
class Content:
    """Everything a report shows, before it becomes HTML."""

    kind: str
    title: str
    reading: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[tuple[str, bytes]] = field(default_factory=list)  # (caption, PNG bytes)
    provenance: list[tuple[str, str]] = field(default_factory=list)  # (label, value)
    details: list[tuple[str, str]] = field(default_factory=list)  # (summary, preformatted text)


def detect_kind(folder: str | Path) -> str:
    """The kind of result folder `folder` is (see the module docstring); ReportError if none."""
    folder = Path(folder)
    if not folder.exists():
        raise ReportError(f"result folder not found: {folder}")
    if not folder.is_dir():
        raise ReportError(f"{folder} is a file; give a result folder: {EXPECTED}")
    for kind, marker in KIND_FILES:
        if (folder / marker).is_file():
            return kind
    manifest = read_manifest(folder)
    if manifest is not None and manifest.get("kind") == "sweep":
        return "sweep"
    if manifest is not None and "kind" not in manifest and (folder / "outcomes.parquet").is_file():
        return "run"
    raise ReportError(f"{folder} is not a result folder alliance-sim can report on; expected {EXPECTED}")


def read_csv(folder: Path, name: str) -> pd.DataFrame:
    """The CSV `name` of the folder, checked for its documented columns; ReportError otherwise."""
    path = folder / name
    try:
        frame = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ReportError(f"cannot read {path}: {exc}") from None
    missing = [column for column in REQUIRED_COLUMNS.get(name, ()) if column not in frame.columns]
    if missing:
        raise ReportError(
            f"{path} lacks the column(s) {', '.join(missing)}; expected {', '.join(REQUIRED_COLUMNS[name])}"
        )
    return frame


# --------------------------------------------------------------------------- figures


def png_bytes(figure: Figure) -> bytes:
    """`figure` rendered as PNG, reproducibly (no date in the metadata)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI, metadata={})
    return buffer.getvalue()


def folder_figures(folder: Path) -> list[tuple[str, bytes]]:
    """The PNGs already in the folder and in its figures/ subfolder, sorted by name, with captions."""
    paths = sorted(folder.glob("*.png")) + sorted((folder / FIGURES_DIR).glob("*.png"))
    return [(path.stem.replace("_", " ").replace("-", " "), path.read_bytes()) for path in paths]


def point_labels(points_table: pd.DataFrame, factors: Sequence[str]) -> dict[int, str]:
    """point_id -> 'meeting interval weeks = 2, meeting mode = virtual'."""
    return {
        int(row["point_id"]): ", ".join(f"{words(f)} = {_level(row[f])}" for f in factors)
        for _, row in points_table.iterrows()
    }


def _level(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    return str(value)


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


def sweep_trust_figure(folder: Path, manifest: Mapping[str, Any], summary: pd.DataFrame | None) -> list:
    """Trust trajectories per design point (band across replications), if the sweep kept a time series."""
    from experiments.engine.store import read_points, read_table
    from experiments.present.figures.trajectories import trust_bands, trust_trajectories

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


def run_trust_figure(folder: Path) -> list:
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


# --------------------------------------------------------------------------- what was run


def _environment(manifest: Mapping[str, Any]) -> Mapping[str, Any]:
    """The software record: the manifest's own, or its last invocation's."""
    if "python" in manifest:
        return manifest
    invocations = manifest.get("invocations") or [{}]
    return invocations[-1]


def _factor_text(spec: Mapping[str, Any]) -> str:
    if spec.get("levels") is not None:
        distinct = dict.fromkeys(_level(v) for v in spec["levels"])  # a points design repeats levels
        return "levels " + ", ".join(distinct)
    if spec.get("range") is not None:
        low, high = spec["range"]
        return f"range {_level(low)} to {_level(high)}"
    return json.dumps(spec, sort_keys=True)


def provenance_rows(kind: str, manifest: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(label, value) rows saying what was run, from the folder's manifest."""
    if manifest is None:
        return [("provenance", f"no {MANIFEST} in the folder: how it was made is not recorded")]
    rows: list[tuple[str, str]] = [("kind", KIND_TITLES[kind])]
    experiment = manifest.get("experiment", {})
    spec = experiment.get("spec") or manifest.get("spec") or {}
    scenario = manifest.get("scenario") or experiment.get("base_scenario") or {}
    if manifest.get("name"):
        rows.append(("name", str(manifest["name"])))
    if scenario.get("name"):
        rows.append(
            (
                "scenario",
                str(scenario["name"])
                + (f": {scenario['description']}" if scenario.get("description") else ""),
            )
        )
    elif spec.get("scenario"):
        rows.append(("scenario", str(spec["scenario"])))
    for path, factor in (spec.get("factors") or spec.get("parameters") or {}).items():
        rows.append((f"factor {path}", _factor_text(factor) if isinstance(factor, Mapping) else str(factor)))
    if spec.get("design"):
        rows.append(("design", str(spec["design"].get("kind"))))
    if spec.get("methods"):
        rows.append(("methods", ", ".join(map(str, spec["methods"]))))
    for key in ("points", "replications", "runs_total", "runs_done"):
        if key in manifest:
            rows.append((key.replace("_", " "), _plain(manifest[key])))
    if "seed" in manifest:
        rows.append(("seed", str(manifest["seed"])))
    for key, value in (manifest.get("seeds") or {}).items():
        rows.append((f"seeds: {key.replace('_', ' ')}", str(value)))
    for key in ("created", "started", "finished"):
        if manifest.get(key):
            rows.append((key, str(manifest[key])))
    commands = [manifest["command"]] if manifest.get("command") else []
    commands += [inv["command"] for inv in manifest.get("invocations", []) if inv.get("command")]
    for command in commands:
        rows.append(("command", shlex.join(map(str, command))))
    env = _environment(manifest)
    if env.get("alliance_sim_version"):
        rows.append(("alliance-sim", str(env["alliance_sim_version"])))
    if env.get("python"):
        rows.append(("Python", f"{env['python']} on {env.get('platform', 'unknown platform')}"))
    packages = env.get("packages") or {}
    if packages:
        rows.append(("packages", ", ".join(f"{name} {version}" for name, version in packages.items())))
    commit = env.get("git_commit")
    dirty = " (with uncommitted changes)" if env.get("git_dirty") else ""
    rows.append(("commit", f"{commit}{dirty}" if commit else "not recorded (not run from a git checkout)"))
    return rows


def scenario_details(manifest: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """The resolved scenario (or spec) as YAML, to unfold at the end of the page."""
    if manifest is None:
        return []
    experiment = manifest.get("experiment", {})
    blocks = []
    scenario = manifest.get("scenario") or experiment.get("base_scenario")
    if scenario:
        blocks.append(("resolved scenario (every value the runs used)", _yaml(scenario)))
    spec = experiment.get("spec") or manifest.get("spec")
    if spec:
        blocks.append(("specification as resolved", _yaml(spec)))
    return blocks


def _plain(value: Any) -> str:
    """A manifest value as text: a mapping as 'ok 12, failed 1', anything else as str."""
    if isinstance(value, Mapping):
        return ", ".join(f"{key} {item}" for key, item in value.items())
    return str(value)


def _yaml(content: Any) -> str:
    return yaml.safe_dump(content, sort_keys=False, allow_unicode=True)


# --------------------------------------------------------------------------- one function per kind


def run_content(folder: Path, manifest: Mapping[str, Any]) -> Content:
    """A single run: its summary counts and rates, and trust over time across its alliances."""
    from experiments.analysis.stats import wilson_interval

    summary = manifest.get("summary") or {}
    scenario_name = (manifest.get("scenario") or {}).get("name", folder.name)
    content = Content("run", f"Run of {scenario_name} (seed {manifest.get('seed', 'unknown')})")
    needed = ("alliances", "success", "failure", "restructured", "censored")
    if any(key not in summary for key in needed):
        raise ReportError(f"{folder / MANIFEST} has no run summary (expected the keys {', '.join(needed)})")
    decided = summary["success"] + summary["failure"] + summary["restructured"]
    low, high = wilson_interval(summary["success"], decided)
    rate = summary["success"] / decided if decided else float("nan")
    by_reason = summary.get("failures_by_reason") or {}
    rows = [
        ("alliances formed", str(summary["alliances"])),
        ("decided (ended before the horizon)", str(decided)),
        ("success rate (of decided)", percent_interval(rate, low, high)),
        ("successes", str(summary["success"])),
        ("failures", str(summary["failure"])),
        ("restructured", str(summary["restructured"])),
        ("censored (still running at the end)", str(summary["censored"])),
        *((f"failures: {words(reason)}", str(count)) for reason, count in by_reason.items()),
        ("median duration of decided alliances", f"{number(summary.get('median_duration_weeks'))} weeks"),
    ]
    content.tables.append(Table("Outcomes of the run", pd.DataFrame(rows, columns=["measure", "value"])))
    if decided:
        content.reading.append(
            f"{summary['alliances']} alliances formed; {decided} ended before the horizon and "
            f"{summary['success']} of those succeeded: a success rate of {percent(rate)} "
            f"(95% Wilson interval {percent(low)} to {percent(high)}). {summary['censored']} were still "
            "running at the end and do not count."
        )
    else:
        content.reading.append(
            f"{summary['alliances']} alliances formed and none ended before the horizon, so there is no "
            "success rate yet; simulate more weeks (simulation.horizon_weeks)."
        )
    failures = sum(by_reason.values())
    if failures:
        reason, count = max(by_reason.items(), key=lambda item: (item[1], item[0]))
        content.reading.append(
            f"The most common reason for failure was {words(reason)} ({count} of {failures} failures)."
        )
    content.figures += run_trust_figure(folder)
    return content


def sweep_summary(folder: Path) -> pd.DataFrame:
    """The sweep's summary.csv (written by the engine first if it is missing)."""
    from experiments.studies.sweep import write_summary

    if not (folder / "summary.csv").is_file():
        write_summary(folder)
    return read_csv(folder, "summary.csv")


def sweep_content(folder: Path, manifest: Mapping[str, Any]) -> Content:
    """A sweep: success per design point with its interval, the best point against the reference."""
    from experiments.present import figures as fig

    summary = sweep_summary(folder)
    factors = list(manifest.get("experiment", {}).get("spec", {}).get("factors", {}))
    content = Content("sweep", f"Sweep {manifest.get('name', folder.name)}")
    table = pd.DataFrame({words(f): summary[f].map(_level) for f in factors if f in summary.columns})
    table["success rate (95% CI)"] = [
        percent_interval(r, lo, hi)
        for r, lo, hi in zip(summary["success_rate"], summary["success_ci_low"], summary["success_ci_high"])
    ]
    table["decided"] = summary["decided"].map(str)
    if "median_duration_weeks" in summary.columns:
        table["median weeks"] = summary["median_duration_weeks"].map(number)
    if "mean_final_trust" in summary.columns:
        table["final trust"] = summary["mean_final_trust"].map(number)
    has_reference = "diff_success_rate" in summary.columns and "reference" in summary.columns
    if has_reference:
        table["vs reference (paired)"] = [
            "reference" if _true(ref) else points_interval(d, lo, hi)
            for ref, d, lo, hi in zip(
                summary["reference"],
                summary["diff_success_rate"],
                summary["diff_ci_low"],
                summary["diff_ci_high"],
            )
        ]
    note = (
        f"first {SWEEP_MAX_ROWS} of {len(table)} points; all are in summary.csv"
        if len(table) > SWEEP_MAX_ROWS
        else ""
    )
    content.tables.append(Table("Success rate per design point", table.head(SWEEP_MAX_ROWS), note))
    content.reading += sweep_reading(summary, factors, has_reference)
    existing = folder_figures(folder)
    content.figures += existing
    if not existing:
        content.figures += [
            (f"success rate by {words(f)}", png_bytes(fig.success_by_factor(summary, f))) for f in factors
        ]
    content.figures += sweep_trust_figure(folder, manifest, summary)
    return content


def _true(value: Any) -> bool:
    return str(value).strip().lower() == "true"


def _rate_of(row: Mapping[str, Any]) -> str:
    return percent_interval(row["success_rate"], row["success_ci_low"], row["success_ci_high"])


def _point_text(row: Mapping[str, Any], factors: Sequence[str]) -> str:
    return ", ".join(f"{words(f)} = {_level(row[f])}" for f in factors if f in row)


def sweep_reading(summary: pd.DataFrame, factors: Sequence[str], has_reference: bool) -> list[str]:
    """Which point did best, and how it stands against the reference point."""
    decided = summary[summary["decided"] > 0]
    if decided.empty:
        return ["No alliance ended before the horizon at any design point, so there is no success rate."]
    ordered = decided.sort_values(["success_rate", "point_id"], ascending=[False, True], kind="stable")
    best, worst = ordered.iloc[0], ordered.iloc[-1]
    lines = [
        f"Across {len(summary)} design points, success ranged from {percent(worst['success_rate'])} "
        f"({_point_text(worst, factors)}) to {percent(best['success_rate'])} ({_point_text(best, factors)})."
    ]
    if not has_reference:
        return lines
    reference = summary[summary["reference"].map(_true)]
    if reference.empty:
        return lines
    ref = reference.iloc[0]
    if int(best["point_id"]) == int(ref["point_id"]):
        lines.append(f"The reference point ({_point_text(ref, factors)}) did best itself.")
        if len(ordered) < 2:
            return lines
        best, label = ordered.iloc[1], "The next best point"
    else:
        label = "The best point"
    overlap = not (
        best["success_ci_low"] > ref["success_ci_high"] or best["success_ci_high"] < ref["success_ci_low"]
    )
    lines.append(
        f"{label} ({_point_text(best, factors)}) reached {_rate_of(best)} against {_rate_of(ref)} at "
        "the reference; the two Wilson intervals " + ("overlap." if overlap else "do not overlap.")
    )
    diff, low, high = best["diff_success_rate"], best["diff_ci_low"], best["diff_ci_high"]
    if not _missing(diff):
        verdict = (
            "the paired interval excludes zero, so the difference is more than run-to-run noise."
            if excludes_zero(low, high)
            else "the paired interval includes zero, so the difference cannot be told apart from noise at "
            "these replications."
        )
        lines.append(
            f"Paired by replication, the difference is {points_interval(diff, low, high)}: {verdict}"
        )
    return lines


def _is_share(metric: str) -> bool:
    return "rate" in metric or "share" in metric


def compare_content(folder: Path, manifest: Mapping[str, Any] | None) -> Content:
    """A paired comparison: each metric in both worlds and the paired difference with its interval."""
    frame = read_csv(folder, "comparison.csv")
    content = Content("compare", f"Comparison {(manifest or {}).get('name', folder.name)}")
    cells = []
    for row in frame.itertuples(index=False):
        share = _is_share(str(row.metric))
        show = percent if share else number
        diff = points_interval if share else signed_interval
        cells.append(
            (
                words(row.metric),
                show(row.baseline),
                show(row.alternative),
                diff(row.difference, row.ci_low, row.ci_high),
            )
        )
    table = pd.DataFrame(
        cells, columns=["metric", "baseline", "alternative", f"difference ({CONFIDENCE_NOTE}, paired)"]
    )
    content.tables.append(Table("Baseline against the alternative, on common random numbers", table))
    content.reading += compare_reading(frame, (manifest or {}).get("replications"))
    content.figures += folder_figures(folder)
    return content


def compare_reading(frame: pd.DataFrame, replications: Any) -> list[str]:
    """The first metric (success rate) in words, then the other metrics that clearly moved."""
    if frame.empty:
        return ["comparison.csv has no rows."]
    first = frame.iloc[0]
    lines = [_change_sentence(first, replications)]
    clear = [row for _, row in frame.iloc[1:].iterrows() if excludes_zero(row["ci_low"], row["ci_high"])]
    if clear:
        lines.append(
            "Other metrics whose paired interval excludes zero: "
            + "; ".join(_short_change(row) for row in clear)
            + "."
        )
    else:
        lines.append("No other metric moved by more than its paired interval allows for noise.")
    return lines


def _change_sentence(row: Mapping[str, Any], replications: Any) -> str:
    metric = str(row["metric"])
    share = _is_share(metric)
    show = percent if share else number
    direction = "rose" if row["difference"] > 0 else "fell" if row["difference"] < 0 else "stayed"
    diff = (points_interval if share else signed_interval)(row["difference"], row["ci_low"], row["ci_high"])
    sentence = (
        f"{words(metric).capitalize()} {direction} from {show(row['baseline'])} "
        f"to {show(row['alternative'])} ({diff})"
    )
    how_many = f" at {replications} replications" if replications else ""
    if excludes_zero(row["ci_low"], row["ci_high"]):
        return (
            sentence
            + "; the interval excludes zero, so the change makes a difference beyond run-to-run noise."
        )
    return (
        sentence + f"; the interval includes zero, so{how_many} the change cannot be told apart from noise."
    )


def _short_change(row: Mapping[str, Any]) -> str:
    metric = str(row["metric"])
    share = _is_share(metric)
    show = percent if share else number
    diff = (points_interval if share else signed_interval)(row["difference"], row["ci_low"], row["ci_high"])
    return f"{words(metric)} {show(row['baseline'])} to {show(row['alternative'])} ({diff})"


def stress_content(folder: Path, manifest: Mapping[str, Any] | None) -> Content:
    """A stress test: designs by scenarios with intervals, the max-min design and the regret."""
    frame = read_csv(folder, "stress.csv")
    content = Content("stress", f"Stress test {(manifest or {}).get('name', folder.name)}")
    designs = list(dict.fromkeys(frame["design"]))
    scenarios = list(dict.fromkeys(frame["scenario"]))
    cells = {(r.design, r.scenario): r for r in frame.itertuples(index=False)}
    matrix = pd.DataFrame({"design": designs})
    for scenario in scenarios:
        matrix[scenario] = [
            percent_interval(
                cells[(d, scenario)].success_rate, cells[(d, scenario)].ci_low, cells[(d, scenario)].ci_high
            )
            if (d, scenario) in cells
            else "n/a"
            for d in designs
        ]
    content.tables.append(Table("Success rate (95% Wilson interval), design by stress scenario", matrix))
    ranking = stress_ranking(frame)
    content.tables.append(
        Table(
            "Designs by worst case and regret",
            pd.DataFrame(
                {
                    "design": ranking["design"],
                    "worst case": ranking["worst_case"].map(percent),
                    "in": ranking["worst_scenario"],
                    "mean regret": ranking["mean_regret"].map(shortfall),
                }
            ),
            "regret: the shortfall against the best design in the same scenario",
        )
    )
    if not ranking.empty:
        top = ranking.iloc[0]
        calm = ranking.sort_values(["mean_regret", "design"], kind="stable").iloc[0]
        content.reading.append(
            f"The design that holds up best in its worst case is {top['design']}: its lowest success rate, "
            f"in {top['worst_scenario']}, is {percent(top['worst_case'])}."
        )
        if calm["mean_regret"] == 0:
            content.reading.append(
                f"{calm['design']} is the best design in every one of the {len(scenarios)} scenarios."
            )
        else:
            content.reading.append(
                f"The design with the smallest mean regret over the {len(scenarios)} scenarios is "
                f"{calm['design']} ({shortfall(calm['mean_regret'])} below the best design of each scenario, "
                "on average)."
            )
    content.figures += folder_figures(folder)
    if (folder / "stress_spec.yaml").is_file():
        content.details.append(
            ("stress_spec.yaml", (folder / "stress_spec.yaml").read_text(encoding="utf-8"))
        )
    return content


def stress_ranking(frame: pd.DataFrame) -> pd.DataFrame:
    """Per design: worst case, where, and mean regret; the highest worst case first (max-min)."""
    rows = []
    for design, group in frame.groupby("design", sort=False):
        decided = group.dropna(subset=["success_rate"])
        worst = decided.loc[decided["success_rate"].idxmin()] if not decided.empty else None
        rows.append(
            {
                "design": design,
                "worst_case": float(worst["success_rate"]) if worst is not None else float("nan"),
                "worst_scenario": worst["scenario"] if worst is not None else "n/a",
                "mean_regret": float(group["regret"].mean()),
            }
        )
    ranking = pd.DataFrame(rows, columns=["design", "worst_case", "worst_scenario", "mean_regret"])
    return ranking.sort_values(["worst_case", "design"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


def discovery_content(folder: Path, manifest: Mapping[str, Any] | None) -> Content:
    """A scenario discovery: the boxes of conditions where the design fails, as rules."""
    boxes = read_csv(folder, "boxes.csv")
    content = Content("discovery", f"Scenario discovery {(manifest or {}).get('name', folder.name)}")
    table = pd.DataFrame(
        {
            "box": boxes["box"].map(str),
            "rule": boxes["rule"].map(str),
            "coverage": boxes["coverage"].map(percent),
            "density": boxes["density"].map(percent),
            "conditions restricted": boxes["n_restricted"].map(str),
        }
    )
    content.tables.append(
        Table(
            "Boxes of conditions where the design fails (PRIM)",
            table,
            "coverage: share of all failing samples inside the box; density: share of the samples "
            "inside it that fail",
        )
    )
    if boxes.empty:
        content.reading.append("PRIM found no box of conditions in which the design clearly fails.")
    else:
        first = boxes.iloc[0]
        content.reading.append(
            f"PRIM found {len(boxes)} box{'es' if len(boxes) > 1 else ''} of conditions where the design "
            f"fails. Box 1 ({first['rule']}) holds {percent(first['coverage'])} of the failing "
            "samples, and "
            f"{percent(first['density'])} of the samples inside it fail."
        )
    for name in ("discovery.md", "discovery_spec.yaml"):
        if (folder / name).is_file():
            content.details.append((name, (folder / name).read_text(encoding="utf-8")))
    content.figures += folder_figures(folder)
    return content


def _plus_minus(value: Any, half_width: Any) -> str:
    """'0.62 ± 0.1', or just the value when the index has no interval (Morris's mu)."""
    return number(value) if _missing(half_width) else f"{number(value)} ± {number(half_width)}"


def sensitivity_content(folder: Path, manifest: Mapping[str, Any] | None) -> Content:
    """A sensitivity analysis: indices per parameter with their intervals, the most influential first."""
    indices = read_csv(folder, "indices.csv")
    content = Content("sensitivity", f"Sensitivity analysis {(manifest or {}).get('name', folder.name)}")
    single = indices[indices["index"] != "S2"]
    for method, group in single.groupby("method", sort=False):  # in the file's order: Sobol first
        wide = group.pivot(index="parameter", columns="index", values="value").sort_index()
        half = group.pivot(index="parameter", columns="index", values="ci").reindex_like(wide)
        order = [c for c in ("ST", "mu_star", "S1", "mu", "sigma") if c in wide.columns]
        wide = wide.sort_values(order[0], ascending=False, kind="stable")
        table = pd.DataFrame({"parameter": wide.index.map(str)})
        for index in order:
            table[index] = [_plus_minus(v, c) for v, c in zip(wide[index], half.loc[wide.index, index])]
        content.tables.append(Table(f"{method}: indices (value ± half-width of the 95% interval)", table))
        top = wide.index[0]
        lead = order[0]
        content.reading.append(
            f"{method.capitalize()}: the most influential parameter is {top} ({lead} = "
            f"{_plus_minus(wide.loc[top, lead], half.loc[top, lead])})"
            + (
                f", then {wide.index[1]} ({lead} = {number(wide.loc[wide.index[1], lead])})."
                if len(wide) > 1
                else "."
            )
        )
    pairs = indices[indices["index"] == "S2"].sort_values(
        ["value", "parameter"], ascending=[False, True], kind="stable"
    )
    if not pairs.empty:
        top_pairs = pairs.head(MAX_INTERACTIONS)
        content.tables.append(
            Table(
                "Largest interactions (Sobol S2)",
                pd.DataFrame(
                    {
                        "pair": top_pairs["parameter"].map(str),
                        "S2": [
                            f"{number(v)} ± {number(c)}" for v, c in zip(top_pairs["value"], top_pairs["ci"])
                        ],
                    }
                ),
            )
        )
    content.figures += folder_figures(folder)
    return content


def validation_content(folder: Path, manifest: Mapping[str, Any] | None) -> Content:
    """A validation: every target with its band, what was measured and whether it passed."""
    from experiments.studies.validate import format_measured

    report = read_csv(folder, "validation.csv")
    content = Content("validation", "Validation against published outcomes")
    passed = report["passed"].map(_true)
    table = pd.DataFrame(
        {
            "target": report["target"].map(str),
            "expected": report["expected"].map(str),
            "accepted": report["band"].map(str),
            "measured (95% CI)": [format_measured(row) for _, row in report.iterrows()],
            "result": passed.map({True: "pass", False: "FAIL"}),
        }
    )
    content.tables.append(Table("Validation targets", table))
    content.reading.append(f"{int(passed.sum())} of {len(report)} targets pass.")
    failing = report.loc[~passed, "target"].tolist()
    if failing:
        content.reading.append("Failing: " + "; ".join(map(str, failing)) + ".")
    content.figures += folder_figures(folder)
    return content


def story_content(folder: Path, manifest: Mapping[str, Any] | None) -> Content:
    """A story: the aligned timeline of one alliance in two worlds (the first rows), and the figure."""
    timeline = read_csv(folder, "story.csv")
    content = Content("story", "Story of one alliance in two worlds")
    shown = timeline.head(STORY_MAX_ROWS).astype(object).where(timeline.head(STORY_MAX_ROWS).notna(), "")
    note = (
        f"first {STORY_MAX_ROWS} of {len(timeline)} rows; all are in story.csv"
        if len(timeline) > STORY_MAX_ROWS
        else ""
    )
    content.tables.append(Table("Aligned timeline", shown.map(str), note))
    if "week" in timeline.columns and not timeline.empty:
        content.reading.append(
            f"The timeline has {len(timeline)} rows, from week {number(timeline['week'].min())} "
            f"to week {number(timeline['week'].max())}."
        )
    parting = (manifest or {}).get("parting_week", "absent")
    if parting is None:
        content.reading.append("The two worlds never part: the alliance lives the same life in both.")
    elif parting != "absent":
        content.reading.append(f"The two worlds part in week {parting}.")
    content.figures += folder_figures(folder)
    return content


CONTENT: dict[str, Callable[[Path, Any], Content]] = {
    "run": run_content,
    "sweep": sweep_content,
    "compare": compare_content,
    "story": story_content,
    "stress": stress_content,
    "discovery": discovery_content,
    "sensitivity": sensitivity_content,
    "validation": validation_content,
}
#: Kinds written into an engine results folder: their trust trajectories come from its time series.
ENGINE_KINDS = ("compare", "stress", "discovery", "validation")


def report_content(folder: str | Path) -> Content:
    """Everything the report of `folder` shows; ReportError if it is no result folder."""
    folder = Path(folder)
    kind = detect_kind(folder)
    manifest = read_manifest(folder)
    if kind in ("run", "sweep") and manifest is None:
        raise ReportError(f"{folder} has no {MANIFEST}")
    content = CONTENT[kind](folder, manifest)
    if kind in ENGINE_KINDS and manifest is not None and manifest.get("kind") == "sweep":
        content.figures += sweep_trust_figure(folder, manifest, None)
    content.provenance = provenance_rows(kind, manifest)
    content.details = scenario_details(manifest) + content.details
    return content


# --------------------------------------------------------------------------- HTML

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 62rem;
       margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
.kind { color: #555; margin-top: 0; }
.reading p { font-size: 1.05rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
.note { color: #555; font-size: 0.85rem; }
figure { margin: 1rem 0; }
figure img { max-width: min(100%, 44rem); height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.9rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; font-size: 0.9rem; }
dt { font-weight: 600; }
dd { margin: 0; word-break: break-word; }
pre { background: #f7f7f7; padding: 0.6rem; overflow-x: auto; font-size: 0.8rem; }
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def table_html(table: Table) -> str:
    """One table: its caption, header and cells, every string escaped."""
    head = "".join(f"<th>{_e(name)}</th>" for name in table.cells.columns)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>"
        for row in table.cells.itertuples(index=False)
    )
    note = f'\n<p class="note">{_e(table.note)}</p>' if table.note else ""
    return f"<table>\n<caption>{_e(table.caption)}</caption>\n<tr>{head}</tr>\n{body}\n</table>{note}"


def figure_html(caption: str, png: bytes) -> str:
    """One figure, its PNG embedded as base64."""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img alt="{_e(caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def render(content: Content, folder_name: str) -> str:
    """The whole page as one string."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(content.title)} - alliance-sim report</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(content.title)}</h1>",
        f'<p class="kind">{_e(KIND_TITLES[content.kind])} report of the folder {_e(folder_name)}, '
        f"made by {PROG} report</p>",
        '<h2>What the result says</h2>\n<div class="reading">',
        *(f"<p>{_e(line)}</p>" for line in content.reading),
        "</div>",
        "<h2>Headline table</h2>",
        *(table_html(table) for table in content.tables),
    ]
    if content.figures:
        parts.append("<h2>Figures</h2>")
        parts += [figure_html(caption, png) for caption, png in content.figures]
    parts.append("<h2>What was run</h2>\n<dl>")
    parts += [f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>" for label, value in content.provenance]
    parts.append("</dl>")
    for summary, text in content.details:
        parts.append(f"<details><summary>{_e(summary)}</summary>\n<pre>{_e(text)}</pre>\n</details>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def build_report(folder: str | Path) -> str:
    """The HTML of the report of `folder` (see the module docstring), without writing it."""
    folder = Path(folder)
    return render(report_content(folder), folder.resolve().name)


def write_report(folder: str | Path) -> Path:
    """Write `folder`/report.html (see the module docstring) and return its path.

    Raises ReportError (a StoreError) when the folder is not a result folder, a headline file
    lacks its documented columns, or the page cannot be written.
    """
    from experiments.engine.outputs import write_text_atomic

    folder = Path(folder)
    page = build_report(folder)
    path = folder / REPORT_HTML
    try:
        write_text_atomic(path, page)
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def heading_of(folder: str | Path) -> str:
    """What kind of result `folder` holds, as the report's kind line says it ("Sweep")."""
    return KIND_TITLES[detect_kind(folder)]
