"""Experiment specs: which scenario, which factors, which design, how many replications, what to keep.

An experiment spec is a YAML file (see configs/experiments/) validated against `ExperimentSpec`,
the same way scenarios are validated against `sim.schema.Scenario`::

    name: meeting_frequency
    scenario: ../baseline.yaml          # relative to this file
    factors:
      governance.meeting_interval_weeks: {levels: [1, 2, 4, 8, 13]}
      governance.meeting_mode: {levels: [in_person, mixed, virtual]}
    design: {kind: grid}                # grid | lhs | sobol | morris
    replications: 20
    seed: 2026
    reference: {governance.meeting_interval_weeks: 4, governance.meeting_mode: mixed}
    keep: {outcomes: true, timeseries_every_weeks: 0, events: false}

`load_spec(path, replications=..., scenario_overrides=...)` reads and checks it, builds the base
scenario and every design point's scenario, and returns a `ResolvedExperiment`: everything the
runner needs, with nothing left to fail at run time because of the input. Every problem raises
`SpecError` with one message naming the key, what was given and what is allowed.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from experiments.engine.designs import DESIGN_KINDS, LISTED, sample_design
from experiments.engine.errors import SpecError
from experiments.engine.guards import check_count, check_experiment_fits
from sim import Scenario, ScenarioError, build_scenario, load_scenario
from sim.randomness import seed_entropy
from sim.scenario import format_validation_error, read_yaml, set_dotted
from sim.schema import SafeName

LevelValue = StrictBool | StrictInt | StrictFloat | StrictStr


class Strict(BaseModel):
    """The one base of every spec model (experiment, stress, discovery, calibration, sensitivity):
    unknown keys refused, no type coercion, frozen."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def read_spec[M: BaseModel](
    path: str | Path, model: type[M], what: str, keys: str, error: type[SpecError] = SpecError
) -> M:
    """Read the YAML spec at `path` and validate it as `model`; `error` (a SpecError) with one
    line per problem.

    The one loader of every kind of spec (experiment, stress, discovery, calibration,
    sensitivity): `what` names it in messages ("stress spec") and `keys` lists its main keys for
    a file that is not a mapping."""
    data = read_yaml(Path(path), what, keys, error)
    return validate_spec(data, model, what, source=str(path), error=error)


