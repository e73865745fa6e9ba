"""Validation: does the baseline reproduce what is known about real alliances?

`validate(...)` runs a set of named *arms* (the baseline and variants of it, one lever changed
each) on common random numbers through the experiment engine (workers, resumable store), then
checks every target of `TARGETS`:

* levels: the success rate of the baseline (about 50%) and of firms with a dedicated alliance
  function (about 63%, and above the baseline with a paired interval above zero);
* a shape: the hazard of premature failure over an alliance's life is an inverted U;
* directions claimed by the seed articles, each a paired difference with its 95% interval on
  the right side of zero.

Sources and operationalisation are in docs/VALIDATION.md. `arms_experiment` builds the engine's
experiment for any set of arms; calibration uses it too.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.analysis.stats import hazard_by_period, paired_difference, wilson_interval
from experiments.engine.arms import arms_experiment
from experiments.engine.guards import check_count
from experiments.engine.spec import ExperimentSpec, ResolvedExperiment
from experiments.present.text import left_aligned
from experiments.studies.base import (
    RESULTS_DIR,
    CliError,
    Study,
    Subparsers,
    add_workers_argument,
    require_positive,
)
from sim import parse_assignment

#: The study this module's folders are claimed for, and what it is in words (experiments.engine.store).
CLAIM = {"study": "validate", "title": "a validation"}
DEFAULT_REPLICATIONS = 200
DEFAULT_SEED = 19960601  # Park & Russo's year; any fixed seed would do
HAZARD_PERIOD_WEEKS = 26
HAZARD_PEAK_RATIO = 1.5

#: The arms the targets need: name -> scenario values changed from the baseline.
ARMS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "central_function": {"firms.alliance_function": "central_function"},
    "in_person_weekly": {"governance.meeting_mode": "in_person", "governance.meeting_interval_weeks": 1},
    "in_person_fortnightly": {"governance.meeting_mode": "in_person", "governance.meeting_interval_weeks": 2},
    "in_person_bimonthly": {"governance.meeting_mode": "in_person", "governance.meeting_interval_weeks": 8},
    "incentives_high_consistent": {
        "firms.incentives.formal": 0.7,
        "firms.incentives.informal": 0.7,
        "firms.leadership_consistency": 0.85,
    },
    "incentives_low_consistent": {
        "firms.incentives.formal": 0.1,
        "firms.incentives.informal": 0.1,
        "firms.leadership_consistency": 0.85,
    },
    "incentives_high_inconsistent": {
        "firms.incentives.formal": 0.7,
        "firms.incentives.informal": 0.7,
        "firms.leadership_consistency": 0.2,
    },
    "incentives_low_inconsistent": {
        "firms.incentives.formal": 0.1,
        "firms.incentives.informal": 0.1,
        "firms.leadership_consistency": 0.2,
    },
    "risk_clinic": {"governance.risk_clinic": "periodic"},
    "turnover_low": {"managers.turnover_per_year": 0.05},
    "turnover_high": {"managers.turnover_per_year": 0.35},
    "culture_close": {"firms.culture_dispersion": 0.4},
    "culture_distant": {"firms.culture_dispersion": 1.0},
    "proactive_leaders": {"managers.proactiveness.mean": 0.8},
    "reactive_managers": {"managers.proactiveness.mean": 0.2},
}


# --------------------------------------------------------------------------- building the experiment


# --------------------------------------------------------------------------- measurements


@dataclass(frozen=True)
class Measured:
    """What a target measured: an estimate with its interval, whether it passed, and a note."""

    value: float
    ci_low: float
    ci_high: float
    passed: bool
    note: str = ""


@dataclass(frozen=True)
class Target:
    """One validation target: what is expected, the accepted band, its source, and its check."""

    name: str
    expected: str
    band: str
    source: str
    check: Callable[[pd.DataFrame, pd.DataFrame, Mapping[str, int]], Measured]
    unit: str = "difference"  # how the measured value reads: "rate", "difference" or "hazard"


def arm_rates(runs: pd.DataFrame, point: int) -> pd.Series:
    """Per-replication success rates of one arm (point), indexed by replication."""
    rows = runs[(runs["point_id"] == point) & (runs["status"] == "ok")]
    return rows.set_index("replication")["success_rate"].astype(float)


def pooled_rate(runs: pd.DataFrame, point: int) -> tuple[float, float, float]:
    """Success rate of an arm pooled over its replications, with its Wilson interval."""
    rows = runs[(runs["point_id"] == point) & (runs["status"] == "ok")]
    successes, decided = int(rows["successes"].sum()), int(rows["decided"].sum())
    low, high = wilson_interval(successes, decided)
    return (successes / decided if decided else float("nan")), low, high


def paired(runs: pd.DataFrame, arms: Mapping[str, int], plus: Sequence[str], minus: Sequence[str]) -> dict:
    """Paired difference sum(plus arms) - sum(minus arms) of per-replication success rates."""
    table = pd.concat({name: arm_rates(runs, arms[name]) for name in (*plus, *minus)}, axis=1).dropna()
    contrast = sum(table[name] for name in plus) - sum(table[name] for name in minus)
    return paired_difference(np.zeros(len(contrast)), contrast.to_numpy())


def rate_in_band(arm: str, low: float, high: float) -> Callable:
    def check(runs, outcomes, arms) -> Measured:
        rate, ci_low, ci_high = pooled_rate(runs, arms[arm])
        return Measured(rate, ci_low, ci_high, bool(low <= rate <= high))

    return check


def rate_in_band_and_above(arm: str, reference: str, low: float, high: float) -> Callable:
    def check(runs, outcomes, arms) -> Measured:
        rate, ci_low, ci_high = pooled_rate(runs, arms[arm])
        diff = paired(runs, arms, [arm], [reference])
        note = f"paired difference {diff['mean']:+.1%} ({diff['ci_low']:+.1%} to {diff['ci_high']:+.1%})"
        return Measured(rate, ci_low, ci_high, bool(low <= rate <= high and diff["ci_low"] > 0), note)

    return check


def direction(plus: Sequence[str], minus: Sequence[str], sign: int) -> Callable:
    """Pass when the paired difference's interval lies entirely on the side of zero of `sign`."""

    def check(runs, outcomes, arms) -> Measured:
        diff = paired(runs, arms, plus, minus)
        side = diff["ci_low"] > 0 if sign > 0 else diff["ci_high"] < 0
        return Measured(diff["mean"], diff["ci_low"], diff["ci_high"], bool(side))

    return check


