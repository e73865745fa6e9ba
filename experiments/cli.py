"""The `alliance-sim` command line.

    alliance-sim run configs/baseline.yaml --seed 1 --set governance.meeting_interval_weeks=2

The subcommands are built from the study registry (`experiments.studies.registry`: one per study,
declared by its module) plus three tools: `summarize` (a sweep's summary and figures), `report`
(any result folder as HTML) and `dashboard` (the workshop page). Every handler ends here: `main`
turns what it returns into the exit status (True or None: 0; False, a verdict that failed: 1), a
`CliError`, `sim.ScenarioError`, `StoreError` or a filesystem error (`OSError`: no space left, a
read-only folder) into one `alliance-sim: error: ...` line and 2, and an interruption (Ctrl-C, a
lost cluster) into one line and 130, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from experiments.dashboard.launcher import add_dashboard_command
from experiments.engine.paths import describe_os_error
from experiments.engine.provenance import DISTRIBUTION, package_version
from experiments.engine.store import StoreError
from experiments.engine.sweep import SweepInterrupted
from experiments.studies.base import (
    PROG,
    RESULTS_DIR,
    CliError,
    Subparsers,
    add_scenario_arguments,
    add_workers_argument,
    checked_seed,
    default_out_dir,
    prepare_out_dir,
    require_positive,
    scenario_from_args,
)
from experiments.studies.registry import studies
from experiments.studies.sweep import add_summarize_command
from sim import ScenarioError

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "PROG",
    "RESULTS_DIR",
    "CliError",
    "Subparsers",
    "add_scenario_arguments",
    "add_workers_argument",
    "build_parser",
    "checked_seed",
    "default_out_dir",
    "main",
    "prepare_out_dir",
    "require_positive",
    "scenario_from_args",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
#: Where each tool's command goes among the studies' (after the study named).
TOOLS_AFTER = {"sweep": (add_summarize_command,)}


# --------------------------------------------------------------------------- the tools


def add_report_command(subparsers: Subparsers) -> None:
    """Declare `alliance-sim report`."""
    parser = subparsers.add_parser(
        "report",
        allow_abbrev=False,
        help="turn a result folder into a self-contained HTML report",
        description="Write DIR/report.html for a result folder of any kind (run, sweep, compare, story, "
        "stress, discover, sensitivity, validate): a plain-language reading of the result, the headline "
        "table, the figures and what was run (scenario, factors, seeds, versions, commit). The page "
        "embeds its figures and needs no network or server: open it in any browser.",
        epilog="The kind is the study DIR's manifest.json records (for a folder written before manifests "
        "recorded it: told from its files). The figures are drawn from DIR's data (a sweep's are redrawn "
        "when older than its runs). The same folder always gives the same page. "
        "See docs/how-to/make-a-report.md.",
    )
    parser.add_argument("folder", metavar="DIR", type=Path, help="a result folder written by alliance-sim")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    parser.set_defaults(handler=report_command)


def report_command(args: argparse.Namespace) -> int:
    """`alliance-sim report`: write the report and say where it is."""
    from experiments.report import heading_of, write_report

    path = write_report(args.folder)
    if not args.quiet:
        print(
            f"Written: {path} ({heading_of(args.folder).lower()} report); open it in a browser"
        )
    return EXIT_OK


# --------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: every registered study's subcommand, and the tools."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        allow_abbrev=False,
        description="Agent-based simulation of strategic alliances: run scenarios and save results.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {package_version(DISTRIBUTION) or 'unknown'}"
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for name, study in studies().items():
        study.arguments(subparsers)
        for add_tool in TOOLS_AFTER.get(name, ()):
            add_tool(subparsers)
    add_report_command(subparsers)
    add_dashboard_command(subparsers)
    return parser


def exit_status(outcome: bool | int | None) -> int:
    """A handler's outcome as the exit status (see the module docstring)."""
    if outcome is None or outcome is True:
        return EXIT_OK
    if outcome is False:
        return EXIT_FAILED
    return int(outcome)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on `argv` (default: sys.argv[1:]) and return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.command_line = [PROG, *argv]
    try:
        return exit_status(args.handler(args))
    except SweepInterrupted as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (CliError, ScenarioError, StoreError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # a full or read-only disk, a name too long: one line, no traceback
        print(f"{PROG}: error: {describe_os_error(exc)}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    # `python -m experiments.cli` runs this file as __main__; run the importable experiments.cli
    # instead, so that every class and handler is the one the rest of the program imports
    # however the program starts
    from experiments.cli import main as _main

    sys.exit(_main())