def validate_spec[M: BaseModel](
    data: Mapping[str, Any], model: type[M], what: str, source: str = "", error: type[SpecError] = SpecError
) -> M:
    """Validate a spec mapping as `model`; `error` (a SpecError) with one line per problem."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as err:
        raise error(format_validation_error(err, source, root=model, what=what)) from None


def spec_scenario(
    spec_path: str | Path | None,
    scenario: str,
    *,
    must_exist: bool = True,
    folder: str | Path | None = None,
    error: type[SpecError] = SpecError,
) -> Path:
    """The base scenario a spec names, relative to `folder` (default: the spec's folder, or the
    current folder for a spec that is no file); `error` (a SpecError) if it is missing."""
    found = Path(scenario)
    if not found.is_absolute():
        found = Path(folder if folder is not None else Path(spec_path).parent if spec_path else ".") / found
    if must_exist and not found.is_file():
        where = f"{spec_path}: " if spec_path else ""
        raise error(f"{where}scenario {scenario} not found (looked for {found})")
    return found


def single_values(overrides: Any) -> Any:
    """`overrides` if each of its values is one number, true/false or a word; ValueError otherwise
    (a pydantic before-validator, so that the message names the path rather than four types)."""
    if isinstance(overrides, Mapping):
        for path, value in overrides.items():
            if isinstance(value, (Mapping, list, tuple)) or value is None:
                shown = "nothing" if value is None else f"a {type(value).__name__}"
                raise ValueError(f"{path} must be one value (a number, true/false or a word), got {shown}")
    return overrides


class FactorSpec(Strict):
    """One factor of an experiment: the scenario value it varies, as a list of levels or a range.

    `levels` lists the values to try (any design); `range` gives [low, high] for a number that
    the samplers (lhs, sobol, morris) draw from; integer scenario values are rounded.
    """

    levels: list[LevelValue] | None = Field(None, min_length=1)
    range: list[StrictInt | StrictFloat] | None = Field(None, min_length=2, max_length=2)

    @model_validator(mode="after")
    def _one_of(self) -> FactorSpec:
        if (self.levels is None) == (self.range is None):
            raise ValueError("give either levels: [...] or range: [low, high], not both or neither")
        if self.range is not None:
            low, high = self.range
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise ValueError(f"range must be [low, high] with low < high, got {list(self.range)}")
        return self

    def distinct(self) -> bool:
        """Whether the levels (if any) are all different."""
        return self.levels is None or len({json.dumps(v) for v in self.levels}) == len(self.levels)


class DesignSpec(Strict):
    """How design points are chosen from the factors.

    grid: every combination of the factors' levels (full factorial; levels only). points: the
    points listed one by one, point i taking level i of every factor (all factors list the same
    number of levels, which may repeat), for a set of named arms. lhs: `samples`
    points of a Latin hypercube (scipy.stats.qmc). sobol: Saltelli's scheme for Sobol indices
    (SALib), N = `samples` (a power of 2) base points giving N * (2k + 2) points with
    `second_order`, N * (k + 2) without. morris: `samples` trajectories of Morris's
    elementary-effects design (SALib) on a grid of `morris_levels` levels, N * (k + 1) points.
    """

    kind: Literal[DESIGN_KINDS] = "grid"  # type: ignore[valid-type]  # the registered designs
    samples: StrictInt | None = Field(None, ge=1, le=1_000_000)
    second_order: StrictBool = True
    morris_levels: StrictInt = Field(4, ge=2, le=100)

    @model_validator(mode="after")
    def _samples_when_sampled(self) -> DesignSpec:
        if self.kind in LISTED and self.samples is not None:
            raise ValueError(
                f"samples is for lhs, sobol and morris designs; a {self.kind} design has its points "
                "from the levels as listed"
            )
        if self.kind not in LISTED and self.samples is None:
            raise ValueError(f"a {self.kind} design needs samples: N")
        if self.kind == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(
                f"a sobol design needs samples a power of 2 (64, 128, 256, ...), got {self.samples}"
            )
        return self


class KeepSpec(Strict):
    """What each run stores besides its one-row metrics: alliances, a time series, events."""

    outcomes: StrictBool = True
    timeseries_every_weeks: StrictInt = Field(0, ge=0, le=10_000)
    events: StrictBool = False


class ExperimentSpec(Strict):
    """An experiment: the base scenario, the factors varied, the design, replications and seed."""

    name: SafeName
    description: StrictStr = ""
    scenario: StrictStr = Field(min_length=1)
    factors: dict[StrictStr, FactorSpec] = Field(min_length=1, max_length=50)
    design: DesignSpec = DesignSpec()
    replications: StrictInt = Field(10, ge=1, le=100_000)
    seed: StrictInt = Field(0, ge=0, le=2**63 - 1)
    common_random_numbers: StrictBool = True
    reference: dict[StrictStr, LevelValue] | None = None
    keep: KeepSpec = KeepSpec()

    @field_validator("factors")
    @classmethod
    def _dotted_names(cls, factors: dict[str, FactorSpec]) -> dict[str, FactorSpec]:
        for name in factors:
            if not name or not all(name.split(".")):
                raise ValueError(
                    f"factor '{name}' is not a dotted scenario path like governance.role_clarity"
                )
        return factors

    @model_validator(mode="after")
    def _design_fits_factors(self) -> ExperimentSpec:
        kind = self.design.kind
        if kind in LISTED:
            ranged = [name for name, f in self.factors.items() if f.levels is None]
            if ranged:
                raise ValueError(
                    f"a {kind} design needs levels for every factor; {', '.join(ranged)} "
                    "has a range (use design kind lhs, sobol or morris, or list levels)"
                )
        if kind != "points":
            repeated = [name for name, f in self.factors.items() if not f.distinct()]
            if repeated:
                raise ValueError(f"levels must be distinct; repeated levels in {', '.join(repeated)}")
        else:
            counts = {name: len(f.levels) for name, f in self.factors.items()}
            if len(set(counts.values())) > 1:
                shown = ", ".join(f"{name}: {n}" for name, n in counts.items())
                raise ValueError(
                    f"a points design needs the same number of levels for every factor, got {shown}"
                )
        if self.reference is not None:
            if set(self.reference) != set(self.factors):
                raise ValueError(
                    f"reference must give a value for every factor ({', '.join(self.factors)}), "
                    f"got {', '.join(self.reference) or 'none'}"
                )
            if kind not in LISTED:
                raise ValueError(
                    "a reference point needs a grid or points design (sampled points are not repeatable)"
                )
        return self


# --------------------------------------------------------------------------- resolved experiment


@dataclass(frozen=True)
class ResolvedExperiment:
    """A checked experiment, ready to run: spec, base scenario, design points and seeds.

    `points` has one row per design point: `point_id`, one column per factor (named by its dotted
    path, holding the value the scenario uses), and for sampled designs `u:<factor>` columns with
    the sampler's raw coordinate (what SALib's analysers expect). `scenarios[i]` is the validated
    scenario of point i. `replication_seeds[r]` is the seed of replication r with common random
    numbers; `run_seed(point, r)` gives any run's seed.
    """

    spec: ExperimentSpec
    spec_path: Path | None
    base: Scenario
    scenario_overrides: Mapping[str, Any]
    points: pd.DataFrame
    scenarios: tuple[Scenario, ...] = field(repr=False)
    reference_point: int | None

    @property
    def factor_names(self) -> list[str]:
        return list(self.spec.factors)

    @property
    def n_points(self) -> int:
        return len(self.scenarios)

    @property
    def n_runs(self) -> int:
        return self.n_points * self.spec.replications

    def run_seed(self, point_id: int, replication: int) -> int:
        """Seed of one run: SeedSequence(seed) child `replication` with common random numbers
        (the same at every point), else child (point_id, replication), i.e.
        SeedSequence(seed).spawn(points)[point_id].spawn(replications)[replication]."""
        key = (replication,) if self.spec.common_random_numbers else (point_id, replication)
        return seed_entropy(np.random.SeedSequence(self.spec.seed, spawn_key=key))

    def runs(self) -> Iterator[tuple[int, int]]:
        """(point_id, replication) of every run, replication-major so early results cover every point."""
        for replication in range(self.spec.replications):
            for point_id in range(self.n_points):
                yield point_id, replication

    def resolved(self) -> dict[str, Any]:
        """The spec as resolved, JSON-ready: spec, base scenario, overrides and design points."""
        return {
            "spec": self.spec.model_dump(mode="json"),
            "spec_path": str(self.spec_path) if self.spec_path else None,
            "scenario_overrides": dict(self.scenario_overrides),
            "base_scenario": self.base.model_dump(mode="json"),
            "points": json.loads(self.points.to_json(orient="records")),
            "reference_point": self.reference_point,
        }

    def fingerprint(self) -> str:
        """Hash of everything that decides the runs' results except the number of replications.

        Two invocations with the same fingerprint produce identical runs, so a results folder can
        be resumed (or extended with more replications) only by a spec with its fingerprint.
        """
        content = self.resolved()
        content["spec"] = {
            k: v for k, v in content["spec"].items() if k not in ("replications", "description")
        }
        content.pop("spec_path")
        text = json.dumps(content, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_id(point_id: int, replication: int) -> str:
    """The run's identifier, also its file name in the results store: p000012-r00003."""
    return f"p{point_id:06d}-r{replication:05d}"


