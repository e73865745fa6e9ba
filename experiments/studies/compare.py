"""Paired counterfactuals: one scenario as given and with some values changed, on common random numbers.

A trainer's question is "what difference does this one lever make?". `compare` answers it by
running the scenario twice per replication, once as given (the *baseline*) and once with the
changes (the *alternative*), both from the same seed, so each pair of runs shares its firms,
managers and shocks and differs only by what the lever does::

    from experiments.studies.compare import compare
    table = compare("configs/baseline.yaml", {"governance.risk_clinic": "periodic"}, replications=40)

The two arms are one `validation.arms_experiment` run by `sweep.run_sweep` into a resumable
results folder (its manifest.json holds the provenance). For each metric the table gives the mean
over replications in each arm, the mean paired difference (alternative - baseline) and its 95% t
interval (`stats.paired_difference`). Because every alliance exists in both worlds (in cohort mode
the same id is the same partnership), the outcomes are also paired alliance by alliance: the flips
table counts the alliances whose outcome changed, from what to what. `alliance-sim compare` writes
both tables and a figure of the differences next to the engine's files.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.analysis.stats import paired_difference
from experiments.engine.arms import arms_experiment
from experiments.engine.guards import check_count
from experiments.engine.spec import ExperimentSpec, KeepSpec, SpecError, as_scenario
from experiments.present import page
from experiments.present import text as fmt
from experiments.present.text import describe_changes, left_aligned, value_text
from experiments.studies.base import (
    RESULTS_DIR,
    CliError,
    Study,
    Subparsers,
    add_scenario_arguments,
    add_workers_argument,
    out_folder,
    print_written,
    require_positive,
)
from sim import OUTCOMES, REASONS, Scenario, build_scenario, load_scenario, parse_assignment

#: 2 arms x 60 replications of configs/baseline.yaml took 64-87 s with --workers 2 on 2 shared, busy cores.
#: The study this module's folders are claimed for, and what it is in words (experiments.engine.store).
CLAIM = {"study": "compare", "title": "a comparison"}
DEFAULT_REPLICATIONS = 60
DEFAULT_SEED = 20240917
COMPARISON_CSV = "comparison.csv"
FLIPS_CSV = "flips.csv"
FIGURE_STEM = "comparison"
COMPARISON_COLUMNS = ("metric", "baseline", "alternative", "difference", "ci_low", "ci_high")
FLIP_COLUMNS = ("baseline_outcome", "alternative_outcome", "alliances", "per_replication")
ARMS = ("baseline", "alternative")
#: Top-level scenario sections a change may not touch: they do not change what is simulated.
NOT_LEVERS = ("name", "description", "output")

#: Metric name (a column of the comparison table) -> its label for people, in reporting order.
METRICS: dict[str, str] = {
    "success_rate": "Success rate (of decided alliances)",
    "mean_duration_weeks": "Mean duration of decided alliances (weeks)",
    "mean_value_realized": "Mean value realised per alliance",
    "mean_final_trust": "Mean final organisational trust (0-1)",
    "mean_governance_cost": "Mean governance cost per alliance (value units, all partners)",
    "mean_net_value": "Mean net value per alliance (value units, all partners, every cost paid)",
    **{f"failure_rate_{reason}": f"Failure rate: {reason.replace('_', ' ')}" for reason in REASONS},
}
#: Metrics that are shares of decided alliances (shown as percentages).
RATE_METRICS = ("success_rate", *(f"failure_rate_{reason}" for reason in REASONS))


class CompareError(SpecError):
    """A comparison that cannot be made as asked; the message says why and what is allowed."""


# --------------------------------------------------------------------------- the experiment


def check_changes(base: Scenario, changes: Mapping[str, Any]) -> Scenario:
    """The alternative scenario: `base` with `changes` applied and validated by the schema
    (ScenarioError naming the key and what is allowed), or CompareError for no or non-lever changes."""
    if not changes:
        raise CompareError(
            "nothing to compare: give at least one change, e.g. --set governance.risk_clinic=periodic"
        )
    for path in changes:
        if path.split(".", 1)[0] in NOT_LEVERS:
            raise CompareError(
                f"--set {path}: {', '.join(NOT_LEVERS)} do not change the simulation; change a value in "
                "simulation, formation, firms, managers, governance, environment or coefficients"
            )
    return build_scenario(base, dict(changes), source=f"{base.name} with the changes")


def comparison_experiment(base: Scenario, changes: Mapping[str, Any], *, replications: int, seed: int):
    """The engine's experiment: point 0 the baseline, point 1 the alternative, on common random numbers."""
    return arms_experiment(
        f"compare_{base.name}",
        base,
        {"baseline": {}, "alternative": dict(changes)},
        replications=replications,
        seed=seed,
        keep=KeepSpec(outcomes=True, timeseries_every_weeks=0, events=False),
    )


