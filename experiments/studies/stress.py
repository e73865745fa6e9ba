"""Stress tests of governance designs: every design in every stress scenario, on common random numbers.

A strategist's question is not "which design is best?" but "which design still works when things
go wrong?". A stress spec (YAML, see configs/stress/) names the base scenario, the governance
*designs* (bundles of levers, as dotted-path scenario values) and the *stress scenarios* (bundles
of conditions: culture clash, manager churn, market turbulence, an opportunistic partner, all of
them at once, and normal conditions)::

    name: governance_stress
    scenario: ../baseline.yaml
    designs:
      light_touch: {levers: {governance.meeting_interval_weeks: 13, governance.meeting_mode: virtual}}
      alliance_function: {levers: {firms.alliance_function: central_function}}
    scenarios:
      normal: {conditions: {}}
      manager_churn: {conditions: {managers.turnover_per_year: 0.4}}
      culture_clash: {conditions: {firms.culture_dispersion: 1.0}}
      perfect_storm: {combine: [manager_churn, culture_clash]}
    replications: 30
    seed: 7

`stress_test(spec)` runs one arm per (design, scenario) pair through the experiment engine (one
`validation.arms_experiment`, run by `sweep.run_sweep` into a resumable results folder) and
returns the stress table: success rate pooled over the replications with its 95% Wilson interval
and the *regret*, the shortfall against the best design in the same scenario. `rank_designs`
ranks the designs by their worst case (the design whose lowest success rate is highest comes
first: max-min) and by mean regret. The command `alliance-sim stress` writes both tables and a
heatmap next to the engine's files.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, StrictInt, StrictStr, ValidationError, field_validator, model_validator

from experiments.analysis.stats import wilson_interval
from experiments.engine.arms import arms_experiment
from experiments.engine.guards import check_count
from experiments.engine.spec import LevelValue, SpecError, Strict
from experiments.present.text import left_aligned
from experiments.studies.base import (
    RESULTS_DIR,
    Study,
    Subparsers,
    add_workers_argument,
    default_out_dir,
    require_positive,
)
from sim import Scenario, ScenarioError, build_scenario
from sim.scenario import format_validation_error, read_yaml
from sim.schema import SafeName

#: The study this module's folders are claimed for, and what it is in words (experiments.engine.store).
CLAIM = {"study": "stress", "title": "a stress test"}
STRESS_CSV = "stress.csv"
RANKING_CSV = "ranking.csv"
FIGURE_STEM = "stress"
SPEC_FILE = "stress_spec.yaml"
STRESS_COLUMNS = ("design", "scenario", "success_rate", "ci_low", "ci_high", "regret")
#: Top-level scenario sections a lever or condition may not change (they do not change the simulation).
NOT_LEVERS = ("name", "description", "output")

Overrides = dict[StrictStr, LevelValue]


def single_values(overrides: Any) -> Any:
    """`overrides` if each of its values is one number, true/false or a word; ValueError otherwise
    (a pydantic before-validator, so that the message names the path rather than four types)."""
    if isinstance(overrides, Mapping):
        for path, value in overrides.items():
            if isinstance(value, (Mapping, list, tuple)) or value is None:
                shown = "nothing" if value is None else f"a {type(value).__name__}"
                raise ValueError(f"{path} must be one value (a number, true/false or a word), got {shown}")
    return overrides


# --------------------------------------------------------------------------- the spec


class DesignEntry(Strict):
    """A governance design: the levers it sets, as dotted scenario paths and their values."""

    description: StrictStr = ""
    levers: Overrides = Field(default_factory=dict)

    _single = field_validator("levers", mode="before")(single_values)


class StressScenarioEntry(Strict):
    """A stress scenario: the conditions it sets, and optionally other stress scenarios it combines."""

    description: StrictStr = ""
    conditions: Overrides = Field(default_factory=dict)
    combine: list[SafeName] = Field(default_factory=list)

    _single = field_validator("conditions", mode="before")(single_values)


class StressSpec(Strict):
    """A stress test: the base scenario, the designs, the stress scenarios, replications and seed."""

    name: SafeName
    description: StrictStr = ""
    scenario: StrictStr = Field(min_length=1)
    designs: dict[SafeName, DesignEntry] = Field(min_length=2, max_length=50)
    scenarios: dict[SafeName, StressScenarioEntry] = Field(min_length=1, max_length=50)
    replications: StrictInt = Field(30, ge=1, le=100_000)
    seed: StrictInt = Field(0, ge=0, le=2**63 - 1)

    @field_validator("designs")
    @classmethod
    def _designs_differ(cls, designs: dict[str, DesignEntry]) -> dict[str, DesignEntry]:
        seen: dict[str, str] = {}
        for name, design in designs.items():
            key = repr(sorted(design.levers.items()))
            if key in seen:
                raise ValueError(f"designs {seen[key]} and {name} set the same levers to the same values")
            seen[key] = name
        return designs

    @model_validator(mode="after")
    def _combinations_known(self) -> StressSpec:
        for name, entry in self.scenarios.items():
            unknown = [other for other in entry.combine if other not in self.scenarios]
            if unknown:
                raise ValueError(
                    f"scenarios.{name}.combine names {', '.join(unknown)}, which is not a stress scenario "
                    f"of this spec (known: {', '.join(self.scenarios)})"
                )
            if any(self.scenarios[other].combine for other in entry.combine):
                raise ValueError(
                    f"scenarios.{name}.combine may only name scenarios that list their conditions "
                    "(not ones that combine others themselves)"
                )
        return self


@dataclass(frozen=True)
class StressTest:
    """A checked stress spec: the base scenario, and every design's levers and every scenario's
    conditions resolved to plain dotted-path overrides (combinations expanded)."""

    spec: StressSpec
    spec_path: Path | None
    base: Scenario
    designs: dict[str, dict[str, Any]]
    scenarios: dict[str, dict[str, Any]]

    def arms(self) -> dict[str, dict[str, Any]]:
        """One arm per (design, scenario), design-major: 'design | scenario' -> its overrides."""
        return {
            arm_name(design, scenario): {**levers, **conditions}
            for design, levers in self.designs.items()
            for scenario, conditions in self.scenarios.items()
        }

    def cells(self) -> list[tuple[str, str]]:
        """(design, scenario) of every arm, in the arms' order (point i is cell i)."""
        return [(design, scenario) for design in self.designs for scenario in self.scenarios]

    def resolved(self) -> dict[str, Any]:
        """The stress test as run, JSON-ready: spec, and the overrides of every design and scenario."""
        return {
            "spec": self.spec.model_dump(mode="json"),
            "spec_path": str(self.spec_path) if self.spec_path else None,
            "designs": self.designs,
            "scenarios": self.scenarios,
            "cells": [{"point_id": i, "design": d, "scenario": s} for i, (d, s) in enumerate(self.cells())],
        }


