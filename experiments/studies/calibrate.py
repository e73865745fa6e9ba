"""Calibration: fit coefficients so that the model reproduces every validation target at once.

Pattern-oriented inverse modelling. A calibration spec (YAML, see configs/calibration/) names the
coefficients to fit, each with its range and starting value::

    name: baseline
    scenario: ../baseline.yaml
    parameters:
      coefficients.value.expectation_coordination: {low: 0.2, high: 0.4, start: 0.28}
      coefficients.reviews.trust_reference: {low: 0.45, high: 0.7, start: 0.6}
    replications: 8
    seed: 20021101
    max_evaluations: 24

Each evaluation runs every validation arm (`experiments.analysis.patterns.ARMS`: the baseline and
its variants, one lever or one shipped design changed each) at the candidate values, on common
random numbers with the same seed at every candidate (so the objective is a deterministic function
of the coefficients, not a fresh draw each time), through the experiment engine: its workers, and a
resumable results folder per candidate under OUT/evaluations/. It then measures every target of
`experiments.studies.validation_targets.TARGETS`, as `alliance-sim validate` does.

The objective is `total_distance` of those measurements (`Target.distance`): the two published
levels (the baseline about 50%, with an alliance function about 63%) are pulled to the middle of
their bands (squared distance in half-bands, so 1 at an edge); every other band costs its squared
excess outside the band in half-bands (0 inside); a failed direction or shape costs 1. A candidate
is *accepted* when every target passes.

The optimiser is scipy's Nelder-Mead with bounds, in coordinates scaled to [0, 1] per parameter,
because the objective has no gradient (it counts passes and failures and is read off simulations),
a few coefficients are fitted (up to 10) and an evaluation costs seconds to minutes, so the budget
is tens of evaluations: Nelder-Mead makes progress from its first k + 1 evaluations, while CMA-ES
spends a population of evaluations per step and optuna's samplers need many more trials than this
to beat random search (and neither is a dependency). With common random numbers the search is
deterministic, so rerunning the same command replays the optimiser's path from the finished
evaluations on disk (no run is repeated) and carries on where it stopped.

Writes OUT/evaluations.csv (one row per evaluation, as they finish: the candidate, the objective,
accepted, targets passed, the two level rates with their intervals, and the measured value of
every target in a column named by `target_column`) and OUT/calibration.json (fitted values, every
target at the best candidate with its band and whether it passed, time taken, provenance).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import Field, StrictFloat, StrictInt, StrictStr, model_validator
from scipy.optimize import minimize

from experiments.analysis.patterns import ARMS, OUTCOME_COLUMNS, pooled_rate
from experiments.engine.arms import arms_experiment
from experiments.engine.guards import check_count
from experiments.engine.provenance import environment, json_ready, now
from experiments.engine.runner import Executor, make_executor
from experiments.engine.spec import SpecError, Strict, read_spec, spec_scenario
from experiments.engine.store import claim
from experiments.studies.base import (
    RESULTS_DIR,
    CliError,
    Study,
    Subparsers,
    add_workers_argument,
    out_folder,
    print_written,
    require_positive,
)
from experiments.studies.validation_targets import TARGETS, Measured, Target, measure_targets, total_distance
from sim.schema import SafeName

#: Point of each validation arm in an evaluation's experiment (point i is arm i of ARMS).
ARM_POINTS: dict[str, int] = {name: point for point, name in enumerate(ARMS)}
#: The arms whose success rates evaluations.csv, the progress line and `describe` show, with the
#: published level and band of each (the centred targets of TARGETS, in order).
LEVEL_ARMS = ("baseline", "central_function")
LEVEL_TARGETS: tuple[tuple[str, float, float, float], ...] = tuple(
    (arm, (t.limits[0] + t.limits[1]) / 2, *t.limits)
    for arm, t in zip(LEVEL_ARMS, [t for t in TARGETS if t.centred and t.limits])
)
#: What a failed direction or shape adds to the objective (`Target.distance`).
PATTERN_PENALTY = 1.0
#: The study this module's folders are claimed for, and what it is in words (experiments.engine.store).
CLAIM = {"study": "calibrate", "title": "a calibration"}

SPEC_FILE = "calibration-spec.json"
EVALUATIONS_CSV = "evaluations.csv"
RESULT_JSON = "calibration.json"
DECIMALS = 4  # candidates are rounded to this many decimals, so reruns find their folders

_SKIPPED_WORDS = frozenset(
    "a an the of with rather than and in on for by at every to or all once least as its is no due".split()
)


def target_column(name: str, words: int = 4) -> str:
    """A short, stable column name for a target, from its name alone: its first `words` words that
    carry meaning, lower case, joined by '_' (numbers lose their decimal point), 'm_' before a
    magnitude. 'magnitude: a periodic risk clinic' -> 'm_periodic_risk_clinic'."""
    text = re.sub(r"(?<=\d)\.(?=\d)", "", name.lower())
    magnitude = text.startswith("magnitude:")
    kept = [w for w in re.findall(r"[a-z0-9]+", text) if w not in _SKIPPED_WORDS and w != "magnitude"]
    return ("m_" if magnitude else "") + "_".join(kept[:words])


def target_columns(targets: Sequence[Target] = TARGETS) -> dict[str, str]:
    """Target name -> its column in evaluations.csv (a repeated column gets '_2', '_3', ...)."""
    columns: dict[str, str] = {}
    for target in targets:
        if target.name in columns:
            continue
        column, n = target_column(target.name), 1
        while column in columns.values():
            n += 1
            column = f"{target_column(target.name)}_{n}"
        columns[target.name] = column
    return columns


class ParameterSpec(Strict):
    """One coefficient to fit: its range and where the search starts (default: the middle)."""

    low: StrictInt | StrictFloat
    high: StrictInt | StrictFloat
    start: StrictInt | StrictFloat | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ParameterSpec:
        if not self.low < self.high:
            raise ValueError(f"low must be below high, got low {self.low}, high {self.high}")
        if self.start is not None and not self.low <= self.start <= self.high:
            raise ValueError(f"start must lie in [low, high] = [{self.low}, {self.high}], got {self.start}")
        return self

    @property
    def initial(self) -> float:
        return float(self.start if self.start is not None else (self.low + self.high) / 2)


class CalibrationSpec(Strict):
    """A calibration: the base scenario, the coefficients to fit, and the search's budget."""

    name: SafeName
    description: StrictStr = ""
    scenario: StrictStr = Field(min_length=1)
    parameters: dict[StrictStr, ParameterSpec] = Field(min_length=1, max_length=10)
    replications: StrictInt = Field(8, ge=2, le=10_000)
    seed: StrictInt = Field(0, ge=0, le=2**63 - 1)
    max_evaluations: StrictInt = Field(24, ge=1, le=10_000)
    initial_step: StrictFloat = Field(
        0.15, gt=0, le=0.5, description="first simplex step, as a share of each parameter's range"
    )
    tolerance: StrictFloat = Field(
        0.01, gt=0, le=0.5, description="stop when the simplex is this small, as a share of each range"
    )