def compare(
    scenario: Scenario | Mapping | str | Path,
    changes: Mapping[str, Any],
    *,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int = DEFAULT_SEED,
    out: str | Path | None = None,
    workers: int | None = None,
    progress: bool = False,
    figure: bool = True,
    command: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Run `scenario` as given and with `changes` (dotted path -> value) on common random numbers.

    Args:
        scenario: a scenario file, a `Scenario` or a mapping of scenario sections.
        changes: the values the alternative changes, e.g. {"governance.risk_clinic": "periodic"}.
        replications: pairs of runs (at least 2: an interval needs two).
        seed: the experiment's seed; the same seed gives the same table.
        out: the results folder (resumed if it holds this comparison); None: a temporary folder,
            removed afterwards.
        workers: worker processes (default: every core; 1 runs in this process).
        progress: show the engine's progress bar.
        figure: draw comparison.png and comparison.svg into `out`.
        command: the command line recorded in the manifest (default: sys.argv).

    Returns the comparison table (COMPARISON_COLUMNS, one row per metric, success rate first);
    `table.attrs["flips"]` holds the flips table (FLIP_COLUMNS). With `out`, writes comparison.csv,
    flips.csv and the figure there. Raises ScenarioError (a bad key or value), CompareError or
    StoreError (a folder holding another experiment).
    """
    from experiments.studies.sweep import run_sweep

    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 2:
        raise CompareError(
            f"--replications must be an integer of at least 2 (an interval needs two), got {replications!r}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise CompareError(f"--seed must be a non-negative integer, got {seed!r}")
    check_count("--replications", replications, ExperimentSpec, "replications", CompareError)
    base = as_scenario(scenario)
    check_changes(base, changes)
    experiment = comparison_experiment(base, changes, replications=replications, seed=seed)
    with tempfile.TemporaryDirectory(prefix="alliance-sim-compare-") as scratch:
        folder = Path(out) if out is not None else Path(scratch) / "comparison"
        run_sweep(experiment, folder, workers=workers, progress=progress, command=command, **CLAIM)
        table, flips = comparison_tables(folder, replications)
        if out is not None:
            write_comparison(folder, table, flips, title=describe_changes(changes), figure=figure)
    table.attrs["flips"] = flips
    return table


def comparison_tables(folder: str | Path, replications: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The comparison and flips tables of a comparison folder, over its first `replications`."""
    from experiments.engine.sweep import load_outcomes, load_runs

    runs = load_runs(folder)
    runs = runs[(runs["replication"] < replications) & (runs["status"] == "ok")]
    outcomes = load_outcomes(folder, columns=["point_id", "replication", "alliance_id", "outcome"])
    outcomes = outcomes[outcomes["replication"] < replications]
    return comparison_table(runs), outcome_flips(outcomes)


def per_run_metrics(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per run (indexed by point_id, replication), one column per metric of METRICS."""
    frame = pd.DataFrame(index=pd.MultiIndex.from_frame(runs[["point_id", "replication"]]))
    decided = runs["decided"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        for metric in (
            "success_rate", "mean_duration_weeks", "mean_value_realized", "mean_final_trust",
            "mean_governance_cost", "mean_net_value",
        ):  # fmt: skip
            values = runs[metric] if metric in runs.columns else pd.Series(np.nan, index=runs.index)
            frame[metric] = values.to_numpy(dtype=float)
        for reason in REASONS:
            rate = runs[f"failures_{reason}"].to_numpy(dtype=float) / decided
            frame[f"failure_rate_{reason}"] = np.where(decided > 0, rate, np.nan)
    return frame


def comparison_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Baseline (point 0) against alternative (point 1), paired by replication, for every metric.

    For each metric, the replications where both arms have a value are paired; baseline and
    alternative are their means over those pairs, so difference = alternative - baseline, and
    (ci_low, ci_high) is the 95% t interval of the mean paired difference."""
    metrics = per_run_metrics(runs)
    baseline, alternative = metrics.xs(0, level="point_id"), metrics.xs(1, level="point_id")
    shared = baseline.index.intersection(alternative.index).sort_values()
    rows = []
    for metric in METRICS:
        base = baseline.loc[shared, metric].to_numpy()
        alt = alternative.loc[shared, metric].to_numpy()
        both = np.isfinite(base) & np.isfinite(alt)
        result = paired_difference(base[both], alt[both])
        rows.append(
            {
                "metric": metric,
                "baseline": float(base[both].mean()) if both.any() else np.nan,
                "alternative": float(alt[both].mean()) if both.any() else np.nan,
                "difference": result["mean"],
                "ci_low": result["ci_low"],
                "ci_high": result["ci_high"],
            }
        )
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))