def premature_failure_hazard(outcomes: pd.DataFrame, period_weeks: int = HAZARD_PERIOD_WEEKS) -> pd.DataFrame:
    """Life table of premature failure: the event is failing before the planned term; alliances
    that reach their term (whatever the verdict) or ended early successfully are censored then."""
    early = outcomes["duration_weeks"] < outcomes["planned_term_weeks"]
    premature = (outcomes["outcome"] == "failure") & early
    horizon = float(outcomes["planned_term_weeks"].max()) if len(outcomes) else period_weeks
    return hazard_by_period(outcomes["duration_weeks"], premature, period_weeks, max_weeks=horizon)


def inverted_u(hazard: np.ndarray, ratio: float = HAZARD_PEAK_RATIO) -> tuple[bool, int]:
    """(is an inverted U, index of the peak): the peak is neither the first nor the last period
    and exceeds both the first and the last by at least `ratio`."""
    h = np.nan_to_num(np.asarray(hazard, dtype=float), nan=0.0)
    if h.size < 3:
        return False, int(h.argmax()) if h.size else -1
    peak = int(h.argmax())
    ok = 0 < peak < h.size - 1 and h[peak] >= ratio * h[0] and h[peak] >= ratio * h[-1] and h[peak] > 0
    return bool(ok), peak


def hazard_shape(arm: str) -> Callable:
    def check(runs, outcomes, arms) -> Measured:
        table = premature_failure_hazard(outcomes[outcomes["point_id"] == arms[arm]])
        ok, peak = inverted_u(table["hazard"].to_numpy())
        h = table["hazard"].to_numpy()
        shown = " ".join(f"{x:.3f}" for x in h)
        start, end = table["start"].iloc[peak] / 52, table["end"].iloc[peak] / 52
        note = f"per half year: {shown}; peak in years {start:.1f}-{end:.1f}"
        return Measured(float(h[peak]), float(h[0]), float(h[-1]), ok, note)

    return check


