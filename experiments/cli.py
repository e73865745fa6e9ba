"""The `alliance-sim` command line.

    alliance-sim run configs/baseline.yaml --seed 1 --set governance.meeting_interval_weeks=2

Each subcommand is a pair of functions: `add_<name>_command(subparsers)` declares its arguments
and sets `handler`, and the handler does the work and returns the exit status. To add one, write
the pair and list the first in COMMANDS. A handler raises `CliError` (or `sim.ScenarioError`) for
input the user can fix; `main` prints it as one `alliance-sim: error: ...` line and returns 2,
never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from experiments.analysis.stats import wilson_interval
from experiments.engine.outputs import FILES, write_run
from experiments.engine.provenance import DISTRIBUTION, package_version
from experiments.engine.store import StoreError
from sim import REASONS, AllianceModel, Scenario, ScenarioError, load_scenario, parse_assignment

PROG = "alliance-sim"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DEFAULT_SEED = 0
RESULTS_DIR = Path("results")
WEEKS_PER_YEAR = 365.25 / 7

Subparsers = argparse._SubParsersAction  # the object add_subparsers() returns


class CliError(Exception):
    """A problem with the input or the output folder that the user can fix; the message says what."""


# --------------------------------------------------------------------------- shared arguments


def add_scenario_arguments(parser: argparse.ArgumentParser) -> None:
    """SCENARIO and --set KEY=VALUE, for every subcommand that runs a scenario."""
    parser.add_argument(
        "scenario", metavar="SCENARIO", type=Path, help="scenario YAML file, e.g. configs/baseline.yaml"
    )
    parser.add_argument(
        "--set",
        dest="assignments",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override one scenario value by its dotted path, e.g. "
        "--set governance.meeting_interval_weeks=2; VALUE is read as YAML; repeatable",
    )


def scenario_from_args(args: argparse.Namespace) -> Scenario:
    """The scenario file of `args` with its --set overrides applied and validated."""
    overrides = dict(parse_assignment(text) for text in args.assignments)
    return load_scenario(args.scenario, overrides)


def checked_seed(seed: int) -> int:
    """`seed` if it is a valid seed (a non-negative integer); CliError otherwise."""
    if seed < 0:
        raise CliError(f"--seed must be a non-negative integer, got {seed}")
    return seed


def default_out_dir(name: str) -> Path:
    """results/<name>, provided the scenario name is a plain folder name."""
    if name in ("", ".", "..") or any(char in name for char in "/\\\0"):
        raise CliError(
            f"the scenario name {name!r} cannot be used as a folder name under {RESULTS_DIR}/; "
            "choose another with --set name=... or give a folder with --out DIR"
        )
    return RESULTS_DIR / name


def prepare_out_dir(folder: Path) -> Path:
    """Create `folder` if missing and check it is a writable folder; CliError otherwise."""
    if folder.exists() and not folder.is_dir():
        raise CliError(f"--out {folder} is an existing file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create the output folder {folder}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CliError(f"cannot write to the output folder {folder}: permission denied")
    return folder


# --------------------------------------------------------------------------- run


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
    folder = prepare_out_dir(args.out or default_out_dir(scenario.name))
    model = AllianceModel(scenario, rng=seed).run()
    try:
        manifest = write_run(model, folder, args.command_line)
    except OSError as exc:
        where = exc.filename2 or exc.filename or folder  # filename2: the target of a rename
        raise CliError(f"cannot write the results to {where}: {exc.strerror or exc}") from None
    if not args.quiet:
        print(run_report(model, manifest["summary"], folder))
    return EXIT_OK


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
        f"Results in {folder}: {', '.join(FILES)}",
    ]
    return "\n".join(lines)


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
    return (
        f"Success rate: {successes / decided:.1%} (95% CI {low:.1%}–{high:.1%}) "
        f"of {decided} decided alliances"
    )


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


# --------------------------------------------------------------------------- sweep


def add_workers_argument(parser: argparse.ArgumentParser) -> None:
    """`--workers N`, as every command that runs the engine declares it."""
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="worker processes (default: every core; 1 runs in this process)",
    )


def require_positive(args: argparse.Namespace, *names: str) -> None:
    """CliError naming the option if any of these integer options was given below 1."""
    for name in names:
        value = getattr(args, name)
        if value is not None and value < 1:
            raise CliError(f"--{name.replace('_', '-')} must be a positive integer, got {value}")


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
    parser.add_argument(
        "--set",
        dest="assignments",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override a base-scenario value by its dotted path for every design point, e.g. "
        "--set formation.n_alliances=100; repeatable; not a factor of the experiment",
    )
    parser.add_argument("--retry-failed", action="store_true", help="rerun the runs recorded as failed")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary table")
    parser.set_defaults(handler=sweep_command)


def sweep_command(args: argparse.Namespace) -> int:
    """`alliance-sim sweep`: run (or resume) the experiment, then print its summary."""
    from experiments.engine.runner import ClusterError
    from experiments.engine.spec import load_spec
    from experiments.engine.sweep import SweepInterrupted, run_sweep

    require_positive(args, "workers")
    if args.scheduler is not None and args.workers is not None:
        raise CliError(
            "--scheduler and --workers cannot be used together: with --scheduler the cluster's workers "
            "run the sweep (add more with `dask worker ADDRESS`)"
        )
    require_positive(args, "replications")
    overrides = dict(parse_assignment(text) for text in args.assignments)
    experiment = load_spec(args.spec, replications=args.replications, scenario_overrides=overrides)
    folder = args.out or default_out_dir(experiment.spec.name)
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
    except SweepInterrupted as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ClusterError as exc:
        raise CliError(str(exc)) from None
    if not args.quiet:
        print(sweep_report(folder, runs))
    return EXIT_OK


def sweep_report(folder: Path, runs: Any) -> str:
    """Runs done and failed, then the summary table."""
    from experiments.engine.sweep import SUMMARY, summary_table

    failed = int((runs["status"] != "ok").sum())
    lines = [
        f"{len(runs)} runs in {folder}" + (f", {failed} failed (rerun with --retry-failed)" if failed else "")
    ]
    lines.append(summary_table(folder))
    lines.append(f"Per design point: {folder / SUMMARY}; figures: alliance-sim summarize {folder}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- summarize


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
    from experiments.engine.sweep import summarize, summary_table

    summarize(args.folder, figures=not args.no_figures)
    print(summary_table(args.folder))
    print(
        f"Written: {args.folder / 'summary.csv'}"
        + ("" if args.no_figures else f", {args.folder / 'figures'}/")
    )
    return EXIT_OK


# --------------------------------------------------------------------------- validate


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
    from experiments.engine.sweep import SweepInterrupted
    from experiments.studies.validate import REPORT_CSV, REPORT_MD, report_table, validate

    require_positive(args, "workers")
    if args.replications < 2:
        raise CliError(
            f"--replications must be at least 2 (a paired interval needs two), got {args.replications}"
        )
    if args.scenario is not None and not args.scenario.is_file():
        raise CliError(f"--scenario {args.scenario}: no such file")
    overrides = dict(parse_assignment(text) for text in args.assignments)
    folder = args.out or RESULTS_DIR / "validation"
    try:
        report = validate(
            folder,
            base=args.scenario,
            replications=args.replications,
            workers=args.workers,
            overrides=overrides,
            progress=not args.quiet,
            command=args.command_line,
        )
    except SweepInterrupted as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(left_aligned(report_table(report)))
    for _, row in report.iterrows():
        if row["note"]:
            print(f"  {row['target']}: {row['note']}")
    passed = int(report["passed"].sum())
    print(f"{passed} of {len(report)} targets pass ({args.replications} replications per arm).")
    print(f"Written: {folder / REPORT_CSV}, {folder / REPORT_MD}")
    return EXIT_OK if passed == len(report) else EXIT_FAILED


def left_aligned(table: Any) -> str:
    """A DataFrame of text as a plain table with left-aligned columns, for reading in a terminal."""
    columns = [[str(name), *map(str, table[name])] for name in table.columns]
    widths = [max(map(len, column)) for column in columns]
    rows = zip(*columns)
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


# --------------------------------------------------------------------------- calibrate


def add_calibrate_command(subparsers: Subparsers) -> None:
    """Declare `alliance-sim calibrate`."""
    parser = subparsers.add_parser(
        "calibrate",
        allow_abbrev=False,
        help="fit coefficients so that the baseline reproduces published success rates",
        description="Pattern-oriented calibration: search the coefficients named in SPEC (bounded "
        "Nelder-Mead) for values at which the baseline succeeds about 50% of the time, firms with "
        "an alliance function about 63% and the termination hazard is an inverted U. Each "
        "evaluation runs on the experiment engine into its own resumable folder. Exit status 0 when "
        "the best values match every pattern, 1 when none did.",
        epilog="Writes DIR/evaluations.csv (as evaluations finish) and DIR/calibration.json. Rerun "
        "the same command to resume; a larger --max-evaluations continues the search.",
    )
    parser.add_argument(
        "spec", metavar="SPEC", type=Path, help="calibration spec, e.g. configs/calibration/baseline.yaml"
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help=f"results folder (default: {RESULTS_DIR}/calibration-<name>)"
    )
    add_workers_argument(parser)
    parser.add_argument(
        "--max-evaluations", type=int, metavar="N", help="evaluation budget (default: the spec's)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.set_defaults(handler=calibrate_command)


def calibrate_command(args: argparse.Namespace) -> int:
    """`alliance-sim calibrate`: run or resume the search, print the fitted values and the fit."""
    from experiments.engine.sweep import SweepInterrupted
    from experiments.studies.calibrate import RESULT_JSON, calibrate, describe, load_calibration

    require_positive(args, "workers", "max_evaluations")
    calibration = load_calibration(args.spec)
    folder = args.out or RESULTS_DIR / f"calibration-{calibration.spec.name}"
    try:
        report = calibrate(
            calibration,
            folder,
            workers=args.workers,
            max_evaluations=args.max_evaluations,
            progress=not args.quiet,
            command=args.command_line,
        )
    except SweepInterrupted as exc:
        print(f"{PROG}: {exc}; finished evaluations are kept", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(describe(report))
    print(f"Written: {folder / RESULT_JSON}")
    return EXIT_OK if report["accepted"] else EXIT_FAILED


# --------------------------------------------------------------------------- main

COMMANDS: tuple[Callable[[Subparsers], None], ...] = (
    add_run_command,
    add_sweep_command,
    add_summarize_command,
    add_validate_command,
    add_calibrate_command,
)

#: Subcommands declared beside the experiment kind they drive: (module, its add_<name>_command).
#: They are imported when the parser is built, so those modules may import this one freely.
KIND_COMMANDS: tuple[tuple[str, str], ...] = (
    ("experiments.studies.compare", "add_compare_command"),
    ("experiments.studies.story", "add_story_command"),
    ("experiments.studies.stress", "add_stress_command"),
    ("experiments.studies.discover", "add_discover_command"),
    ("experiments.studies.sensitivity", "add_sensitivity_command"),
    ("experiments.report", "add_report_command"),
    ("experiments.dashboard.launcher", "add_dashboard_command"),
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand in COMMANDS."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        allow_abbrev=False,
        description="Agent-based simulation of strategic alliances: run scenarios and save results.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {package_version(DISTRIBUTION) or 'unknown'}"
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for add_command in COMMANDS:
        add_command(subparsers)
    for module_name, function_name in KIND_COMMANDS:
        getattr(importlib.import_module(module_name), function_name)(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on `argv` (default: sys.argv[1:]) and return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.command_line = [PROG, *argv]
    try:
        return args.handler(args)
    except (CliError, ScenarioError, StoreError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
