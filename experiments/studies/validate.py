"""Validation: does the baseline reproduce what is known about real alliances?

`validate(...)` runs a set of named *arms* (the baseline and variants of it, one lever changed
each) on common random numbers through the experiment engine (workers, resumable store), then
checks every target of `TARGETS`:

* levels: the success rate of the baseline (about 50%) and of firms with a dedicated alliance
  function (about 63%, and above the baseline with a paired interval above zero);
* a shape: the hazard of premature failure over an alliance's life is an inverted U;
* directions claimed by the seed articles, each a paired difference with its 95% interval on
  the right side of zero.

Sources and operationalisation are in docs/VALIDATION.md. The arms and the measurements of the
patterns (pooled rates, paired differences, the hazard's shape) are `experiments.analysis.patterns`,
which calibration uses too; `experiments.engine.arms.arms_experiment` builds the experiment.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.analysis.patterns import (  # noqa: F401 (the old module's names)
    ARMS,
    HAZARD_PEAK_RATIO,
    HAZARD_PERIOD_WEEKS,
    OUTCOME_COLUMNS,
    arm_rates,
    inverted_u,
    paired,
    pooled_rate,
    premature_failure_hazard,
    termination_hazard,
)
from experiments.engine.arms import arms_experiment
from experiments.engine.guards import check_count
from experiments.engine.spec import ExperimentSpec, ResolvedExperiment
from experiments.present import page
from experiments.present import text as fmt
from experiments.present.text import left_aligned
from experiments.studies.base import (
    RESULTS_DIR,
    CliError,
    Study,
    Subparsers,
    add_set_argument,
    add_workers_argument,
    out_folder,
    print_written,
    require_positive,
)
from experiments.studies.validation_targets import (  # noqa: F401 (the old module's names)
    TARGETS,
    Measured,
    Target,
    direction,
    hazard_shape,
    measure_targets,
    rate_in_band,
    rate_in_band_and_above,
)
from sim import parse_assignment

#: The study this module's folders are claimed for, and what it is in words (experiments.engine.store).
CLAIM = {"study": "validate", "title": "a validation"}
DEFAULT_REPLICATIONS = 200
DEFAULT_SEED = 19960601  # Park & Russo's year; any fixed seed would do

def evaluate(runs: pd.DataFrame, outcomes: pd.DataFrame, arms: Mapping[str, int]) -> pd.DataFrame:
    """Every target checked on the runs and outcomes of an arms experiment: one row each with
    target, expected, band, measured, ci_low, ci_high, passed, note, source."""
    rows = []
    for target, measured in measure_targets(runs, outcomes, arms):
        rows.append(
            {
                "target": target.name,
                "expected": target.expected,
                "band": target.band,
                "measured": measured.value,
                "ci_low": measured.ci_low,
                "ci_high": measured.ci_high,
                "unit": target.unit,
                "passed": measured.passed,
                "note": measured.note,
                "source": target.source,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- running


REPORT_CSV = "validation.csv"
#: The columns of validation.csv a report needs (`evaluate` writes them, and the source).
REPORT_COLUMNS = ("target", "expected", "band", "measured", "ci_low", "ci_high", "unit", "passed", "note")
REPORT_MD = "validation.md"


def default_base_scenario() -> Path:
    """configs/baseline.yaml of this checkout."""
    return Path(__file__).resolve().parents[2] / "configs" / "baseline.yaml"


def validation_experiment(
    base: str | Path | None = None,
    *,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int = DEFAULT_SEED,
    overrides: Mapping[str, Any] | None = None,
) -> ResolvedExperiment:
    """The experiment `validate` runs: every arm of ARMS on common random numbers."""
    return arms_experiment(
        "validation",
        base or default_base_scenario(),
        ARMS,
        replications=replications,
        seed=seed,
        overrides=overrides,
    )


def validate(
    out: str | Path,
    *,
    base: str | Path | None = None,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int = DEFAULT_SEED,
    workers: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    progress: bool = True,
    command: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Run the validation arms into results folder `out` (resumable, like any sweep; a larger
    `replications` extends it), check every target and write validation.csv and validation.md
    there. Returns the report (see `evaluate`)."""
    from experiments.engine.outputs import write_text_atomic
    from experiments.engine.sweep import load_outcomes
    from experiments.studies.sweep import run_sweep

    experiment = validation_experiment(base, replications=replications, seed=seed, overrides=overrides)
    runs = run_sweep(experiment, out, workers=workers, progress=progress, command=command, **CLAIM)
    runs = runs[runs["replication"] < replications]
    outcomes = load_outcomes(out, OUTCOME_COLUMNS)
    outcomes = outcomes[outcomes["replication"] < replications]
    report = evaluate(runs, outcomes, {name: point for point, name in enumerate(ARMS)})
    folder = Path(out)
    write_text_atomic(folder / REPORT_CSV, report.to_csv(index=False))
    write_text_atomic(folder / REPORT_MD, report_markdown(report, replications) + "\n")
    return report


def format_measured(row: Mapping[str, Any]) -> str:
    """The measured value of a report row with its interval, as it reads in a table."""
    value, low, high = row["measured"], row["ci_low"], row["ci_high"]
    if row["unit"] == "rate":
        return fmt.percent_interval(value, low, high)
    if row["unit"] == "hazard":
        return f"peak {value:.3f} per half year (first {low:.3f}, last {high:.3f})"
    if row["unit"] == "share":
        return fmt.percent_interval(value, low, high)
    if row["unit"] == "years":
        return f"{value:.1f} years ({low:.1f} to {high:.1f})"
    if row["unit"] == "number":
        return f"{value:+.2f} ({low:+.2f} to {high:+.2f})"
    return fmt.points_range(value, low, high)