@dataclass(frozen=True)
class Calibration:
    """A calibration spec with its base scenario's path resolved."""

    spec: CalibrationSpec
    base: Path

    @property
    def names(self) -> list[str]:
        return list(self.spec.parameters)

    def to_values(self, unit: Sequence[float]) -> dict[str, float]:
        """Scaled coordinates in [0, 1] -> parameter values (rounded to DECIMALS)."""
        return {
            name: round(p.low + float(np.clip(u, 0, 1)) * (p.high - p.low), DECIMALS)
            for (name, p), u in zip(self.spec.parameters.items(), unit)
        }

    def to_unit(self, values: Mapping[str, float]) -> np.ndarray:
        return np.array([(values[n] - p.low) / (p.high - p.low) for n, p in self.spec.parameters.items()])

    def fingerprint(self) -> str:
        """What makes two calibrations the same search (all but the description and budget; the
        base scenario's values, not its comments; the arms every evaluation runs, so a folder of
        another set of arms is refused)."""
        spec = self.spec.model_dump(mode="json", exclude={"description", "max_evaluations"})
        spec["scenario"] = yaml.safe_load(self.base.read_text(encoding="utf-8"))
        spec["arms"] = json_ready(ARMS)
        return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:16]


def load_calibration(path: str | Path) -> Calibration:
    """Read and check a calibration spec; SpecError names any problem. The parameters at both ends
    of their ranges are checked as a scenario (known coefficient paths, values the schema accepts)."""
    path = Path(path)
    spec = read_spec(path, CalibrationSpec, "calibration spec", "keys (name, scenario, parameters, ...)")
    calibration = Calibration(spec, spec_scenario(path, spec.scenario))
    for corner in ("low", "high"):
        values = {n: getattr(p, corner) for n, p in spec.parameters.items()}
        try:
            experiment_at(calibration, values)
        except SpecError as exc:
            raise SpecError(f"{path}: parameters at their {corner} ends: {exc}") from None
    return calibration