def arm_name(design: str, scenario: str) -> str:
    return f"{design} | {scenario}"


def load_stress_spec(path: str | Path) -> StressTest:
    """Read and check the stress spec at `path`; SpecError naming the problem otherwise."""
    path = Path(path)
    data = read_yaml(path, "stress spec", "keys (name, scenario, designs, scenarios, ...)", SpecError)
    spec = parse_stress_spec(data, source=str(path))
    base_path = Path(spec.scenario)
    if not base_path.is_absolute():
        base_path = path.parent / base_path
    if not base_path.is_file():
        raise SpecError(f"{path}: scenario {spec.scenario} not found (looked for {base_path})")
    return resolve_stress_spec(spec, base_path, spec_path=path)


def parse_stress_spec(data: Mapping[str, Any], source: str = "") -> StressSpec:
    """Validate a stress spec mapping; SpecError with one line per problem."""
    try:
        return StressSpec.model_validate(dict(data))
    except ValidationError as err:
        raise SpecError(format_validation_error(err, source, root=StressSpec, what="stress spec")) from None


def resolve_stress_spec(
    spec: StressSpec, base: str | Path | Scenario | Mapping, *, spec_path: Path | None = None
) -> StressTest:
    """Expand combined scenarios and check every design and scenario against the base scenario: known
    paths, valid values, and no path that is both a lever and a condition."""
    where = f"{spec_path}: " if spec_path else ""
    try:
        base_scenario = base if isinstance(base, Scenario) else _read_base(base)
    except ScenarioError as exc:
        raise SpecError(f"{where}base scenario: {exc}") from None
    designs = {name: dict(entry.levers) for name, entry in spec.designs.items()}
    scenarios = {name: expand_scenario(spec, name) for name in spec.scenarios}
    for kind, bundles in (("designs", designs), ("scenarios", scenarios)):
        for name, overrides in bundles.items():
            _check_bundle(f"{where}{kind}.{name}", base_scenario, overrides)
    levers = {path: name for name, overrides in designs.items() for path in overrides}
    for scenario, conditions in scenarios.items():
        for path in conditions:
            if path in levers:
                raise SpecError(
                    f"{where}{path} is both a lever of design {levers[path]} and a condition of stress "
                    f"scenario {scenario}; a design's levers and the stress conditions must be different "
                    "scenario values"
                )
    return StressTest(spec, spec_path, base_scenario, designs, scenarios)


