"""`alliance-sim run`: one scenario once, its tables, resolved scenario and manifest in a folder."""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.analysis.magnitudes import median_life_years
from experiments.engine.locking import FolderLock, FolderLocked
from experiments.engine.metrics import wilson_interval
from experiments.engine.outputs import FILES, MANIFEST, write_run
from experiments.engine.paths import describe_os_error, shown
from experiments.engine.store import claim
from experiments.present import page
from experiments.present import text as fmt
from experiments.present.text import percent_range
from experiments.studies.base import (
    RESULTS_DIR,
    CliError,
    Study,
    Subparsers,
    add_scenario_arguments,
    check_out_dir,
    checked_seed,
    out_folder,
    prepare_out_dir,
    scenario_from_args,
)
from sim import REASONS, AllianceModel

DEFAULT_SEED = 0
WEEKS_PER_YEAR = 365.25 / 7
CLAIM = {"study": "run", "title": "a single run (alliance-sim run)"}


def add_run_command(subparsers: Subparsers) -> None:
    """Declare `alliance-sim run`."""
    parser = subparsers.add_parser(
        "run",
        allow_abbrev=False,
        help="run one scenario once and save the results",
        description="Run one scenario once with one seed, save its tables, resolved scenario and "
        "manifest to a folder, and print a short summary of what happened.",
        epilog=f"The folder gets {', '.join(FILES)}; files of an earlier run there are replaced. "
        "The same scenario and seed always give the same results.",
    )
    add_scenario_arguments(parser)
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        metavar="N",
        help=f"random seed, a non-negative integer (default: {DEFAULT_SEED}); it is recorded in "
        "manifest.json",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help=f"folder for the results, created if missing (default: {RESULTS_DIR}/<scenario name> "
        "in the current folder)",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    """`alliance-sim run`: run the scenario once, write its result folder, print the summary."""
    seed = checked_seed(args.seed)
    scenario = scenario_from_args(args)
    folder = check_out_dir(out_folder(args, scenario.name))  # before anything looks at it
    if folder.exists() and not folder.is_dir():
        raise CliError(f"--out {folder} is an existing file, not a folder")
    claim(folder, **CLAIM, replace=True)  # a folder of another command's results is refused, untouched
    prepare_out_dir(folder)
    try:
        lock = FolderLock(folder, args.command_line).acquire()  # one writer at a time
    except FolderLocked as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(describe_os_error(exc, "cannot lock the output folder")) from None
    try:
        model = AllianceModel(scenario, rng=seed).run()
        manifest = write_run(model, folder, args.command_line, CLAIM)
    except OSError as exc:
        where = exc.filename2 or exc.filename or folder  # filename2: the target of a rename
        raise CliError(f"cannot write the results to {shown(where)}: {exc.strerror or exc}") from None
    finally:
        lock.release()
    if not args.quiet:
        print(run_report(model, manifest["summary"], folder))
    return True


def run_report(model: AllianceModel, summary: dict[str, Any], folder: Path) -> str:
    """What happened in a finished run, in words a newcomer understands."""
    decided = summary["success"] + summary["failure"] + summary["restructured"]
    lines = [
        f"Scenario: {model.config.name} (seed {model.seed}), {weeks_simulated(model)}",
        f"Alliances formed: {summary['alliances']}",
        success_rate_line(summary["success"], decided),
        f"Outcomes: {summary['success']} success, {summary['failure']} failure, "
        f"{summary['restructured']} restructured, {summary['censored']} censored "
        "(still running at the end, not counted in the success rate)",
        *failure_lines(summary["failures_by_reason"]),
        duration_line(summary["median_duration_weeks"]),
        life_line(model.outcomes()),
        money_line(summary),
        f"Results in {folder}: {', '.join(FILES)}",
    ]
    return "\n".join(lines)


def life_line(outcomes) -> str:
    """Median life of every alliance, censored ones included (Kaplan-Meier), or why there is none."""
    years = median_life_years(outcomes)
    if math.isnan(years):
        return "Median life (Kaplan-Meier, running alliances included): beyond the horizon"
    return f"Median life (Kaplan-Meier, running alliances included): {years:.1f} years"


def money_line(summary: dict[str, Any]) -> str:
    """What governing an alliance cost and what its partners kept, per alliance formed."""
    cost, net = summary.get("mean_governance_cost"), summary.get("mean_net_value")
    if cost is None or net is None:
        return "Governance cost and net value: n/a"
    return (
        f"Per alliance (all partners, value units): governance cost {cost:.1f}, "
        f"net value {net:.1f} after every cost"
    )


def weeks_simulated(model: AllianceModel) -> str:
    """How many weeks the run covered, and why it stopped before the horizon if it did."""
    horizon = model.config.simulation.horizon_weeks
    if model.week >= horizon:
        return f"{horizon} weeks simulated"
    return f"{model.week} of {horizon} weeks simulated (every alliance had ended)"


