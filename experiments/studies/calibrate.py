"""Calibration: fit coefficients so that the baseline reproduces published alliance outcomes.

Pattern-oriented inverse modelling. A calibration spec (YAML, see configs/calibration/) names the
coefficients to fit, each with its range and starting value::

    name: baseline
    scenario: ../baseline.yaml
    parameters:
      coefficients.reviews.satisfaction_threshold: {low: 0.85, high: 1.05, start: 0.95}
      coefficients.learning.function_base_capability: {low: 0.1, high: 0.6, start: 0.35}
    replications: 20
    seed: 7
    max_evaluations: 40

Each evaluation runs the validation arms `baseline` and `central_function` (see
`experiments.studies.validate`) at the candidate values, on common random numbers with the same seed
at every candidate (so the objective is a smooth function of the coefficients, not a fresh
draw each time), through the experiment engine: its workers, and a resumable results folder
per candidate under OUT/evaluations/. The patterns, all of which a candidate must match to be
*accepted*:

* the baseline's success rate in 45-55% (target 50%),
* the success rate with a dedicated alliance function in 58-68% (target 63%), above the
  baseline's with a paired interval above zero,
* an inverted-U hazard of premature failure (`validation.inverted_u`).

The optimiser (scipy's bounded Nelder-Mead, in coordinates scaled to [0, 1] per parameter)
minimises `objective`: the sum over the two rates of ((rate - target) / half band)^2, so 1 is
the edge of a band, plus 1 for each pattern missed. Rerunning the same command replays the
optimiser's path from the finished evaluations on disk and carries on where it stopped.

Writes OUT/evaluations.csv (one row per evaluation, as they finish) and OUT/calibration.json
(fitted values, fit, time taken, provenance).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, StrictFloat, StrictInt, StrictStr, model_validator
from scipy.optimize import minimize

from experiments.analysis.patterns import (
    ARMS,
    OUTCOME_COLUMNS,
    inverted_u,
    paired,
    pooled_rate,
    premature_failure_hazard,
)
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
from sim.schema import SafeName

#: (arm, target rate, lowest accepted, highest accepted): the published levels (MODEL_BRIEF.md).
LEVEL_TARGETS: tuple[tuple[str, float, float, float], ...] = (
    ("baseline", 0.50, 0.45, 0.55),
    ("central_function", 0.63, 0.58, 0.68),
)
#: The arm that must beat the baseline (paired interval above zero).
IMPROVED_ARM, REFERENCE_ARM = "central_function", "baseline"
#: Added to the objective for each pattern missed besides the levels.
#: The study this module's folders are claimed for, and what it is in words (experiments.engine.store).
CLAIM = {"study": "calibrate", "title": "a calibration"}
PATTERN_PENALTY = 1.0

SPEC_FILE = "calibration-spec.json"
EVALUATIONS_CSV = "evaluations.csv"
RESULT_JSON = "calibration.json"
DECIMALS = 4  # candidates are rounded to this many decimals, so reruns find their folders


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
    replications: StrictInt = Field(20, ge=2, le=10_000)
    seed: StrictInt = Field(0, ge=0, le=2**63 - 1)
    max_evaluations: StrictInt = Field(40, ge=1, le=10_000)
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
        """What makes two calibrations the same search (all but the description and budget)."""
        spec = self.spec.model_dump(mode="json", exclude={"description", "max_evaluations"})
        spec["scenario"] = self.base.read_text(encoding="utf-8")
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def load_calibration(path: str | Path) -> Calibration:
    """Read and check a calibration spec; SpecError names any problem. The start values are
    checked as a scenario (known coefficient paths, values the schema accepts)."""
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
    """The arms experiment that evaluates one candidate."""
    arms = {name: ARMS[name] for name in (REFERENCE_ARM, IMPROVED_ARM)}
    return arms_experiment(
        f"{calibration.spec.name}-evaluation",
        calibration.base,
        arms,
        replications=calibration.spec.replications,
        seed=calibration.spec.seed,
        overrides=dict(values),
    )


# --------------------------------------------------------------------------- one evaluation


def measure(runs: pd.DataFrame, outcomes: pd.DataFrame) -> dict[str, Any]:
    """The patterns measured on one candidate's runs (point 0 = baseline, 1 = alliance function)."""
    points = {REFERENCE_ARM: 0, IMPROVED_ARM: 1}
    row: dict[str, Any] = {}
    for arm, _, _, _ in LEVEL_TARGETS:
        rate, low, high = pooled_rate(runs, points[arm])
        row[f"{arm}_rate"], row[f"{arm}_ci_low"], row[f"{arm}_ci_high"] = rate, low, high
    diff = paired(runs, points, [IMPROVED_ARM], [REFERENCE_ARM])
    row["difference"], row["difference_ci_low"] = diff["mean"], diff["ci_low"]
    hazard = premature_failure_hazard(outcomes[outcomes["point_id"] == points[REFERENCE_ARM]])
    row["hazard_inverted_u"] = inverted_u(hazard["hazard"].to_numpy())[0]
    return row