def _read_base(base: str | Path | Mapping) -> Scenario:
    if isinstance(base, (str, Path)):
        return build_scenario(read_yaml(base), source=str(base))
    return build_scenario(base, source="scenario")


def expand_scenario(spec: StressSpec, name: str) -> dict[str, Any]:
    """The conditions of stress scenario `name`: those of the scenarios it combines, then its own.
    SpecError when two combined scenarios set one condition to different values."""
    entry = spec.scenarios[name]
    conditions: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for other in entry.combine:
        for path, value in spec.scenarios[other].conditions.items():
            if path in conditions and conditions[path] != value:
                raise SpecError(
                    f"scenarios.{name} combines {origin[path]} and {other}, which set {path} to different "
                    f"values ({conditions[path]!r} and {value!r}); give the value under "
                    f"scenarios.{name}.conditions"
                )
            conditions[path], origin[path] = value, other
    conditions.update(entry.conditions)
    return conditions


def _check_bundle(label: str, base: Scenario, overrides: Mapping[str, Any]) -> None:
    for path in overrides:
        if path.split(".")[0] in NOT_LEVERS:
            raise SpecError(
                f"{label}: '{path}' cannot be changed by a stress test (it does not change the run)"
            )
    try:
        build_scenario(base, overrides, source=label)
    except ScenarioError as exc:
        raise SpecError(f"{label}: {str(exc).removeprefix('--set ')}") from None


# --------------------------------------------------------------------------- the tables


def regret(table: pd.DataFrame) -> pd.Series:
    """Per row of `table` (design, scenario, success_rate): the best success rate among the designs in
    the same scenario minus this row's. Zero for the best design of each scenario, never negative."""
    best = table.groupby("scenario", sort=False)["success_rate"].transform("max")
    return (best - table["success_rate"]).rename("regret")