def outcome_flips(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Alliances paired by (replication, alliance_id) across the two arms: how many went from each
    baseline outcome to each different alternative outcome (only the changed ones, in OUTCOMES order),
    in total and per replication."""
    keyed = outcomes.set_index(["replication", "alliance_id"])
    base = keyed.loc[keyed["point_id"] == 0, "outcome"]
    alt = keyed.loc[keyed["point_id"] == 1, "outcome"]
    paired = pd.concat({"baseline": base, "alternative": alt}, axis=1, join="inner")
    n_replications = max(int(outcomes["replication"].nunique()), 1)
    rows = []
    for before in OUTCOMES:
        for after in OUTCOMES:
            if before == after:
                continue
            count = int(((paired["baseline"] == before) & (paired["alternative"] == after)).sum())
            if count:
                rows.append((before, after, count, count / n_replications))
    return pd.DataFrame(rows, columns=list(FLIP_COLUMNS)).astype(
        {"alliances": "int64", "per_replication": "float64"}
    )


def flip_counts(flips: pd.DataFrame) -> tuple[int, int]:
    """(alliances that became a success, alliances that stopped being one)."""
    gained = int(flips.loc[flips["alternative_outcome"] == "success", "alliances"].sum())
    lost = int(flips.loc[flips["baseline_outcome"] == "success", "alliances"].sum())
    return gained, lost


# --------------------------------------------------------------------------- writing


def write_comparison(
    folder: Path, table: pd.DataFrame, flips: pd.DataFrame, *, title: str, figure: bool = True
) -> list[Path]:
    """comparison.csv, flips.csv and (with `figure`) comparison.png/.svg in `folder`."""
    from experiments.engine.outputs import write_text_atomic

    write_text_atomic(folder / COMPARISON_CSV, table.to_csv(index=False))
    write_text_atomic(folder / FLIPS_CSV, flips.to_csv(index=False))
    written = [folder / COMPARISON_CSV, folder / FLIPS_CSV]
    if figure:
        from experiments.present.figures import save_figure
        from experiments.present.figures.comparison import paired_differences_figure

        labels = {metric: METRICS[metric] for metric in table["metric"]}
        drawing = paired_differences_figure(table, labels=labels, rates=RATE_METRICS, title=title)
        written += save_figure(drawing, folder / FIGURE_STEM)
    return written


# --------------------------------------------------------------------------- reading the result


def _number_text(metric: str, value: float, *, signed: bool = False) -> str:
    if not np.isfinite(value):
        return "n/a"
    sign = "+" if signed else ""
    if metric in RATE_METRICS:
        return f"{value * 100:{sign}.1f}" + (" pp" if signed else "%")
    if metric == "mean_duration_weeks":
        return f"{value:{sign}.1f}"
    return f"{value:{sign}.3f}"


def table_text(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison table as text for a terminal: metrics in words, rates in % and points (pp)."""
    rows = []
    for _, row in table.iterrows():
        metric = row["metric"]
        interval = (
            f"{_number_text(metric, row['ci_low'], signed=True)} to "
            f"{_number_text(metric, row['ci_high'], signed=True)}"
            if np.isfinite(row["ci_low"])
            else "n/a"
        )
        rows.append(
            {
                "metric": METRICS.get(metric, metric),
                "baseline": _number_text(metric, row["baseline"]),
                "alternative": _number_text(metric, row["alternative"]),
                "difference": _number_text(metric, row["difference"], signed=True),
                "95% interval": interval,
            }
        )
    return pd.DataFrame(rows)


def flips_text(flips: pd.DataFrame, replications: int) -> str:
    """Two lines: the alliances that became successes and those that stopped being successes."""
    gained, lost = flip_counts(flips)
    changed = int(flips["alliances"].sum())
    return (
        f"Alliances whose outcome changed: {changed} over {replications} replications "
        f"({changed / replications:.1f} per replication)\n"
        f"  became a success: {gained}; stopped being a success: {lost} (all changes: {FLIPS_CSV})"
    )


# --------------------------------------------------------------------------- command line


CHANGE_HELP = (
    "a value the alternative changes, by its dotted path, e.g. --set governance.risk_clinic=periodic; "
    "VALUE is read as YAML; repeatable; at least one"
)


def add_change_arguments(parser: argparse.ArgumentParser) -> None:
    """SCENARIO and --set KEY=VALUE (the cli's), the --set help saying that they are the changes."""
    add_scenario_arguments(parser)
    changes = next(action for action in parser._actions if action.dest == "assignments")
    changes.help = CHANGE_HELP


def add_compare_command(subparsers: Subparsers) -> None:
    """Declare `alliance-sim compare`."""
    parser = subparsers.add_parser(
        "compare",
        allow_abbrev=False,
        help="paired counterfactual: the scenario as given against the same with --set changes",
        description="Run SCENARIO as given (baseline) and with the --set changes (alternative) on "
        "common random numbers: each replication runs both worlds from the same seed. Reports for "
        "each metric (success rate, mean duration, value realised, final trust, failure rate by "
        "reason) both means, the paired difference and its 95% t interval, and how many alliances "
        "changed outcome in each direction.",
        epilog="DIR gets comparison.csv (metric, baseline, alternative, difference, ci_low, ci_high), "
        "flips.csv (baseline_outcome, alternative_outcome, alliances, per_replication: the alliances "
        "whose outcome changed), comparison.png and comparison.svg, and the engine's files "
        "(manifest.json with provenance, runs/, outcomes/). Resumable: run the same command again to "
        "finish an interrupted comparison; a larger --replications extends it. A DIR holding another "
        "comparison is refused. Guide: docs/how-to/compare-two-designs.md.",
    )
    add_change_arguments(parser)
    parser.add_argument(
        "--replications",
        type=int,
        metavar="N",
        default=DEFAULT_REPLICATIONS,
        help=f"pairs of runs (default: {DEFAULT_REPLICATIONS}; at least 2)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        metavar="S",
        default=DEFAULT_SEED,
        help=f"experiment seed (default: {DEFAULT_SEED})",
    )
    add_workers_argument(parser)
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help=f"results folder (default: {RESULTS_DIR}/compare-<scenario name>-<changes>)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    parser.set_defaults(handler=compare_command)


def default_folder_name(base: Scenario, changes: Mapping[str, Any]) -> str:
    """compare-<scenario>-<key=value>..., with characters unsafe in a folder name replaced by '_'."""
    text = "-".join(f"{path}={value_text(value)}" for path, value in changes.items())
    return re.sub(r"[^A-Za-z0-9._=-]", "_", f"compare-{base.name}-{text}")


def compare_command(args: argparse.Namespace) -> int:
    """`alliance-sim compare`: run (or resume) the comparison, print the table and the flips."""
    require_positive(args, "workers")
    if args.replications < 2:
        raise CliError(
            f"--replications must be at least 2 (a paired interval needs two), got {args.replications}"
        )
    if args.seed < 0:
        raise CliError(f"--seed must be a non-negative integer, got {args.seed}")
    changes = dict(parse_assignment(text) for text in args.assignments)
    base = load_scenario(args.scenario)
    check_changes(base, changes)
    folder = out_folder(args, default_folder_name(base, changes))
    table = compare(
        base,
        changes,
        replications=args.replications,
        seed=args.seed,
        out=folder,
        workers=args.workers,
        progress=not args.quiet,
        command=args.command_line,
    )
    if not args.quiet:
        print(
            f"{base.name}: baseline against {describe_changes(changes)}, "
            f"{args.replications} paired replications (seed {args.seed})"
        )
        print(left_aligned(table_text(table)))
        print(flips_text(table.attrs["flips"], args.replications))
        written = [COMPARISON_CSV, FLIPS_CSV, f"{FIGURE_STEM}.png", f"{FIGURE_STEM}.svg"]
        print_written(written, folder)
    return True


# --------------------------------------------------------------------------- report section


def _is_share(metric: str) -> bool:
    return "rate" in metric or "share" in metric


def _shown(metric: str) -> tuple[Any, Any]:
    """How a metric's values and its difference read: percent and points for a share."""
    if _is_share(metric):
        return fmt.percent, fmt.points_interval
    return fmt.number, fmt.signed_interval


def report_section(folder: Path, manifest: Mapping[str, Any] | None) -> page.Section:
    """A paired comparison: each metric in both worlds and the paired difference with its interval."""
    frame = page.read_csv(folder, COMPARISON_CSV, COMPARISON_COLUMNS)
    section = page.Section("compare", f"Comparison {(manifest or {}).get('name', folder.name)}")
    cells = []
    for row in frame.itertuples(index=False):
        show, diff = _shown(str(row.metric))
        cells.append(
            (
                fmt.words(row.metric),
                show(row.baseline),
                show(row.alternative),
                diff(row.difference, row.ci_low, row.ci_high),
            )
        )
    columns = ["metric", "baseline", "alternative", f"difference ({fmt.CONFIDENCE_NOTE}, paired)"]
    section.tables.append(
        page.Table(
            "Baseline against the alternative, on common random numbers", pd.DataFrame(cells, columns=columns)
        )
    )
    section.reading += compare_reading(frame, (manifest or {}).get("replications"))
    section.figures += page.folder_figures(folder) + page.engine_trust_figure(folder, manifest)
    return section


def compare_reading(frame: pd.DataFrame, replications: Any) -> list[str]:
    """The first metric (success rate) in words, then the other metrics that clearly moved."""
    if frame.empty:
        return ["comparison.csv has no rows."]
    lines = [_change_sentence(frame.iloc[0], replications)]
    clear = [row for _, row in frame.iloc[1:].iterrows() if fmt.excludes_zero(row["ci_low"], row["ci_high"])]
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
    show, diff = _shown(metric)
    direction = "rose" if row["difference"] > 0 else "fell" if row["difference"] < 0 else "stayed"
    sentence = (
        f"{fmt.words(metric).capitalize()} {direction} from {show(row['baseline'])} "
        f"to {show(row['alternative'])} ({diff(row['difference'], row['ci_low'], row['ci_high'])})"
    )
    how_many = f" at {replications} replications" if replications else ""
    if fmt.excludes_zero(row["ci_low"], row["ci_high"]):
        return (
            sentence
            + "; the interval excludes zero, so the change makes a difference beyond run-to-run noise."
        )
    return (
        sentence + f"; the interval includes zero, so{how_many} the change cannot be told apart from noise."
    )


def _short_change(row: Mapping[str, Any]) -> str:
    metric = str(row["metric"])
    show, diff = _shown(metric)
    change = diff(row["difference"], row["ci_low"], row["ci_high"])
    return f"{fmt.words(metric)} {show(row['baseline'])} to {show(row['alternative'])} ({change})"


STUDY = Study(
    name=CLAIM["study"],
    title=CLAIM["title"],
    heading="Paired comparison",
    arguments=add_compare_command,
    run=compare_command,
    section=report_section,
    tables={COMPARISON_CSV: COMPARISON_COLUMNS, FLIPS_CSV: FLIP_COLUMNS},
)