# --------------------------------------------------------------------------- loading


def load_spec(
    path: str | Path,
    *,
    replications: int | None = None,
    scenario_overrides: Mapping[str, Any] | None = None,
) -> ResolvedExperiment:
    """Read the experiment spec at `path` and resolve it (see `resolve_spec`)."""
    path = Path(path)
    spec = read_spec(path, ExperimentSpec, "experiment spec", "keys (name, scenario, factors, design, ...)")
    scenario_path = spec_scenario(path, spec.scenario, must_exist=False)
    return resolve_spec(
        spec, scenario_path, replications=replications, scenario_overrides=scenario_overrides, spec_path=path
    )


def parse_spec(data: Mapping[str, Any], source: str = "") -> ExperimentSpec:
    """Validate a spec mapping; SpecError with one line per problem."""
    return validate_spec(data, ExperimentSpec, "experiment spec", source)


def resolve_spec(
    spec: ExperimentSpec,
    scenario: str | Path | Scenario | Mapping,
    *,
    replications: int | None = None,
    scenario_overrides: Mapping[str, Any] | None = None,
    spec_path: Path | None = None,
) -> ResolvedExperiment:
    """Build the base scenario and every design point's scenario, and check them all.

    `scenario` is the base scenario: a path, a Scenario or a mapping. `scenario_overrides` are
    dotted-path values applied to it (the command line's --set), held fixed across the design;
    they may not name a factor. `replications` replaces the spec's.
    """
    overrides = dict(scenario_overrides or {})
    if replications is not None:
        if not isinstance(replications, int) or isinstance(replications, bool) or replications < 1:
            raise SpecError(f"--replications must be a positive integer, got {replications!r}")
        check_count("--replications", replications, ExperimentSpec, "replications", SpecError)
        spec = spec.model_copy(update={"replications": replications})
    check_experiment_fits(spec)  # before any design point or scenario is built
    clash = sorted(set(overrides) & set(spec.factors))
    if clash:
        raise SpecError(
            f"--set {clash[0]} names a factor of the experiment, which varies across design points; "
            "change its levels or range in the spec instead"
        )
    base = base_scenario(scenario, overrides, spec)
    base_values = base.model_dump(mode="python")
    for name in spec.factors:
        _check_factor_path(name, base_values)
    points = sample_design(spec, {name: value_at(base_values, name) for name in spec.factors})
    scenarios = tuple(_point_scenario(base_values, spec, row) for row in _factor_rows(points, spec))
    for name in spec.factors:  # record the values as the scenarios hold them (e.g. 2 -> 2.0)
        points[name] = [value_at(s.model_dump(mode="python"), name) for s in scenarios]
    return ResolvedExperiment(
        spec=spec,
        spec_path=spec_path,
        base=base,
        scenario_overrides=overrides,
        points=points,
        scenarios=scenarios,
        reference_point=_reference_point(spec, points),
    )