def stress_table(runs: pd.DataFrame, cells: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """The stress table from an arms experiment's runs: one row per (design, scenario) = point i of
    `cells`, with successes / decided pooled over the point's successful runs, its Wilson interval,
    and the regret."""
    ok = runs[runs["status"] == "ok"]
    counts = ok.groupby("point_id")[["successes", "decided"]].sum()
    rows = []
    for point, (design, scenario) in enumerate(cells):
        successes = int(counts["successes"].get(point, 0))
        decided = int(counts["decided"].get(point, 0))
        low, high = wilson_interval(successes, decided)
        rate = successes / decided if decided else float("nan")
        rows.append(
            {"design": design, "scenario": scenario, "success_rate": rate, "ci_low": low, "ci_high": high}
        )
    table = pd.DataFrame(rows)
    table["regret"] = regret(table)
    return table[list(STRESS_COLUMNS)]


def rank_designs(table: pd.DataFrame) -> pd.DataFrame:
    """Designs ranked by worst case and by mean regret, from a stress table (see `stress_table`).

    One row per design: worst_case (its lowest success rate over the scenarios), worst_scenario
    (where that is), mean_success_rate, mean_regret and max_regret over the scenarios, and the two
    ranks: rank_worst_case (1 = the highest worst case, the max-min choice) and rank_mean_regret
    (1 = the lowest mean regret). Ties share the better rank. Sorted by rank_worst_case, then
    rank_mean_regret, then name.
    """
    if "regret" not in table.columns:
        table = table.assign(regret=regret(table))
    rows = []
    for design, group in table.groupby("design", sort=False):
        worst = group.loc[group["success_rate"].idxmin()]
        rows.append(
            {
                "design": design,
                "worst_case": float(worst["success_rate"]),
                "worst_scenario": worst["scenario"],
                "mean_success_rate": float(group["success_rate"].mean()),
                "mean_regret": float(group["regret"].mean()),
                "max_regret": float(group["regret"].max()),
            }
        )
    ranking = pd.DataFrame(rows)
    ranking["rank_worst_case"] = ranking["worst_case"].rank(ascending=False, method="min").astype(np.int64)
    ranking["rank_mean_regret"] = ranking["mean_regret"].rank(ascending=True, method="min").astype(np.int64)
    ranking = ranking.sort_values(["rank_worst_case", "rank_mean_regret", "design"], kind="stable")
    return ranking.reset_index(drop=True)


# --------------------------------------------------------------------------- running


def stress_experiment(test: StressTest, replications: int | None = None):
    """The engine's experiment for a stress test: one arm per (design, scenario) pair."""
    return arms_experiment(
        test.spec.name,
        test.base,
        test.arms(),
        replications=replications or test.spec.replications,
        seed=test.spec.seed,
    )


def stress_test(
    spec: str | Path | StressTest,
    *,
    replications: int | None = None,
    out: str | Path | None = None,
    workers: int | None = None,
    progress: bool = False,
    figure: bool = True,
    command: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Run every design of the stress spec in every stress scenario, on common random numbers.

    Args:
        spec: a stress spec file or a loaded `StressTest`.
        replications: replaces the spec's (more than the folder holds extends it).
        out: the results folder (default: results/<spec name>); resumed if it holds this test.
        workers: worker processes (default: every core; 1 runs in this process).
        progress: show the engine's progress bar.
        figure: draw the heatmap (stress.png and stress.svg).
        command: the command line recorded in the manifests (default: sys.argv).

    Writes stress.csv, ranking.csv, stress_spec.yaml (the test as resolved) and the heatmap into
    `out`, next to the engine's files (manifest.json holds the provenance). Returns the stress table
    (design, scenario, success_rate, ci_low, ci_high, regret). Raises SpecError or StoreError for
    input that cannot be used.
    """
    from experiments.engine.outputs import write_text_atomic
    from experiments.studies.sweep import run_sweep

    if replications is not None and (isinstance(replications, bool) or replications < 1):
        raise SpecError(f"--replications must be a positive integer, got {replications!r}")
    check_count("--replications", replications, StressSpec, "replications", SpecError)
    test = spec if isinstance(spec, StressTest) else load_stress_spec(spec)
    folder = Path(out) if out is not None else default_out_dir(test.spec.name)
    experiment = stress_experiment(test, replications)
    runs = run_sweep(experiment, folder, workers=workers, progress=progress, command=command, **CLAIM)
    runs = runs[runs["replication"] < experiment.spec.replications]
    table = stress_table(runs, test.cells())
    write_text_atomic(folder / SPEC_FILE, _yaml(test.resolved()))
    write_text_atomic(folder / STRESS_CSV, table.to_csv(index=False))
    write_text_atomic(folder / RANKING_CSV, rank_designs(table).to_csv(index=False))
    if figure:
        from experiments.present.figures import save_figure
        from experiments.present.figures.stress import stress_heatmap

        save_figure(stress_heatmap(table, title=f"Stress test: {test.spec.name}"), folder / FIGURE_STEM)
    return table


def _yaml(content: Mapping[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(dict(content), sort_keys=False, allow_unicode=True)


# --------------------------------------------------------------------------- reading the result


def matrix_text(table: pd.DataFrame) -> pd.DataFrame:
    """The stress table as designs x scenarios of 'rate (low-high)' text, in the spec's order."""
    designs = list(dict.fromkeys(table["design"]))
    scenarios = list(dict.fromkeys(table["scenario"]))
    cells = {
        (r.design, r.scenario): _rate_text(r.success_rate, r.ci_low, r.ci_high) for r in table.itertuples()
    }
    frame = pd.DataFrame({"design": designs})
    for scenario in scenarios:
        frame[scenario] = [cells[(design, scenario)] for design in designs]
    return frame


def ranking_text(ranking: pd.DataFrame) -> pd.DataFrame:
    """The ranking as the columns people read."""
    return pd.DataFrame(
        {
            "design": ranking["design"],
            "worst case": [f"{v:.1%}" for v in ranking["worst_case"]],
            "in": ranking["worst_scenario"],
            "rank (max-min)": ranking["rank_worst_case"],
            "mean regret": [f"{100 * v:.1f} pts" for v in ranking["mean_regret"]],
            "rank (regret)": ranking["rank_mean_regret"],
        }
    )


def _rate_text(rate: float, low: float, high: float) -> str:
    if np.isnan(rate):
        return "n/a"
    return f"{rate:.1%} ({low:.1%}-{high:.1%})"


# --------------------------------------------------------------------------- command line


def add_stress_command(subparsers: Subparsers) -> None:
    """Declare `alliance-sim stress`."""
    parser = subparsers.add_parser(
        "stress",
        allow_abbrev=False,
        help="stress-test governance designs: every design in every stress scenario",
        description="Run every governance design of SPEC in every stress scenario (culture clash, "
        "manager churn, market turbulence, an opportunistic partner, all at once, normal conditions) "
        "on common random numbers, and report each design's success rate with its 95% Wilson "
        "interval and its regret (the shortfall against the best design in that scenario). Designs "
        "are ranked by worst case (max-min) and by mean regret.",
        epilog="DIR gets stress.csv (design, scenario, success_rate, ci_low, ci_high, regret), "
        "ranking.csv, stress.png and stress.svg (a heatmap), stress_spec.yaml, and the engine's "
        "files (manifest.json with provenance, runs/). Resumable: run the same command again to "
        "finish an interrupted test; a larger --replications extends it. Spec format: "
        "docs/how-to/stress-test-governance-designs.md.",
    )
    parser.add_argument(
        "spec", metavar="SPEC", type=Path, help="stress spec YAML, e.g. configs/stress/governance.yaml"
    )
    parser.add_argument(
        "--replications",
        type=int,
        metavar="N",
        help="replications per design and scenario (default: the spec's)",
    )
    add_workers_argument(parser)
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help=f"results folder (default: {RESULTS_DIR}/<spec name>)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no tables")
    parser.set_defaults(handler=stress_command)


def stress_command(args: argparse.Namespace) -> int:
    """`alliance-sim stress`: run (or resume) the stress test, print the table and the ranking."""
    require_positive(args, "workers", "replications")
    test = load_stress_spec(args.spec)
    folder = args.out or default_out_dir(test.spec.name)
    table = stress_test(
        test,
        replications=args.replications,
        out=folder,
        workers=args.workers,
        progress=not args.quiet,
        command=args.command_line,
    )
    if not args.quiet:
        replications = args.replications or test.spec.replications
        print(f"Success rate (95% Wilson interval), {replications} replications per cell:")
        print(left_aligned(matrix_text(table)))
        print()
        print("Designs ranked by worst case (max-min) and by mean regret:")
        print(left_aligned(ranking_text(rank_designs(table))))
        written = [STRESS_CSV, RANKING_CSV, f"{FIGURE_STEM}.png", f"{FIGURE_STEM}.svg"]
        print(f"Written in {folder}: {', '.join(written)}")
    return True


STUDY = Study(
    name=CLAIM["study"],
    title=CLAIM["title"],
    heading="Stress test",
    arguments=add_stress_command,
    run=stress_command,
)