def experiment_at(calibration: Calibration, values: Mapping[str, float]):
    """The arms experiment that evaluates one candidate: every validation arm, common random numbers."""
    return arms_experiment(
        f"{calibration.spec.name}-evaluation",
        calibration.base,
        ARMS,
        replications=calibration.spec.replications,
        seed=calibration.spec.seed,
        overrides=dict(values),
    )


# --------------------------------------------------------------------------- one evaluation


def objective(measured: Sequence[tuple[Target, Measured]]) -> tuple[float, bool]:
    """(value to minimise, accepted) for every target measured: `total_distance` (see the module
    docstring), and whether every target passed. A value that is not finite counts as infinite."""
    value = total_distance(measured)
    accepted = bool(measured) and all(m.passed for _, m in measured)
    return (value if np.isfinite(value) else float("inf")), accepted


def summarise(
    runs: pd.DataFrame, measured: Sequence[tuple[Target, Measured]], arms: Mapping[str, int] = ARM_POINTS
) -> dict[str, Any]:
    """One row of evaluations.csv (without the candidate): objective, accepted, targets passed, the
    level rates with their Wilson intervals, the measured value of every target, the failing ones."""
    value, accepted = objective(measured)
    row: dict[str, Any] = {
        "objective": value,
        "accepted": accepted,
        "targets_passed": sum(bool(m.passed) for _, m in measured),
        "targets_total": len(measured),
    }
    for arm in LEVEL_ARMS:
        rate, low, high = pooled_rate(runs, arms[arm])
        row[f"{arm}_rate"], row[f"{arm}_ci_low"], row[f"{arm}_ci_high"] = rate, low, high
    columns = target_columns([t for t, _ in measured])
    row.update({columns[t.name]: m.value for t, m in measured})
    row["failing"] = " ".join(columns[t.name] for t, m in measured if not m.passed)
    return row


def measure(
    runs: pd.DataFrame, outcomes: pd.DataFrame, arms: Mapping[str, int] = ARM_POINTS
) -> dict[str, Any]:
    """Every target measured on one candidate's runs and outcomes (arm -> point), as a row of
    evaluations.csv (see `summarise`)."""
    return summarise(runs, measure_targets(runs, outcomes, arms), arms)


def target_records(measured: Sequence[tuple[Target, Measured]]) -> list[dict[str, Any]]:
    """Every target as calibration.json lists it: measured with its interval, band, passed."""
    columns = target_columns([t for t, _ in measured])
    return [
        {
            "target": t.name,
            "column": columns[t.name],
            "unit": t.unit,
            "measured": m.value,
            "ci_low": m.ci_low,
            "ci_high": m.ci_high,
            "band": t.band,
            "limits": list(t.limits) if t.limits else None,
            "passed": bool(m.passed),
            "distance": t.distance(m),
            "note": m.note,
        }
        for t, m in measured
    ]


# --------------------------------------------------------------------------- the search