def objective(row: Mapping[str, Any]) -> tuple[float, bool]:
    """(value to minimise, accepted) for measured patterns; see the module docstring."""
    distance, accepted = 0.0, True
    for arm, target, low, high in LEVEL_TARGETS:
        rate = row[f"{arm}_rate"]
        if not np.isfinite(rate):
            return float("inf"), False
        distance += ((rate - target) / ((high - low) / 2)) ** 2
        accepted &= bool(low <= rate <= high)
    for met in (row["difference_ci_low"] > 0, bool(row["hazard_inverted_u"])):
        if not met:
            distance += PATTERN_PENALTY
            accepted = False
    return float(distance), accepted


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
        row = {"evaluation": len(rows) + 1, **values, **measure(runs, outcomes)}
        row["objective"], row["accepted"] = objective(row)
        row["seconds"] = round(time.perf_counter() - tic, 2)
        row["folder"] = str(where.relative_to(folder))
        rows.append(row)
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
    report = {
        "name": calibration.spec.name,
        "fitted": {name: float(best[name]) for name in calibration.names},
        "fit": {
            key: _plain(best[key])
            for key in best.index
            if key not in calibration.names and key not in ("evaluation", "folder")
        },
        "accepted": bool(best["accepted"]),
        "best_evaluation": int(best["evaluation"]),
        "evaluations": len(rows),
        "optimizer": message,
        "seconds": round(time.perf_counter() - clock, 1),
        "simulation_seconds": round(float(table["seconds"].sum()), 1),
        "started": started,
        "finished": now(),
        "spec": calibration.spec.model_dump(mode="json"),
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


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _progress_line(row: Mapping[str, Any], names: Sequence[str]) -> str:
    shown = ", ".join(f"{name.split('.')[-1]}={row[name]:g}" for name in names)
    verdict = "accepted" if row["accepted"] else "rejected"
    return (
        f"evaluation {row['evaluation']}: {shown} -> baseline {row['baseline_rate']:.1%}, "
        f"with function {row['central_function_rate']:.1%}, objective {row['objective']:.3f} ({verdict})"
    )


def describe(report: Mapping[str, Any]) -> str:
    """calibration.json as lines to read: fitted values, the fit, the verdict and the time taken."""
    fit = report["fit"]
    lines = [
        f"Calibration {report['name']}: {report['evaluations']} evaluations in {report['seconds']:.0f} s"
    ]
    lines += [f"  {name} = {value:g}" for name, value in report["fitted"].items()]
    for arm, target, low, high in LEVEL_TARGETS:
        lines.append(
            f"  {arm}: {fit[f'{arm}_rate']:.1%} ({fit[f'{arm}_ci_low']:.1%} to {fit[f'{arm}_ci_high']:.1%}); "
            f"target {target:.0%}, accepted {low:.0%} to {high:.0%}"
        )
    lines.append(
        f"  paired difference {fit['difference']:+.1%} (interval from {fit['difference_ci_low']:+.1%}); "
        f"inverted-U hazard: {'yes' if fit['hazard_inverted_u'] else 'no'}"
    )
    verdict = "accepted (every pattern matched)" if report["accepted"] else "REJECTED (a pattern is missed)"
    lines.append(
        f"  best evaluation {report['best_evaluation']}: {verdict}; objective {fit['objective']:.3f}"
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------- command line


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