TARGETS: tuple[Target, ...] = (
    Target(
        "baseline success rate",
        "about 50%",
        "45% to 55%",
        "Bleeke & Ernst 1991; Bamford, Ernst & Fubini 2004; Kale, Dyer & Singh 2002",
        rate_in_band("baseline", 0.45, 0.55),
        "rate",
    ),
    Target(
        "success with a dedicated alliance function",
        "about 63%, above the baseline",
        "58% to 68%, paired difference > 0",
        "Kale, Dyer & Singh 2002",
        rate_in_band_and_above("central_function", "baseline", 0.58, 0.68),
        "rate",
    ),
    Target(
        "premature-failure hazard over alliance age",
        "inverted U",
        f"interior peak >= {HAZARD_PEAK_RATIO}x first and last half-year",
        "Park & Russo 1996",
        hazard_shape("baseline"),
        "hazard",
    ),
    Target(
        "meeting in person every 2 weeks rather than every 8",
        "helps",
        "paired difference > 0",
        "seed articles (meetings build trust, surface issues)",
        direction(["in_person_fortnightly"], ["in_person_bimonthly"], +1),
    ),
    Target(
        "meeting in person every week rather than every 2",
        "hurts (the cost outweighs)",
        "paired difference < 0",
        "seed articles (meetings are not free)",
        direction(["in_person_weekly"], ["in_person_fortnightly"], -1),
    ),
    Target(
        "incentives need consistent leadership",
        "incentives help more with consistent messages",
        "difference in differences > 0",
        "seed articles (incentives without consistent messages ring hollow)",
        direction(
            ["incentives_high_consistent", "incentives_low_inconsistent"],
            ["incentives_low_consistent", "incentives_high_inconsistent"],
            +1,
        ),
    ),
    Target(
        "a periodic risk clinic",
        "helps",
        "paired difference > 0",
        "seed articles (risk clinic)",
        direction(["risk_clinic"], ["baseline"], +1),
    ),
    Target(
        "manager turnover 35% rather than 5% a year",
        "hurts",
        "paired difference < 0",
        "seed articles (relationships walk out of the door)",
        direction(["turnover_high"], ["turnover_low"], -1),
    ),
    Target(
        "cultural distance (culture dispersion 1.0 rather than 0.4)",
        "hurts",
        "paired difference < 0",
        "seed articles; Kogut & Singh 1988",
        direction(["culture_distant"], ["culture_close"], -1),
    ),
    Target(
        "proactive leaders rather than reactive managers",
        "help",
        "paired difference > 0",
        "seed articles (from reactive manager to proactive leader)",
        direction(["proactive_leaders"], ["reactive_managers"], +1),
    ),
)


def evaluate(runs: pd.DataFrame, outcomes: pd.DataFrame, arms: Mapping[str, int]) -> pd.DataFrame:
    """Every target checked on the runs and outcomes of an arms experiment: one row each with
    target, expected, band, measured, ci_low, ci_high, passed, note, source."""
    rows = []
    for target in TARGETS:
        measured = target.check(runs, outcomes, arms)
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
REPORT_MD = "validation.md"
OUTCOME_COLUMNS = ["point_id", "replication", "outcome", "duration_weeks", "planned_term_weeks"]


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
        return f"{value:.1%} ({low:.1%} to {high:.1%})"
    if row["unit"] == "hazard":
        return f"peak {value:.3f} per half year (first {low:.3f}, last {high:.3f})"
    return f"{100 * value:+.1f} pts ({100 * low:+.1f} to {100 * high:+.1f})"


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
    parser.add_argument(
        "--set",
        dest="assignments",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override a baseline value by its dotted path in every arm, e.g. "
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
    folder = args.out or RESULTS_DIR / "validation"
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
    print(f"Written: {folder / REPORT_CSV}, {folder / REPORT_MD}")
    return bool(passed == len(report))


STUDY = Study(
    name=CLAIM["study"],
    title=CLAIM["title"],
    heading="Validation",
    arguments=add_validate_command,
    run=validate_command,
)
