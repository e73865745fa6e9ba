"""What every study shares: the Study protocol, the command-line helpers, and the program's name.

A study is one module of `experiments.studies` that defines `STUDY = Study(...)`: its name (the
subcommand and the `study` its folders' manifests record), what it is in words, the headline
files it writes, how it declares its command-line arguments, how it runs, and its section of a
report. `experiments.studies.registry` lists the modules; the command line and the report are
built from it and know no study by name.

A study's `run(args)` returns True (or None) when it succeeded and False when it ran but its
verdict failed (validate, calibrate); the command line turns that into the exit status, and
prints one line for a `CliError`, a `ScenarioError` or a `StoreError` (exit 2) and for an
interruption (exit 130).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.engine.paths import PathProblem, check_out_path
from sim import Scenario, load_scenario, parse_assignment

PROG = "alliance-sim"
RESULTS_DIR = Path("results")

Subparsers = argparse._SubParsersAction  # the object add_subparsers() returns


class CliError(Exception):
    """A problem with the input or the output folder that the user can fix; the message says what."""


@dataclass(frozen=True)
class Study:
    """One kind of study, as the command line, the report and the results store see it.

    name: the subcommand and the `study` recorded in its folders' manifests.
    title: what one is, in words ("a comparison"), for messages about a folder holding one.
    heading: the report's kind line ("Paired comparison").
    arguments: declares the subcommand on the subparsers and sets its `handler` (`run`).
    run: the subcommand: True/None when done, False when its verdict failed.
    section: the study's report section for a folder it wrote, (folder, manifest) -> Section.
    tables: the headline files it writes, with the columns each must have.
    spec: reads the study's spec file (None for a study that takes a scenario).
    """

    name: str
    title: str
    heading: str
    arguments: Callable[[Subparsers], None]
    run: Callable[[argparse.Namespace], bool | None]
    section: Callable[[Path, Any], Any] | None = None
    tables: dict[str, tuple[str, ...]] | None = None
    spec: Callable[..., Any] | None = None

    @property
    def claim(self) -> dict[str, str]:
        """The keywords that claim a folder for this study (run_sweep, store.claim)."""
        return {"study": self.name, "title": self.title}


# --------------------------------------------------------------------------- shared arguments


def add_scenario_arguments(parser: argparse.ArgumentParser) -> None:
    """SCENARIO and --set KEY=VALUE, for every subcommand that runs a scenario."""
    parser.add_argument(
        "scenario", metavar="SCENARIO", type=Path, help="scenario YAML file, e.g. configs/baseline.yaml"
    )
    add_set_argument(
        parser,
        "override one scenario value by its dotted path, e.g. "
        "--set governance.meeting_interval_weeks=2; VALUE is read as YAML; a mapping at a section "
        "(--set governance={charter: true}) is merged into it, the section's other keys kept; repeatable",
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


def check_out_dir(folder: Path) -> Path:
    """`folder` if it can be an output folder (see `experiments.engine.paths.check_out_path`: a
    name too long, bytes that are not UTF-8, a dangling link are refused); CliError otherwise."""
    try:
        check_out_path(folder)
    except PathProblem as exc:
        raise CliError(str(exc)) from None
    return folder


def prepare_out_dir(folder: Path) -> Path:
    """Create `folder` if missing and check it is a writable folder; CliError otherwise."""
    check_out_dir(folder)
    if folder.exists() and not folder.is_dir():
        raise CliError(f"--out {folder} is an existing file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create the output folder {folder}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CliError(f"cannot write to the output folder {folder}: permission denied")
    return folder


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


def add_set_argument(parser: argparse.ArgumentParser, help: str) -> None:
    """`--set KEY=VALUE` (repeatable), as the studies that run an experiment declare it."""
    parser.add_argument(
        "--set", dest="assignments", metavar="KEY=VALUE", action="append", default=[], help=help
    )


def out_folder(args: argparse.Namespace, name: str) -> Path:
    """The folder a command writes: --out DIR, else results/<name> (see `default_out_dir`)."""
    return args.out or default_out_dir(name)


def print_written(paths: Sequence[str | Path], folder: Path | None = None) -> None:
    """The last line of a command: 'Written in DIR: a, b' (names in `folder`), or 'Written: a, b'."""
    if folder is not None:
        print(f"Written in {folder}: {', '.join(str(path) for path in paths)}")
    else:
        print(f"Written: {', '.join(str(path) for path in paths)}")


def assignments(args: argparse.Namespace) -> dict[str, Any]:
    """The --set values of `args` by dotted path."""
    return dict(parse_assignment(text) for text in args.assignments)