def as_scenario(scenario: Scenario | Mapping | str | Path) -> Scenario:
    """A Scenario from a scenario file, a mapping of its sections or a Scenario (returned as is)."""
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, (str, Path)):
        return load_scenario(scenario)
    return build_scenario(dict(scenario))


def base_scenario(scenario, overrides: Mapping[str, Any], spec: ExperimentSpec) -> Scenario:
    """The base scenario with the overrides and the spec's `keep` choices applied."""
    keep: dict[str, Any] = {"output.events": spec.keep.events}
    if spec.keep.timeseries_every_weeks:  # 0: the time series is not stored, its interval is moot
        keep["output.timeseries_interval_weeks"] = spec.keep.timeseries_every_weeks
    try:
        if isinstance(scenario, (str, Path)):
            data: Any = read_yaml(scenario)
            source = str(scenario)
        else:
            data, source = scenario, "scenario"
        return build_scenario(data, {**overrides, **keep}, source=source)
    except ScenarioError as exc:
        raise SpecError(f"base scenario: {exc}") from None


def _check_factor_path(name: str, base_values: Mapping[str, Any]) -> None:
    try:
        set_dotted({}, name, None)
    except ScenarioError as exc:
        raise SpecError(f"factors: {exc}") from None
    if name.split(".")[0] in ("name", "description", "output"):
        raise SpecError(f"factors: '{name}' cannot be a factor (it does not change the simulation)")


def value_at(values: Mapping[str, Any], dotted: str) -> Any:
    node: Any = values
    for key in dotted.split("."):
        node = node[key]
    return node


def _factor_rows(points: pd.DataFrame, spec: ExperimentSpec) -> Iterator[dict[str, Any]]:
    names = list(spec.factors)
    for values in points[names].itertuples(index=False, name=None):
        yield dict(zip(names, values))


def _point_scenario(base_values: Mapping[str, Any], spec: ExperimentSpec, row: Mapping[str, Any]) -> Scenario:
    overrides = {name: _plain(value) for name, value in row.items()}
    try:
        return build_scenario(base_values, overrides, source="factors")
    except ScenarioError as exc:
        shown = ", ".join(f"{k}={v!r}" for k, v in overrides.items())
        raise SpecError(f"design point ({shown}) is not a valid scenario: {exc}") from None


def _plain(value: Any) -> Any:
    """numpy scalars as Python values, so the strict schema sees int, float, str or bool."""
    return value.item() if isinstance(value, np.generic) else value


def _reference_point(spec: ExperimentSpec, points: pd.DataFrame) -> int | None:
    """The point_id of the spec's reference, or None; SpecError if no point matches it."""
    if spec.reference is None:
        return None
    match = np.ones(len(points), dtype=bool)
    for name, value in spec.reference.items():
        match &= np.array([_same(v, value) for v in points[name]])
    if not match.any():
        wanted = ", ".join(f"{k}={v!r}" for k, v in spec.reference.items())
        raise SpecError(f"reference ({wanted}) is not a design point; use one of each factor's levels")
    return int(points["point_id"][match.argmax()])


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (isinstance(a, bool) and isinstance(b, bool) and a == b)
    if isinstance(a, (int, float, np.number)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return a == b