def report_table(report: pd.DataFrame) -> pd.DataFrame:
    """The report as the columns people read: target, expected, accepted band, measured, result."""
    return pd.DataFrame(
        {
            "target": report["target"],
            "expected": report["expected"],
            "accepted": report["band"],
            "measured (95% CI)": [format_measured(row) for _, row in report.iterrows()],
            "result": report["passed"].map({True: "pass", False: "FAIL"}),
        }
    )


def report_markdown(report: pd.DataFrame, replications: int) -> str:
    """The report as a Markdown table, with the notes underneath."""
    table = report_table(report)
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(index=False)]
    lines.append("")
    lines.append(
        f"{replications} replications per arm on common random numbers; differences are paired "
        "(replication r of one arm against replication r of the other) with a t interval."
    )
    for _, row in report.iterrows():
        if row["note"]:
            lines.append(f"- {row['target']}: {row['note']}")
    passed = int(report["passed"].sum())
    lines.append("")
    lines.append(f"{passed} of {len(report)} targets pass.")
    return "\n".join(lines)


# --------------------------------------------------------------------------- command line


def add_validate_command(subparsers: Subparsers) -> None:
    """Declare `alliance-sim validate`."""
    from experiments.studies.validate import DEFAULT_REPLICATIONS

    parser = subparsers.add_parser(
        "validate",
        allow_abbrev=False,
        help="check the baseline against published alliance outcomes and the seed articles' claims",
        description="Run the baseline and its validation arms (one lever changed each) on common "
        "random numbers and check every target: success about 50% without and about 63% with an "
        "alliance function, an inverted-U termination hazard, and the direction of each claim of "
        "the seed articles as a paired difference with its 95% interval. Exit status 0 only when "
        "every target passes, 1 when one fails.",
        epilog="Resumable like a sweep: rerun the same command to finish an interrupted run; a larger "
        "--replications extends it. Writes validation.csv and validation.md into DIR. Targets and "
        "sources: docs/VALIDATION.md.",
    )
    parser.add_argument(
        "--replications",
        type=int,
        metavar="N",
        default=DEFAULT_REPLICATIONS,
        help=f"replications per arm (default: {DEFAULT_REPLICATIONS})",
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help=f"results folder (default: {RESULTS_DIR}/validation)"
    )
    parser.add_argument(
        "--scenario",
        type=Path,
        metavar="SCENARIO",
        help="the baseline scenario to validate (default: configs/baseline.yaml)",
    )
    add_workers_argument(parser)
    add_set_argument(
        parser,
        "override a baseline value by its dotted path in every arm, e.g. "
        "--set coefficients.reviews.satisfaction_threshold=0.9; repeatable",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=validate_command)


def validate_command(args: argparse.Namespace) -> int:
    """`alliance-sim validate`: run the arms, print the table, exit 0 only if every target passes."""
    from experiments.studies.validate import REPORT_CSV, REPORT_MD, report_table, validate

    require_positive(args, "workers")
    if args.replications < 2:
        raise CliError(
            f"--replications must be at least 2 (a paired interval needs two), got {args.replications}"
        )
    check_count("--replications", args.replications, ExperimentSpec, "replications", CliError)
    if args.scenario is not None and not args.scenario.is_file():
        raise CliError(f"--scenario {args.scenario}: no such file")
    overrides = dict(parse_assignment(text) for text in args.assignments)
    folder = out_folder(args, "validation")
    report = validate(
        folder,
        base=args.scenario,
        replications=args.replications,
        workers=args.workers,
        overrides=overrides,
        progress=not args.quiet,
        command=args.command_line,
    )
    print(left_aligned(report_table(report)))
    for _, row in report.iterrows():
        if row["note"]:
            print(f"  {row['target']}: {row['note']}")
    passed = int(report["passed"].sum())
    print(f"{passed} of {len(report)} targets pass ({args.replications} replications per arm).")
    print_written([folder / REPORT_CSV, folder / REPORT_MD])
    return bool(passed == len(report))


# --------------------------------------------------------------------------- report section


def report_section(folder: Path, manifest: Mapping[str, Any] | None) -> page.Section:
    """A validation: every target with its band, what was measured and whether it passed."""
    report = page.read_csv(folder, REPORT_CSV, REPORT_COLUMNS)
    section = page.Section("validate", "Validation against published outcomes")
    passed = report["passed"].map(page.is_true)
    table = report_table(report.assign(passed=passed)).map(str)
    section.tables.append(page.Table("Validation targets", table))
    section.reading.append(f"{int(passed.sum())} of {len(report)} targets pass.")
    failing = report.loc[~passed, "target"].tolist()
    if failing:
        section.reading.append("Failing: " + "; ".join(map(str, failing)) + ".")
    section.figures += page.folder_figures(folder) + page.engine_trust_figure(folder, manifest)
    return section


STUDY = Study(
    name=CLAIM["study"],
    title=CLAIM["title"],
    heading="Validation",
    arguments=add_validate_command,
    run=validate_command,
    section=report_section,
    tables={REPORT_CSV: REPORT_COLUMNS},
)