def success_rate_line(successes: int, decided: int) -> str:
    """Success rate with its 95% Wilson interval, or why there is none."""
    if decided == 0:
        return "Success rate: n/a (no alliance ended before the horizon)"
    low, high = wilson_interval(successes, decided)
    rate = percent_range(successes / decided, low, high, label="95% CI")
    return f"Success rate: {rate} of {decided} decided alliances"


def failure_lines(by_reason: dict[str, int]) -> list[str]:
    """Failures by reason, each with its share of all failures."""
    total = sum(by_reason.values())
    if total == 0:
        return ["Failures by reason: none"]
    width = max(len(reason) for reason in REASONS)
    return ["Failures by reason:"] + [
        f"  {reason:<{width}}  {by_reason[reason]:>5}  ({by_reason[reason] / total:.1%})"
        for reason in REASONS
    ]


def duration_line(median_weeks: float) -> str:
    """Median duration of the decided alliances in weeks and years."""
    if math.isnan(median_weeks):
        return "Median duration: n/a (no alliance ended before the horizon)"
    return (
        f"Median duration of decided alliances: {median_weeks:g} weeks "
        f"({median_weeks / WEEKS_PER_YEAR:.1f} years)"
    )


# --------------------------------------------------------------------------- report section


def report_section(folder: Path, manifest: Mapping[str, Any] | None) -> page.Section:
    """A single run: its summary counts and rates, and trust over time across its alliances."""
    manifest = manifest or {}
    summary = manifest.get("summary") or {}
    scenario_name = (manifest.get("scenario") or {}).get("name", folder.name)
    section = page.Section("run", f"Run of {scenario_name} (seed {manifest.get('seed', 'unknown')})")
    needed = ("alliances", "success", "failure", "restructured", "censored")
    if any(key not in summary for key in needed):
        raise page.ReportError(
            f"{folder / MANIFEST} has no run summary (expected the keys {', '.join(needed)})"
        )
    decided = summary["success"] + summary["failure"] + summary["restructured"]
    low, high = wilson_interval(summary["success"], decided)
    rate = summary["success"] / decided if decided else float("nan")
    by_reason = summary.get("failures_by_reason") or {}
    rows = [
        ("alliances formed", str(summary["alliances"])),
        ("decided (ended before the horizon)", str(decided)),
        ("success rate (of decided)", fmt.percent_interval(rate, low, high)),
        ("successes", str(summary["success"])),
        ("failures", str(summary["failure"])),
        ("restructured", str(summary["restructured"])),
        ("censored (still running at the end)", str(summary["censored"])),
        *((f"failures: {fmt.words(reason)}", str(count)) for reason, count in by_reason.items()),
        ("median duration of decided alliances", f"{fmt.number(summary.get('median_duration_weeks'))} weeks"),
        *(
            (label, fmt.number(summary[key]))
            for key, label in (
                ("mean_governance_cost", "governance cost per alliance (all partners, value units)"),
                ("mean_net_value", "net value per alliance after every cost (value units)"),
            )
            if summary.get(key) is not None
        ),
    ]
    section.tables.append(page.Table("Outcomes of the run", pd.DataFrame(rows, columns=["measure", "value"])))
    if decided:
        section.reading.append(
            f"{summary['alliances']} alliances formed; {decided} ended before the horizon and "
            f"{summary['success']} of those succeeded: a success rate of {fmt.percent(rate)} "
            f"(95% Wilson interval {fmt.percent(low)} to {fmt.percent(high)}). {summary['censored']} were "
            "still running at the end and do not count."
        )
    else:
        section.reading.append(
            f"{summary['alliances']} alliances formed and none ended before the horizon, so there is no "
            "success rate yet; simulate more weeks (simulation.horizon_weeks)."
        )
    failures = sum(by_reason.values())
    if failures:
        reason, count = max(by_reason.items(), key=lambda item: (item[1], item[0]))
        section.reading.append(
            f"The most common reason for failure was {fmt.words(reason)} ({count} of {failures} failures)."
        )
    if summary.get("mean_governance_cost") is not None:
        section.reading.append(
            f"Governing an alliance cost its partners {fmt.number(summary['mean_governance_cost'])} value "
            f"units on average (meetings, reviews, the alliance function, incentives and the other levers), "
            f"and they kept {fmt.number(summary['mean_net_value'])} after every cost."
        )
    section.reading.append(
        "One seed is one draw of luck: `alliance-sim validate` runs 200 of them, and `alliance-sim "
        "compare` pairs two settings on the same luck."
    )
    section.figures += page.run_trust_figure(folder)
    return section


STUDY = Study(
    name=CLAIM["study"],
    title=CLAIM["title"],
    heading="Single run",
    arguments=add_run_command,
    run=run_command,
    section=report_section,
    tables={"outcomes.parquet": ()},
)
