"""`alliance-sim sweep` and `summarize`: every design point of an experiment, replicated, and its summary.

    from experiments import run_sweep, load_runs, load_outcomes, summarize
    runs = run_sweep("configs/experiments/meeting_frequency.yaml", "results/meeting_frequency")
    summary = summarize("results/meeting_frequency")   # one row per design point; writes summary.csv

`run_sweep` is the engine's (`experiments.engine.sweep.run_sweep`) with the per-point summary
written when it finishes (summary.csv); every study that runs arms calls it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.analysis import summary as analysis
from experiments.engine import sweep as engine
from experiments.engine.store import (
    MANIFEST,
    SUMMARY,
    StoreError,
    read_points,
    read_table,
    require_experiment_folder,
    runs_changed,
)
from experiments.engine.sweep import (
    SweepInterrupted,
    check_executor_choice,
    cluster_executor,
    describe_executor,
    load_events,
    load_outcomes,
    load_runs,
    load_timeseries,
    pending_tasks,
)
from experiments.present import page
from experiments.present import text as fmt
from experiments.present.text import percent_range, points_range
from experiments.studies.base import (
    PROG,
    RESULTS_DIR,
    CliError,
    Study,
    Subparsers,
    add_set_argument,
    add_workers_argument,
    assignments,
    out_folder,
    print_written,
    require_positive,
)

__all__ = [
    "SweepInterrupted",
    "check_executor_choice",
    "cluster_executor",
    "describe_executor",
    "load_events",
    "load_outcomes",
    "load_runs",
    "load_timeseries",
    "pending_tasks",
    "run_sweep",
    "summarize",
    "summary_table",
    "write_figures",
    "write_summary",
]
SURVIVAL_MAX_CURVES = 8
FIGURES = "figures"
CLAIM = {"study": "sweep", "title": "a sweep"}


def run_sweep(spec: Any, out: str | Path, **options: Any) -> pd.DataFrame:
    """Run the experiment `spec` into folder `out` and return its runs table; writes summary.csv.

    The options are those of `experiments.engine.sweep.run_sweep` (workers, replications,
    overrides, retry_failed, progress, executor, client, scheduler, command, study, title)."""
    options.setdefault("study", CLAIM["study"])
    options.setdefault("title", CLAIM["title"])
    return engine.run_sweep(spec, out, finish=write_summary, **options)


def summarize(folder: str | Path, *, figures: bool = True) -> pd.DataFrame:
    """One row per design point (see `analysis.point_summary`), with the paired difference from
    the reference point when the spec names one; writes summary.csv and, with `figures`, the
    figures (see `write_figures`). Works on a finished sweep and on one still incomplete."""
    summary = write_summary(folder)
    if figures:
        write_figures(folder, summary)
    return summary


def write_summary(folder: str | Path) -> pd.DataFrame:
    """Compute the per-point summary and write it to summary.csv atomically."""
    from experiments.engine.outputs import write_text_atomic

    folder = Path(folder)
    manifest = require_experiment_folder(folder)
    experiment = manifest["experiment"]
    factors = list(experiment["spec"]["factors"])
    runs = read_table(folder, "runs")
    unreadable = list(runs.attrs.get("unreadable", []))
    if runs.empty:
        raise StoreError(
            f"{folder} has no complete runs yet; run the sweep first" + _unreadable_note(unreadable)
        )
    outcomes = read_table(folder, "outcomes", ["point_id", "outcome", "duration_weeks"])
    unreadable += outcomes.attrs.get("unreadable", [])
    summary = analysis.point_summary(runs, factors, outcomes if not outcomes.empty else None)
    reference = experiment.get("reference_point")
    if reference is not None:
        paired = bool(experiment["spec"]["common_random_numbers"])
        diffs = analysis.differences_from_reference(runs, reference, paired=paired)
        diffs = diffs.rename(
            columns={
                "n": "diff_n",
                "difference": "diff_success_rate",
                "ci_low": "diff_ci_low",
                "ci_high": "diff_ci_high",
            }
        )
        summary = summary.merge(diffs, on="point_id", how="left")
        summary.insert(1, "reference", summary["point_id"] == reference)
    write_text_atomic(folder / SUMMARY, summary.to_csv(index=False))
    summary.attrs["unreadable"] = unreadable  # files left out (damaged); a sweep quarantines them
    return summary


def _unreadable_note(unreadable: list[str]) -> str:
    return (
        f" ({len(unreadable)} run files could not be read: {'; '.join(unreadable[:3])})" if unreadable else ""
    )


def write_figures(folder: str | Path, summary: pd.DataFrame) -> list[Path]:
    """Figures of a sweep into DIR/figures: success rate against each factor (pooled over the
    others, with its interval band), a heatmap for each pair of the first three factors, failures
    by reason, and survival curves by level of each factor with at most 8 levels."""
    from experiments.present import figures as fig

    folder = Path(folder)
    manifest = require_experiment_folder(folder)
    factors = list(manifest["experiment"]["spec"]["factors"])
    out = folder / FIGURES
    out.mkdir(exist_ok=True)
    written: list[Path] = []
    reference = _reference_rate(summary)
    for factor in factors:
        stem = _slug(factor)
        written += fig.save_figure(
            fig.success_by_factor(summary, factor, reference=reference), out / f"success_{stem}"
        )
        written += fig.save_figure(fig.failure_reasons(summary, factor), out / f"failures_{stem}")
    for i, fx in enumerate(factors[:3]):
        for fy in factors[i + 1 : 3]:
            figure = fig.success_heatmap(summary, fx, fy)
            written += fig.save_figure(figure, out / f"heatmap_{_slug(fx)}_{_slug(fy)}")
    outcomes = read_table(folder, "outcomes", ["point_id", "outcome", "duration_weeks"])
    if not outcomes.empty:
        points = read_points(folder)
        for factor in factors:
            if points[factor].nunique() > SURVIVAL_MAX_CURVES:
                continue
            joined = outcomes.merge(points[["point_id", factor]], on="point_id")
            curves = analysis.survival_by(joined, factor)
            labelled = {f"{factor.split('.')[-1]} = {value}": curve for value, curve in curves.items()}
            figure = fig.survival_curves(labelled, title=f"Alliance survival by {factor}")
            written += fig.save_figure(figure, out / f"survival_{_slug(factor)}")
    return written


def _reference_rate(summary: pd.DataFrame) -> float | None:
    if "reference" not in summary.columns or not summary["reference"].any():
        return None
    return float(summary.loc[summary["reference"], "success_rate"].iloc[0])


def _slug(factor: str) -> str:
    return factor.replace(".", "-")


TABLE_MAX_ROWS = 40


def summary_table(folder: str | Path, max_rows: int = TABLE_MAX_ROWS) -> str:
    """The folder's summary.csv as a table to read in a terminal: factor values, success rate
    with its interval, decided alliances, median duration, and the paired difference from the
    reference point when there is one. Reads summary.csv (writing it first if missing)."""
    folder = Path(folder)
    manifest = require_experiment_folder(folder)
    path = folder / SUMMARY
    summary = pd.read_csv(path) if path.exists() else write_summary(folder)
    factors = list(manifest["experiment"]["spec"]["factors"])
    table = pd.DataFrame({_short(f): summary[f] for f in factors})
    table["success"] = [
        percent_range(r, lo, hi)
        for r, lo, hi in zip(summary["success_rate"], summary["success_ci_low"], summary["success_ci_high"])
    ]
    table["decided"] = summary["decided"]
    table["median weeks"] = summary["median_duration_weeks"].map(lambda v: "n/a" if pd.isna(v) else f"{v:g}")
    if "diff_success_rate" in summary.columns:
        table["vs reference (paired)"] = [
            "reference" if ref else points_range(d, lo, hi)
            for ref, d, lo, hi in zip(
                summary["reference"],
                summary["diff_success_rate"],
                summary["diff_ci_low"],
                summary["diff_ci_high"],
            )
        ]
    if summary["runs_failed"].sum():
        table["failed runs"] = summary["runs_failed"]
    runs = int(summary["runs_ok"].sum())
    head = (
        f"{manifest['name']}: {len(summary)} design points, {runs} runs "
        f"({manifest['runs_total']} planned); success rate with 95% Wilson interval"
    )
    text = table.head(max_rows).to_string(index=False)
    more = f"\n... {len(table) - max_rows} more points in {path}" if len(table) > max_rows else ""
    return f"{head}\n{text}{more}"


def _short(factor: str) -> str:
    return factor.split(".")[-1]


# --------------------------------------------------------------------------- command line


def add_sweep_command(subparsers: Subparsers) -> None:
    """Declare `alliance-sim sweep`."""
    parser = subparsers.add_parser(
        "sweep",
        allow_abbrev=False,
        help="run an experiment: every design point, replicated, into a resumable results folder",
        description="Run every design point of an experiment spec with its replications, on every "
        "core, writing each run to DIR as it completes. Run the same command again after an "
        "interruption (even a kill) to finish the remaining runs; completed runs are never repeated.",
        epilog="DIR gets manifest.json (spec as resolved, seeds, versions, commit), spec.yaml, "
        "points.parquet, runs/, outcomes/ (and timeseries/, events/ if the spec keeps them) with one "
        "parquet file per run, and summary.csv. A DIR made by a different spec is refused.",
    )
    parser.add_argument(
        "spec",
        metavar="SPEC",
        type=Path,
        help="experiment spec YAML, e.g. configs/experiments/governance.yaml",
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help=f"results folder (default: {RESULTS_DIR}/<experiment name>)"
    )
    add_workers_argument(parser)
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on the Dask cluster of this scheduler: an address (tcp://HOST:PORT) or the file "
        "`dask scheduler --scheduler-file FILE` writes; its workers run the sweep (not with --workers) "
        "and the results are the same as a local run's; see docs/how-to/run-sweeps-on-a-cluster.md",
    )
    parser.add_argument(
        "--replications", type=int, metavar="R", help="replications per design point (default: the spec's)"
    )
    add_set_argument(
        parser,
        "override a base-scenario value by its dotted path for every design point, e.g. "
        "--set formation.n_alliances=100; a mapping at a section is merged into it; repeatable; not a "
        "factor of the experiment",
    )
    parser.add_argument("--retry-failed", action="store_true", help="rerun the runs recorded as failed")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary table")
    parser.set_defaults(handler=sweep_command)


def sweep_command(args: argparse.Namespace) -> int:
    """`alliance-sim sweep`: run (or resume) the experiment, then print its summary."""
    from experiments.engine.runner import ClusterError
    from experiments.engine.spec import load_spec

    require_positive(args, "workers")
    if args.scheduler is not None and args.workers is not None:
        raise CliError(
            "--scheduler and --workers cannot be used together: with --scheduler the cluster's workers "
            "run the sweep (add more with `dask worker ADDRESS`)"
        )
    require_positive(args, "replications")
    overrides = assignments(args)
    experiment = load_spec(args.spec, replications=args.replications, scenario_overrides=overrides)
    folder = out_folder(args, experiment.spec.name)
    try:
        runs = run_sweep(
            experiment,
            folder,
            workers=args.workers,
            retry_failed=args.retry_failed,
            progress=not args.quiet,
            scheduler=args.scheduler,
            command=args.command_line,
        )
    except ClusterError as exc:
        raise CliError(str(exc)) from None
    if not args.quiet:
        print(sweep_report(folder, runs))
    return True


def sweep_report(folder: Path, runs: Any) -> str:
    """Runs done and failed, then the summary table."""

    failed = int((runs["status"] != "ok").sum())
    lines = [
        f"{len(runs)} runs in {folder}" + (f", {failed} failed (rerun with --retry-failed)" if failed else "")
    ]
    lines.append(summary_table(folder))
    lines.append(f"Per design point: {folder / SUMMARY}; figures: alliance-sim summarize {folder}")
    return "\n".join(lines)


def add_summarize_command(subparsers: Subparsers) -> None:
    """Declare `alliance-sim summarize`."""
    parser = subparsers.add_parser(
        "summarize",
        allow_abbrev=False,
        help="summarise a sweep's results folder: table, summary.csv and figures",
        description="Summarise the runs in a sweep's results folder (finished or not): success rate "
        "with its 95% Wilson interval, durations, failures by reason, value and trust per design "
        "point, and the paired difference from the reference point.",
        epilog="Writes DIR/summary.csv and DIR/figures/ (PNG and SVG).",
    )
    parser.add_argument("folder", metavar="DIR", type=Path, help="a folder written by alliance-sim sweep")
    parser.add_argument("--no-figures", action="store_true", help="write summary.csv only")
    parser.set_defaults(handler=summarize_command)


def summarize_command(args: argparse.Namespace) -> int:
    """`alliance-sim summarize`: write summary.csv and the figures, print the table."""
    summary = summarize(args.folder, figures=not args.no_figures)
    unreadable = summary.attrs.get("unreadable", [])
    if unreadable:
        print(
            f"{PROG}: {len(unreadable)} run files could not be read and are left out: "
            + "; ".join(unreadable[:10])
            + ("; ..." if len(unreadable) > 10 else "")
            + ". The next `alliance-sim sweep` into this folder moves them to quarantine/ and redoes "
            "those runs",
            file=sys.stderr,
        )
    print(summary_table(args.folder))
    print_written([args.folder / SUMMARY, *([] if args.no_figures else [f"{args.folder / FIGURES}/"])])
    return True


# --------------------------------------------------------------------------- report section

#: At most this many design points of a sweep are listed in its report (all are in summary.csv).
SWEEP_MAX_ROWS = 60
#: The columns of summary.csv a report needs.
SUMMARY_COLUMNS = ("point_id", "decided", "success_rate", "success_ci_low", "success_ci_high")


def fresh_summary(folder: Path) -> pd.DataFrame:
    """The sweep's summary.csv, written first if it is missing or older than the folder's runs."""
    path = folder / SUMMARY
    if not path.is_file() or path.stat().st_mtime_ns < runs_changed(folder):
        write_summary(folder)
    return page.read_csv(folder, SUMMARY, SUMMARY_COLUMNS)


def fresh_figures(folder: Path, summary: pd.DataFrame) -> list[tuple[str, bytes]]:
    """The sweep's figures/ (as `summarize` drew them), redrawn first if any is older than
    summary.csv; none if `summarize` never drew them."""
    drawn = sorted((folder / FIGURES).glob("*.png"))
    if not drawn:
        return []
    summary_time = (folder / SUMMARY).stat().st_mtime_ns
    if any(path.stat().st_mtime_ns < summary_time for path in drawn):
        write_figures(folder, summary)
    return page.folder_figures(folder)


def report_section(folder: Path, manifest: Mapping[str, Any] | None) -> page.Section:
    """A sweep: success per design point with its interval, the best point against the reference.

    The figures come from the data: summary.csv is rewritten when the runs are newer, figures/ is
    redrawn when older than summary.csv, and without figures/ the success rate by each factor is
    drawn for the page."""
    from experiments.present import figures as fig

    if manifest is None:
        raise page.ReportError(f"{folder} has no {MANIFEST}")
    summary = fresh_summary(folder)
    factors = list(manifest.get("experiment", {}).get("spec", {}).get("factors", {}))
    section = page.Section("sweep", f"Sweep {manifest.get('name', folder.name)}")
    table = pd.DataFrame({fmt.words(f): summary[f].map(page.level) for f in factors if f in summary.columns})
    table["success rate (95% CI)"] = [
        fmt.percent_interval(r, lo, hi)
        for r, lo, hi in zip(summary["success_rate"], summary["success_ci_low"], summary["success_ci_high"])
    ]
    table["decided"] = summary["decided"].map(str)
    if "median_duration_weeks" in summary.columns:
        table["median weeks"] = summary["median_duration_weeks"].map(fmt.number)
    if "mean_final_trust" in summary.columns:
        table["final trust"] = summary["mean_final_trust"].map(fmt.number)
    has_reference = "diff_success_rate" in summary.columns and "reference" in summary.columns
    if has_reference:
        table["vs reference (paired)"] = [
            "reference" if page.is_true(ref) else fmt.points_interval(d, lo, hi)
            for ref, d, lo, hi in zip(
                summary["reference"],
                summary["diff_success_rate"],
                summary["diff_ci_low"],
                summary["diff_ci_high"],
            )
        ]
    note = (
        f"first {SWEEP_MAX_ROWS} of {len(table)} points; all are in {SUMMARY}"
        if len(table) > SWEEP_MAX_ROWS
        else ""
    )
    section.tables.append(page.Table("Success rate per design point", table.head(SWEEP_MAX_ROWS), note))
    section.reading += sweep_reading(summary, factors, has_reference)
    drawn = fresh_figures(folder, summary)
    section.figures += drawn or [
        (f"success rate by {fmt.words(f)}", page.png_bytes(fig.success_by_factor(summary, f)))
        for f in factors
    ]
    section.figures += page.engine_trust_figure(folder, manifest, summary)
    return section


def _rate_of(row: Mapping[str, Any]) -> str:
    return fmt.percent_interval(row["success_rate"], row["success_ci_low"], row["success_ci_high"])


def _point_text(row: Mapping[str, Any], factors: Sequence[str]) -> str:
    return ", ".join(f"{fmt.words(f)} = {page.level(row[f])}" for f in factors if f in row)


def sweep_reading(summary: pd.DataFrame, factors: Sequence[str], has_reference: bool) -> list[str]:
    """Which point did best, and how it stands against the reference point."""
    decided = summary[summary["decided"] > 0]
    if decided.empty:
        return ["No alliance ended before the horizon at any design point, so there is no success rate."]
    ordered = decided.sort_values(["success_rate", "point_id"], ascending=[False, True], kind="stable")
    best, worst = ordered.iloc[0], ordered.iloc[-1]
    lines = [
        f"Across {len(summary)} design points, success ranged from {fmt.percent(worst['success_rate'])} "
        f"({_point_text(worst, factors)}) to {fmt.percent(best['success_rate'])} "
        f"({_point_text(best, factors)})."
    ]
    reference = summary[summary["reference"].map(page.is_true)] if has_reference else summary.iloc[:0]
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
    if not fmt.missing(diff):
        verdict = (
            "the paired interval excludes zero, so the difference is more than run-to-run noise."
            if fmt.excludes_zero(low, high)
            else "the paired interval includes zero, so the difference cannot be told apart from noise at "
            "these replications."
        )
        lines.append(
            f"Paired by replication, the difference is {fmt.points_interval(diff, low, high)}: {verdict}"
        )
    return lines


STUDY = Study(
    name=CLAIM["study"],
    title=CLAIM["title"],
    heading="Sweep",
    arguments=add_sweep_command,
    run=sweep_command,
    section=report_section,
    tables={SUMMARY: SUMMARY_COLUMNS},
)