def calibrate(
    spec: str | Path | Calibration,
    out: str | Path,
    *,
    workers: int | None = None,
    max_evaluations: int | None = None,
    progress: bool = True,
    executor: Executor | None = None,
    command: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Run (or resume) the calibration `spec` into folder `out`; returns what calibration.json holds.

    Raises SpecError for a spec that cannot be used, StoreError when `out` holds another
    calibration, SweepInterrupted on Ctrl-C (finished evaluations are kept)."""
    from experiments.engine.outputs import write_text_atomic
    from experiments.engine.sweep import load_outcomes
    from experiments.studies.sweep import run_sweep

    calibration = spec if isinstance(spec, Calibration) else load_calibration(spec)
    budget = max_evaluations or calibration.spec.max_evaluations
    folder = Path(out)
    _claim(folder, calibration)
    started, clock = now(), time.perf_counter()
    rows: list[dict[str, Any]] = []
    details: dict[int, list[dict[str, Any]]] = {}
    cache: dict[tuple, float] = {}
    owned = executor is None
    executor = executor or make_executor(workers)

    def evaluate(unit: np.ndarray) -> float:
        values = calibration.to_values(unit)
        key = tuple(values.values())
        if key in cache:
            return cache[key]
        tic = time.perf_counter()
        where = folder / "evaluations" / _candidate_name(values)
        experiment = experiment_at(calibration, values)
        runs = run_sweep(experiment, where, progress=progress, executor=executor, command=command, **CLAIM)
        outcomes = load_outcomes(where, OUTCOME_COLUMNS)
        measured = measure_targets(runs, outcomes, ARM_POINTS)
        row = {"evaluation": len(rows) + 1, **values, **summarise(runs, measured)}
        row["seconds"] = round(time.perf_counter() - tic, 2)
        row["folder"] = str(where.relative_to(folder))
        rows.append(row)
        details[row["evaluation"]] = target_records(measured)
        write_text_atomic(folder / EVALUATIONS_CSV, pd.DataFrame(rows).to_csv(index=False))
        if progress:
            print(_progress_line(row, calibration.names), flush=True)
        cache[key] = row["objective"]
        return row["objective"]

    k = len(calibration.names)
    start = calibration.to_unit({n: p.initial for n, p in calibration.spec.parameters.items()})
    simplex = np.vstack([start, start + calibration.spec.initial_step * np.eye(k)])
    simplex = np.where(simplex > 1, 2 * start - simplex, simplex)  # step inwards at an upper end
    try:
        result = minimize(
            evaluate,
            start,
            method="Nelder-Mead",
            bounds=[(0.0, 1.0)] * k,
            options={
                "initial_simplex": simplex,
                "maxfev": budget,
                "xatol": calibration.spec.tolerance,
                "fatol": 0.05,
            },
        )
        message = str(result.message)
    finally:
        if owned:
            executor.shutdown()
    table = pd.DataFrame(rows)
    best = table.sort_values(["accepted", "objective"], ascending=[False, True]).iloc[0]
    targets = details[int(best["evaluation"])]
    report = {
        "name": calibration.spec.name,
        "fitted": {name: float(best[name]) for name in calibration.names},
        "objective": float(best["objective"]),
        "accepted": bool(best["accepted"]),
        "targets_passed": int(best["targets_passed"]),
        "targets_total": int(best["targets_total"]),
        "levels": {
            arm: {
                "rate": float(best[f"{arm}_rate"]),
                "ci_low": float(best[f"{arm}_ci_low"]),
                "ci_high": float(best[f"{arm}_ci_high"]),
                "target": target,
                "band": [low, high],
            }
            for arm, target, low, high in LEVEL_TARGETS
        },
        "targets": targets,
        "best_evaluation": int(best["evaluation"]),
        "evaluations": len(rows),
        "optimizer": message,
        "seconds": round(time.perf_counter() - clock, 1),
        "simulation_seconds": round(float(table["seconds"].sum()), 1),
        "started": started,
        "finished": now(),
        "spec": calibration.spec.model_dump(mode="json"),
        "arms": list(ARMS),
        "base_scenario": str(calibration.base),
        "environment": environment(),
    }
    write_text_atomic(folder / RESULT_JSON, json.dumps(json_ready(report), indent=2) + "\n")
    return report


def _claim(folder: Path, calibration: Calibration) -> None:
    """Make `folder` this calibration's (its record is SPEC_FILE), or refuse if it belongs to another."""
    from experiments.engine.outputs import write_text_atomic

    mine = {**CLAIM, "fingerprint": calibration.fingerprint(), "name": calibration.spec.name}
    held = claim(folder, CLAIM["study"], CLAIM["title"], fingerprint=mine["fingerprint"], record=SPEC_FILE)
    if held is None:
        write_text_atomic(folder / SPEC_FILE, json.dumps(mine, indent=2) + "\n")


def _candidate_name(values: Mapping[str, float]) -> str:
    digest = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:12]
    return f"candidate-{digest}"


