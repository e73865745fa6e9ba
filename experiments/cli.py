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

from experiments.dashboard.launcher import DEFAULT_HOST, DEFAULT_PORT, MAX_PORT, MAX_SEED
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
        epilog="The kind is told from the files in DIR. The same folder always gives the same page. "
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


def add_dashboard_command(subparsers: Subparsers) -> None:
    """Declare `alliance-sim dashboard`."""
    parser = subparsers.add_parser(
        "dashboard",
        allow_abbrev=False,
        help="serve the live workshop dashboard (Mesa's SolaraViz) in a browser",
        description="Serve the workshop dashboard: sliders for the main levers (meetings, incentives, "
        "alliance function, risk clinic, conflict resolution, culture, turnover, seed), live plots of "
        "active alliances, trust and outcomes, a network of firms and alliances coloured by trust, and "
        "a side-by-side mode that runs a second setting on the same seed. Open the printed address in a "
        "browser; Ctrl-C stops the server.",
        epilog="Sliders take effect when Reset is pressed; Step and the play button advance one week at "
        f"a time. The server listens on {DEFAULT_HOST} (this machine only) unless --host says otherwise: "
        "any other address lets everyone who can reach this machine use the dashboard, with no password. "
        "Guide: docs/how-to/run-a-workshop-dashboard.md.",
    )
    parser.add_argument(
        "scenario",
        metavar="SCENARIO",
        type=Path,
        nargs="?",
        help="scenario YAML file the sliders start from, e.g. configs/baseline.yaml (default: the "
        "baseline defaults)",
    )
    parser.add_argument(
        "--set",
        dest="assignments",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override one scenario value by its dotted path, e.g. --set formation.n_alliances=100; "
        "VALUE is read as YAML; repeatable",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        metavar="P",
        help=f"TCP port to serve on, 1 to {MAX_PORT} and free (default: {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        metavar="H",
        help=f"address to listen on (default: {DEFAULT_HOST}, reachable from this machine only); "
        "another address exposes the dashboard to the network without a password",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help=f"seed the seed slider starts at, 0 to {MAX_SEED} (default: 0)",
    )
    parser.add_argument(
        "--fetch-assets",
        action="store_true",
        help="download the page's scripts, styles and fonts from the npm registry (with npm) into "
        "Solara's asset cache, so that the dashboard works without internet access, then exit",
    )
    parser.set_defaults(handler=_dashboard_command)


def _dashboard_command(args: argparse.Namespace) -> int | bool:
    from experiments.dashboard import launcher

    return launcher.dashboard_command(args)


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
