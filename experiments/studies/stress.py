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

import pandas as pd
from pydantic import Field, StrictInt, StrictStr, field_validator, model_validator

from experiments.analysis.regret import (  # noqa: F401 (the old module's names)
    CORE_STRESS_COLUMNS,
    STRESS_COLUMNS,
    rank_designs,
    regret,
    stress_table,
    worst_case_ranking,
)
from experiments.engine.arms import arms_experiment
from experiments.engine.guards import check_count
from experiments.engine.spec import (
    LevelValue,
    SpecError,
    Strict,
    read_spec,
    single_values,
    spec_scenario,
    validate_spec,
)
from experiments.present import page
from experiments.present import text as fmt
from experiments.present.text import left_aligned
from experiments.studies.base import (
    RESULTS_DIR,
    Study,
    Subparsers,
    add_workers_argument,
    default_out_dir,
    out_folder,
    print_written,
    require_positive,
)
from sim import Scenario, ScenarioError, build_scenario
from sim.scenario import read_yaml
from sim.schema import SafeName

#: The study this module's folders are claimed for, and what it is in words (experiments.engine.store).
CLAIM = {"study": "stress", "title": "a stress test"}
STRESS_CSV = "stress.csv"
RANKING_CSV = "ranking.csv"
FIGURE_STEM = "stress"
SPEC_FILE = "stress_spec.yaml"
#: Top-level scenario sections a lever or condition may not change (they do not change the simulation).
NOT_LEVERS = ("name", "description", "output")

Overrides = dict[StrictStr, LevelValue]
WHAT, KEYS = "stress spec", "keys (name, scenario, designs, scenarios, ...)"


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
    spec = read_spec(path, StressSpec, WHAT, KEYS)
    return resolve_stress_spec(spec, spec_scenario(path, spec.scenario), spec_path=path)


def parse_stress_spec(data: Mapping[str, Any], source: str = "") -> StressSpec:
    """Validate a stress spec mapping; SpecError with one line per problem."""
    return validate_spec(data, StressSpec, WHAT, source)


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
            "worst case": ranking["worst_case"].map(fmt.percent),
            "in": ranking["worst_scenario"],
            "rank (max-min)": ranking["rank_worst_case"],
            "mean regret": [fmt.shortfall(v, "pts") for v in ranking["mean_regret"]],
            "rank (regret)": ranking["rank_mean_regret"],
            "best in": ranking["best_in"],
            **(
                {
                    "governance cost": [f"{v:.0f}" for v in ranking["mean_governance_cost"]],
                    "net value": [f"{v:.0f}" for v in ranking["mean_net_value"]],
                    "net-value regret": [f"{v:.0f}" for v in ranking["mean_regret_net_value"]],
                    "rank (net value)": ranking["rank_net_value"],
                }
                if "rank_net_value" in ranking.columns
                else {}
            ),
        }
    )


def _rate_text(rate: float, low: float, high: float) -> str:
    return fmt.percent_range(rate, low, high, sep="-")


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
    folder = out_folder(args, test.spec.name)
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
        print_written(written, folder)
    return True


# --------------------------------------------------------------------------- report section


def report_section(folder: Path, manifest: Mapping[str, Any] | None) -> page.Section:
    """A stress test: designs by scenarios with intervals, the max-min design and the regret."""
    frame = page.read_csv(folder, STRESS_CSV, CORE_STRESS_COLUMNS)
    section = page.Section("stress", f"Stress test {(manifest or {}).get('name', folder.name)}")
    designs = list(dict.fromkeys(frame["design"]))
    scenarios = list(dict.fromkeys(frame["scenario"]))
    cells = {(r.design, r.scenario): r for r in frame.itertuples(index=False)}
    matrix = pd.DataFrame({"design": designs})
    for scenario in scenarios:
        matrix[scenario] = [
            fmt.percent_interval(
                cells[(d, scenario)].success_rate, cells[(d, scenario)].ci_low, cells[(d, scenario)].ci_high
            )
            if (d, scenario) in cells
            else "n/a"
            for d in designs
        ]
    section.tables.append(page.Table("Success rate (95% Wilson interval), design by stress scenario", matrix))
    ranking = worst_case_ranking(frame)
    table = pd.DataFrame(
        {
            "design": ranking["design"],
            "worst case": ranking["worst_case"].map(fmt.percent),
            "in": ranking["worst_scenario"],
            "mean regret": ranking["mean_regret"].map(fmt.shortfall),
        }
    )
    note = "regret: the shortfall against the best design in the same scenario"
    section.tables.append(page.Table("Designs by worst case and regret", table, note))
    if not ranking.empty:
        top = ranking.iloc[0]
        calm = ranking.sort_values(["mean_regret", "design"], kind="stable").iloc[0]
        section.reading.append(
            f"The design that holds up best in its worst case is {top['design']}: its lowest success rate, "
            f"in {top['worst_scenario']}, is {fmt.percent(top['worst_case'])}."
        )
        if calm["mean_regret"] == 0:
            section.reading.append(
                f"{calm['design']} is the best design in every one of the {len(scenarios)} scenarios."
            )
        else:
            section.reading.append(
                f"The design with the smallest mean regret over the {len(scenarios)} scenarios is "
                f"{calm['design']} ({fmt.shortfall(calm['mean_regret'])} below the best design of each "
                "scenario, on average)."
            )
    section.reading += _best_in_and_value(frame)
    section.figures += page.folder_figures(folder) + page.engine_trust_figure(folder, manifest)
    section.details += page.text_details(folder, [SPEC_FILE])
    return section


def _best_in_and_value(frame: pd.DataFrame) -> list[str]:
    """Where each design is best, and what the designs cost and keep (tables that have the accounts)."""
    ranking = rank_designs(frame).set_index("design").reindex(list(dict.fromkeys(frame["design"])))
    best = ranking[ranking["best_in"] > 0]["best_in"].sort_values(ascending=False, kind="stable")
    lines = ["Best design by scenario: " + "; ".join(f"{d} in {n}" for d, n in best.items()) + "."]
    if "mean_net_value" in ranking.columns:
        richest = ranking["mean_net_value"].idxmax()
        cheapest = ranking["mean_governance_cost"].idxmin()
        lines.append(
            f"{richest} keeps the most net value after every cost "
            f"({fmt.number(ranking.loc[richest, 'mean_net_value'])} per alliance on average, at a governance "
            f"cost of {fmt.number(ranking.loc[richest, 'mean_governance_cost'])}); the cheapest design to "
            f"govern is {cheapest} ({fmt.number(ranking.loc[cheapest, 'mean_governance_cost'])})."
        )
    return lines


STUDY = Study(
    name=CLAIM["study"],
    title=CLAIM["title"],
    heading="Stress test",
    arguments=add_stress_command,
    run=stress_command,
    section=report_section,
    tables={STRESS_CSV: CORE_STRESS_COLUMNS},
)