def _progress_line(row: Mapping[str, Any], names: Sequence[str]) -> str:
    shown = ", ".join(f"{name.split('.')[-1]}={row[name]:g}" for name in names)
    verdict = "accepted" if row["accepted"] else "rejected"
    return (
        f"evaluation {row['evaluation']}: {shown} -> baseline {row['baseline_rate']:.1%}, "
        f"with function {row['central_function_rate']:.1%}, "
        f"{row['targets_passed']} of {row['targets_total']} targets pass, "
        f"objective {row['objective']:.3f} ({verdict})"
    )


def describe(report: Mapping[str, Any]) -> str:
    """calibration.json as lines to read: fitted values, the fit, the failing targets, the time."""
    from experiments.studies.validate import format_measured

    lines = [
        f"Calibration {report['name']}: {report['evaluations']} evaluations in {report['seconds']:.0f} s"
    ]
    lines += [f"  {name} = {value:g}" for name, value in report["fitted"].items()]
    for arm, level in report["levels"].items():
        low, high = level["band"]
        lines.append(
            f"  {arm}: {level['rate']:.1%} ({level['ci_low']:.1%} to {level['ci_high']:.1%}); "
            f"target {level['target']:.0%}, accepted {low:.0%} to {high:.0%}"
        )
    passed, total = report["targets_passed"], report["targets_total"]
    verdict = "accepted (every target passes)" if report["accepted"] else "REJECTED (a target fails)"
    lines.append(
        f"  best evaluation {report['best_evaluation']}: {passed} of {total} targets pass, {verdict}; "
        f"objective {report['objective']:.3f}"
    )
    for record in report["targets"]:
        if not record["passed"]:
            lines.append(f"  FAIL {record['target']}: {format_measured(record)}; accepted {record['band']}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- command line


def add_calibrate_command(subparsers: Subparsers) -> None:
    """Declare `alliance-sim calibrate`."""
    parser = subparsers.add_parser(
        "calibrate",
        allow_abbrev=False,
        help="fit coefficients so that the model matches every validation target",
        description="Pattern-oriented calibration: search the coefficients named in SPEC (bounded "
        "Nelder-Mead) for values at which every validation target passes (the published levels, "
        "the hazard's shape, the seed articles' directions and the magnitudes), with the levels "
        "pulled to the middle of their bands. Each evaluation runs every validation arm on common "
        "random numbers on the experiment engine, into its own resumable folder. Exit status 0 "
        "when the best values pass every target, 1 when none did.",
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
    from experiments.studies.calibrate import RESULT_JSON, calibrate, describe, load_calibration

    require_positive(args, "workers", "max_evaluations")
    check_count("--max-evaluations", args.max_evaluations, CalibrationSpec, "max_evaluations", CliError)
    calibration = load_calibration(args.spec)
    folder = out_folder(args, f"calibration-{calibration.spec.name}")
    report = calibrate(
        calibration,
        folder,
        workers=args.workers,
        max_evaluations=args.max_evaluations,
        progress=not args.quiet,
        command=args.command_line,
    )
    print(describe(report))
    print_written([folder / RESULT_JSON])
    return bool(report["accepted"])


STUDY = Study(
    name=CLAIM["study"],
    title=CLAIM["title"],
    heading="Calibration",
    arguments=add_calibrate_command,
    run=calibrate_command,
)
