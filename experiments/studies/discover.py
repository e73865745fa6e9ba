"""Scenario discovery: under which conditions does a governance design fail?

A discovery spec (YAML, see configs/discovery/) names one design (its levers), the uncertain
conditions with the range each may take (by dotted scenario path), how many conditions to sample
(a Latin hypercube, the engine's `lhs` design), the replications per sample, the seed, and the
failure threshold: a sample *fails* when its success rate, pooled over its replications, is
below the threshold::

    name: where_the_alliance_function_fails
    scenario: ../baseline.yaml
    design: {name: alliance_function, levers: {firms.alliance_function: central_function}}
    uncertainties:
      firms.culture_dispersion: {range: [0.3, 1.0]}
      managers.turnover_per_year: {range: [0.05, 0.45], label: manager turnover}
    samples: 200
    replications: 2
    seed: 5
    failure_threshold: 0.5

`discover(spec)` runs the samples through the experiment engine (`sweep.run_sweep`, resumable)
and hands the conditions and the failures to `find_failure_boxes`, which runs PRIM (the patient
rule induction method of Friedman & Fisher, in the `ema_workbench` implementation, Kwakkel 2017)
and reports each box as a readable rule with its *coverage* (the share of all failed samples
inside the box) and *density* (the share of the samples inside the box that failed), e.g.
"fails in 82% of samples when manager turnover > 31% a year and shock rate > 1.10 a year".

How a box is chosen from PRIM's peeling trajectory: the box with the largest coverage x density;
then every restriction that is not significant (Bryant & Lempert's quasi-p value above
`significance`) is dropped, the weakest first. Further boxes are searched for among the samples
outside the earlier boxes and kept while their density reaches `min_density`, up to `max_boxes`.
"""

from __future__ import annotations

import argparse
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from experiments.engine.guards import check_count
from experiments.engine.spec import (
    DesignSpec,
    ExperimentSpec,
    FactorSpec,
    KeepSpec,
    LevelValue,
    ResolvedExperiment,
    SpecError,
    Strict,
    resolve_spec,
)
from experiments.studies.base import (
    RESULTS_DIR,
    Study,
    Subparsers,
    add_workers_argument,
    default_out_dir,
    require_positive,
)
from experiments.studies.stress import single_values
from sim.scenario import format_validation_error, read_yaml
from sim.schema import SafeName, Scenario

#: The study this module's folders are claimed for, and what it is in words (experiments.engine.store).
CLAIM = {"study": "discover", "title": "a scenario discovery"}
BOXES_CSV = "boxes.csv"
SAMPLES_CSV = "samples.csv"
REPORT_MD = "discovery.md"
SPEC_FILE = "discovery_spec.yaml"
BOX_FIGURE = "discovery_box"
TRAJECTORY_FIGURE = "discovery_peeling"
BOX_COLUMNS = ("box", "coverage", "density", "n_restricted", "rule")
#: Top-level scenario sections that cannot be uncertain conditions or levers (they do not change a run).
NOT_CONDITIONS = ("name", "description", "output")
#: A further box is only searched for while at least this many failed samples lie outside the boxes.
MIN_FAILURES_FOR_A_BOX = 5
#: Words that mark a [0, 1] value as a share or a probability, written as a percentage.
PERCENT_WORDS = ("probability", "share")
PER_YEAR, WEEKS = "_per_year", "_weeks"


# --------------------------------------------------------------------------- the spec


class DesignChoice(Strict):
    """The design under study: a name and the levers it sets (dotted scenario paths)."""

    name: SafeName = "design"
    description: StrictStr = ""
    levers: dict[StrictStr, LevelValue] = Field(default_factory=dict)

    _single = field_validator("levers", mode="before")(single_values)


class Uncertainty(Strict):
    """One uncertain condition: the range it is sampled from, and a short label for the rules."""

    range: list[StrictInt | StrictFloat] = Field(min_length=2, max_length=2)
    label: StrictStr | None = Field(None, min_length=1, max_length=60)

    @model_validator(mode="after")
    def _ordered(self) -> Uncertainty:
        low, high = self.range
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"range must be [low, high] with low < high, got {list(self.range)}")
        return self


class PrimSettings(Strict):
    """How PRIM peels and which boxes are reported (see the module docstring)."""

    peel_alpha: StrictFloat = Field(0.05, gt=0, le=0.5, description="share of samples peeled per step")
    paste_alpha: StrictFloat = Field(0.05, gt=0, le=0.5, description="share of samples pasted per step")
    mass_min: StrictFloat = Field(0.05, gt=0, lt=1, description="smallest share of samples a box may hold")
    min_density: StrictFloat = Field(
        0.8, gt=0, le=1, description="density a box after the first must reach to be reported"
    )
    significance: StrictFloat = Field(0.05, gt=0, le=1, description="largest quasi-p value of a restriction")
    max_boxes: StrictInt = Field(3, ge=1, le=20, description="most boxes reported")


class DiscoverySpec(Strict):
    """A scenario discovery: base scenario, design, uncertain conditions, samples, threshold, PRIM."""

    name: SafeName
    description: StrictStr = ""
    scenario: StrictStr = Field(min_length=1)
    design: DesignChoice = DesignChoice()
    uncertainties: dict[StrictStr, Uncertainty] = Field(min_length=2, max_length=30)
    samples: StrictInt = Field(200, ge=10, le=100_000)
    replications: StrictInt = Field(2, ge=1, le=10_000)
    seed: StrictInt = Field(0, ge=0, le=2**63 - 1)
    failure_threshold: StrictFloat = Field(gt=0, lt=1)
    prim: PrimSettings = PrimSettings()


@dataclass(frozen=True)
class Dimension:
    """An uncertain condition as people read it: a label, the schema's description, and its unit."""

    path: str
    label: str
    description: str
    per_year: bool = False
    weeks: bool = False
    percent: bool = False
    bounds: tuple[float | None, float | None] = (None, None)

    def value(self, number: float) -> str:
        """`number` in this dimension's unit: '25% a year', '1.20 a year', '13 weeks', '0.63'."""
        if self.percent:
            text = f"{100 * number:.0f}%"
        elif self.weeks:
            return f"{number:.0f} weeks"
        else:
            text = f"{number:.2f}"
        return f"{text} a year" if self.per_year else text

    @property
    def axis_label(self) -> str:
        """The label with its unit, for a figure's axis."""
        if self.percent:
            unit = "share a year" if self.per_year else "share"
        elif self.weeks:
            unit = "weeks"
        elif self.per_year:
            unit = "per year"
        elif self.bounds == (0.0, 1.0):
            unit = "0 to 1"
        else:
            return self.label
        return f"{self.label} ({unit})"


@dataclass(frozen=True)
class Discovery:
    """A checked discovery spec: the engine's experiment (an lhs design over the uncertainties, the
    design's levers applied to the base scenario) and each dimension's description."""

    spec: DiscoverySpec
    spec_path: Path | None
    experiment: ResolvedExperiment
    dimensions: dict[str, Dimension]


def load_discovery_spec(
    path: str | Path, *, samples: int | None = None, replications: int | None = None
) -> Discovery:
    """Read and check the discovery spec at `path` (`samples` and `replications` replace the
    spec's); SpecError naming the problem otherwise."""
    path = Path(path)
    data = read_yaml(path, "discovery spec", "keys (name, scenario, design, uncertainties, ...)", SpecError)
    try:
        spec = DiscoverySpec.model_validate(dict(data))
    except ValidationError as err:
        raise SpecError(
            format_validation_error(err, str(path), root=DiscoverySpec, what="discovery spec")
        ) from None
    base = Path(spec.scenario)
    if not base.is_absolute():
        base = path.parent / base
    if not base.is_file():
        raise SpecError(f"{path}: scenario {spec.scenario} not found (looked for {base})")
    return resolve_discovery(spec, base, samples=samples, replications=replications, spec_path=path)


def resolve_discovery(
    spec: DiscoverySpec,
    base: str | Path | Scenario | Mapping,
    *,
    samples: int | None = None,
    replications: int | None = None,
    spec_path: Path | None = None,
) -> Discovery:
    """Build the engine's experiment for `spec` on base scenario `base` and check it."""
    where = f"{spec_path}: " if spec_path else ""
    for name, value in (("--samples", samples), ("--replications", replications)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise SpecError(f"{name} must be a positive integer, got {value!r}")
    check_count("--samples", samples, DiscoverySpec, "samples", SpecError)
    check_count("--replications", replications, DiscoverySpec, "replications", SpecError)
    if samples is not None:
        spec = spec.model_copy(update={"samples": samples})
    for path in (*spec.design.levers, *spec.uncertainties):
        if path.split(".")[0] in NOT_CONDITIONS:
            raise SpecError(f"{where}'{path}' cannot be a lever or an uncertainty (it does not change a run)")
    both = sorted(set(spec.design.levers) & set(spec.uncertainties))
    if both:
        raise SpecError(
            f"{where}{both[0]} is both a lever of the design and an uncertain condition; "
            "a design's levers are fixed, so list it under one of them only"
        )
    experiment_spec = ExperimentSpec(
        name=spec.name,
        description=spec.description,
        scenario="-",
        factors={path: FactorSpec(range=list(u.range)) for path, u in spec.uncertainties.items()},
        design=DesignSpec(kind="lhs", samples=spec.samples),
        replications=replications or spec.replications,
        seed=spec.seed,
        common_random_numbers=True,
        keep=KeepSpec(outcomes=False, timeseries_every_weeks=0, events=False),
    )
    try:
        experiment = resolve_spec(experiment_spec, base, scenario_overrides=dict(spec.design.levers))
    except SpecError as exc:
        text = str(exc).replace("--set ", "design.levers: ").replace("factors: ", "uncertainties: ")
        raise SpecError(f"{where}{text}") from None
    dimensions = {path: describe_dimension(path, u.label) for path, u in spec.uncertainties.items()}
    return Discovery(spec, spec_path, experiment, dimensions)


# --------------------------------------------------------------------------- dimensions from the schema


def schema_fields(path: str) -> list[Any]:
    """The pydantic FieldInfo of every part of dotted scenario `path`, outermost first."""
    found = []
    section: type[BaseModel] | None = Scenario
    for key in path.split("."):
        info = section.model_fields.get(key) if section is not None else None
        if info is None:
            raise SpecError(f"'{path}' is not a scenario value (no '{key}' there)")
        found.append(info)
        annotation = info.annotation
        section = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return found


def describe_dimension(path: str, label: str | None = None) -> Dimension:
    """The dimension at scenario `path` described from the schema: its description (a trait's
    mean or sd is described by its trait), its unit from the name (`*_per_year`, `*_weeks`) and
    description (a share or a probability is a percentage), and its bounds."""
    fields = schema_fields(path)
    parts = path.split(".")
    leaf, leaf_name = fields[-1], parts[-1]
    description = leaf.description or ""
    if leaf_name in ("mean", "sd") and len(fields) > 1:
        trait = fields[-2].description or parts[-2].replace("_", " ")
        statistic = "mean" if leaf_name == "mean" else "standard deviation"
        description = f"{trait} (the {statistic} of this trait)"
        default_label = parts[-2].replace("_", " ") + (" (sd)" if leaf_name == "sd" else "")
    else:
        stem = leaf_name.removesuffix(PER_YEAR).removesuffix(WEEKS)
        default_label = stem.replace("_", " ")
    low = high = None
    for rule in leaf.metadata:
        low = getattr(rule, "ge", low)
        high = getattr(rule, "le", high)
    return Dimension(
        path=path,
        label=label or default_label,
        description=description,
        per_year=leaf_name.endswith(PER_YEAR),
        weeks=leaf_name.endswith(WEEKS),
        percent=description.lower().startswith(PERCENT_WORDS) and (low, high) == (0.0, 1.0),
        bounds=(low, high),
    )


def plain_dimension(name: str) -> Dimension:
    """A dimension that is not a scenario value (a column of made-up data): its name, plain numbers."""
    return Dimension(path=name, label=name, description="")


# --------------------------------------------------------------------------- PRIM


@dataclass
class FailureBox:
    """One box PRIM found: its limits (dimension -> (low, high), nan for an open side) over the
    restricted dimensions (most significant first), its statistics, and the peeling trajectory
    it was chosen from (`chosen` is the row of the trajectory it is)."""

    limits: dict[str, tuple[float, float]]
    coverage: float
    density: float
    mass: float
    n_samples: int
    n_failed: int
    quasi_p: dict[str, float]
    trajectory: pd.DataFrame = field(repr=False)
    chosen: int = 0

    @property
    def restricted(self) -> list[str]:
        return list(self.limits)


def search_failure_boxes(
    conditions: pd.DataFrame, failed: np.ndarray, settings: PrimSettings | None = None
) -> list[FailureBox]:
    """Run PRIM on `conditions` (one row per sample, one numeric column per dimension) against
    `failed` (one bool per sample) and return the boxes chosen as the module docstring says."""
    settings = settings or PrimSettings()
    x, y = _prim_inputs(conditions, failed)
    if not y.any():
        return []
    prim_module = _import_prim()
    with warnings.catch_warnings():  # ema_workbench 3 drops a column in place, which pandas 3 deprecates
        warnings.filterwarnings("ignore", message="The inplace keyword")
        prim = prim_module.Prim(
            x, y, peel_alpha=settings.peel_alpha, paste_alpha=settings.paste_alpha, mass_min=settings.mass_min
        )
    boxes: list[FailureBox] = []
    outside = np.ones(len(y), dtype=bool)
    for _ in range(settings.max_boxes):
        if boxes and y[outside].sum() < MIN_FAILURES_FOR_A_BOX:
            break
        box = prim.find_box()
        if box is None:
            break
        found = _settle(box, prim.box_init, settings)
        if boxes and found.density < settings.min_density:
            break
        boxes.append(found)
        outside[box.yi] = False
    return boxes


def _prim_inputs(conditions: pd.DataFrame, failed: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    y = np.asarray(failed)
    if y.ndim != 1 or len(y) != len(conditions):
        raise ValueError(
            f"failed must have one value per row of conditions ({len(conditions)}), got {y.shape}"
        )
    if y.dtype != bool and not np.isin(y, (0, 1)).all():
        raise ValueError("failed must hold booleans (or 0 and 1)")
    if conditions.shape[1] == 0 or len(conditions) == 0:
        raise ValueError("conditions must have at least one row and one column")
    numeric = [c for c in conditions.columns if pd.api.types.is_numeric_dtype(conditions[c])]
    if len(numeric) != conditions.shape[1]:
        other = [str(c) for c in conditions.columns if c not in numeric]
        raise ValueError(f"every condition must be numeric; not numeric: {', '.join(other)}")
    # ema_workbench's PRIM breaks on int64 columns under pandas 3: every column goes in as float
    x = conditions.astype(float).reset_index(drop=True)
    x.columns = [str(c) for c in x.columns]
    if not np.isfinite(x.to_numpy()).all():
        raise ValueError("conditions must be finite numbers (no NaN or infinity)")
    return x, y.astype(bool)


def _import_prim():
    """ema_workbench's PRIM module, without the warnings about optional packages it does not need."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim
    return prim


def _settle(box, box_init: pd.DataFrame, settings: PrimSettings) -> FailureBox:
    """Choose the box on `box`'s trajectory, open its insignificant sides, describe it."""
    index = choose_from_trajectory(box.peeling_trajectory)
    box.select(index)
    while True:
        sides = _side_quasi_p(box.p_values[index])
        weak = {side: p for side, p in sides.items() if p > settings.significance}
        if not weak:
            break
        _open_side(box, box_init, index, *max(weak, key=lambda side: (weak[side], side)))
        index = len(box.peeling_trajectory) - 1
    row = box.peeling_trajectory.iloc[index]
    limits = _limits(box.box_lims[index], box_init)
    quasi_p = {dim: min(p for (d, _), p in sides.items() if d == dim) for dim in limits}
    order = sorted(limits, key=lambda dim: (quasi_p[dim], dim))
    return FailureBox(
        limits={dim: limits[dim] for dim in order},
        coverage=float(row["coverage"]),
        density=float(row["density"]),
        mass=float(row["mass"]),
        n_samples=int(row["n"]),
        n_failed=int(row["k"]),
        quasi_p={dim: quasi_p[dim] for dim in order},
        trajectory=box.peeling_trajectory[["coverage", "density", "mass", "n", "k", "res_dim"]].copy(),
        chosen=index,
    )


def _side_quasi_p(values: Mapping[str, Sequence[float]]) -> dict[tuple[str, int], float]:
    """(dimension, side) -> quasi-p value of every restricted side (side 0 the lower limit, 1 the
    upper); ema_workbench gives -1 for a side that is not restricted."""
    return {
        (str(dim), side): float(p)
        for dim, pair in values.items()
        for side, p in enumerate(pair)
        if p is not None and p >= 0 and np.isfinite(p)
    }


def _open_side(box, box_init: pd.DataFrame, index: int, dim: str, side: int) -> None:
    """Append to `box`'s trajectory box `index` with one side of `dim` opened to the data's extent
    (ema_workbench's drop_restriction opens both sides; a box may need one of them)."""
    limits = box.box_lims[index].copy()
    limits.loc[side, dim] = box_init.loc[side, dim]
    remaining = box.prim.yi_remaining
    x = box.prim.x.loc[remaining, limits.columns].to_numpy(dtype=float)
    inside = ((limits.loc[0].to_numpy(dtype=float) <= x) & (x <= limits.loc[1].to_numpy(dtype=float))).all(
        axis=1
    )
    box.update(limits, remaining[inside])


def choose_from_trajectory(trajectory: pd.DataFrame) -> int:
    """Row of the trajectory to report: the box with the largest coverage x density (the square of
    their geometric mean: a box is worth little if it misses most failures or holds few), ties
    going to the earlier row (the larger box)."""
    score = (trajectory["coverage"] * trajectory["density"]).to_numpy(dtype=float)
    return int(np.argmax(score))


def _limits(box_lim: pd.DataFrame, box_init: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """(low, high) of every restricted dimension; nan for a side left at the data's extent."""
    limits = {}
    for dim in box_lim.columns:
        low, high = float(box_lim[dim].iloc[0]), float(box_lim[dim].iloc[1])
        low_init, high_init = float(box_init[dim].iloc[0]), float(box_init[dim].iloc[1])
        low_side = low if low > low_init else math.nan
        high_side = high if high < high_init else math.nan
        if not (math.isnan(low_side) and math.isnan(high_side)):
            limits[str(dim)] = (low_side, high_side)
    return limits


def rule_text(box: FailureBox, dimensions: Mapping[str, Dimension]) -> str:
    """The box as a sentence: 'fails in 82% of samples when manager turnover > 31% a year and ...'."""
    conditions = [_condition(dimensions[dim], low, high) for dim, (low, high) in box.limits.items()]
    where = " and ".join(conditions) if conditions else "anywhere in the sampled ranges"
    joiner = " when " if conditions else " "
    return f"fails in {box.density:.0%} of samples{joiner}{where}"


def _condition(dimension: Dimension, low: float, high: float) -> str:
    if math.isnan(high):
        return f"{dimension.label} > {dimension.value(low)}"
    if math.isnan(low):
        return f"{dimension.label} < {dimension.value(high)}"
    return f"{dimension.label} between {dimension.value(low)} and {dimension.value(high)}"


def boxes_table(
    boxes: Sequence[FailureBox], dimensions: Mapping[str, Dimension], columns: Sequence[str]
) -> pd.DataFrame:
    """One row per box: box (1, 2, ...), coverage, density, n_restricted, rule, then mass,
    n_samples, n_failed, and low:<dim> / high:<dim> for every dimension (nan where open)."""
    rows = []
    for number, box in enumerate(boxes, start=1):
        row: dict[str, Any] = {
            "box": number,
            "coverage": box.coverage,
            "density": box.density,
            "n_restricted": len(box.limits),
            "rule": rule_text(box, dimensions),
            "mass": box.mass,
            "n_samples": box.n_samples,
            "n_failed": box.n_failed,
        }
        for dim in columns:
            low, high = box.limits.get(dim, (math.nan, math.nan))
            row[f"low:{dim}"], row[f"high:{dim}"] = low, high
        rows.append(row)
    names = [*BOX_COLUMNS, "mass", "n_samples", "n_failed"]
    names += [f"{side}:{dim}" for dim in columns for side in ("low", "high")]
    return pd.DataFrame(rows, columns=names)


def find_failure_boxes(
    conditions: pd.DataFrame,
    failed: np.ndarray,
    *,
    settings: PrimSettings | None = None,
    dimensions: Mapping[str, Dimension] | None = None,
) -> pd.DataFrame:
    """The boxes of conditions where failures concentrate, found by PRIM (see the module docstring).

    Args:
        conditions: one row per sample, one numeric column per dimension (int columns are fine:
            everything is cast to float for ema_workbench's PRIM).
        failed: one boolean per sample.
        settings: PRIM's settings (default: `PrimSettings()`).
        dimensions: how each column reads in a rule (default: its name, plain numbers).

    Returns one row per box (see `boxes_table`); no rows when nothing failed. Raises ValueError for
    inputs PRIM cannot use.
    """
    names = [str(c) for c in conditions.columns]
    described = {name: plain_dimension(name) for name in names} | dict(dimensions or {})
    boxes = search_failure_boxes(conditions, failed, settings)
    return boxes_table(boxes, described, names)


# --------------------------------------------------------------------------- running


def sample_outcomes(runs: pd.DataFrame, experiment: ResolvedExperiment, threshold: float) -> pd.DataFrame:
    """One row per sample: point_id, the conditions, runs, decided, successes, success_rate pooled
    over its successful runs, and failed (success rate below `threshold`; a sample with no
    decided alliance has no rate and is not counted as failed)."""
    ok = runs[runs["status"] == "ok"]
    counts = ok.groupby("point_id")[["successes", "decided"]].sum()
    table = experiment.points[["point_id", *experiment.factor_names]].copy()
    table["runs"] = ok.groupby("point_id").size().reindex(table["point_id"], fill_value=0).to_numpy()
    table["decided"] = counts["decided"].reindex(table["point_id"], fill_value=0).to_numpy(dtype=np.int64)
    table["successes"] = counts["successes"].reindex(table["point_id"], fill_value=0).to_numpy(dtype=np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["success_rate"] = table["successes"] / table["decided"].replace(0, np.nan)
    table["failed"] = (table["success_rate"] < threshold).fillna(False).astype(bool)
    return table


def discover(
    spec: str | Path | Discovery,
    *,
    samples: int | None = None,
    replications: int | None = None,
    out: str | Path | None = None,
    workers: int | None = None,
    progress: bool = False,
    figures: bool = True,
    command: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Sample the uncertain conditions of a discovery spec, run the design in each, and find the
    boxes where it fails.

    Args:
        spec: a discovery spec file or a loaded `Discovery`.
        samples, replications: replace the spec's (a spec file only).
        out: the results folder (default: results/<spec name>); resumed if it holds this discovery.
        workers: worker processes (default: every core; 1 runs in this process).
        progress: show the engine's progress bar.
        figures: draw the box over its two main dimensions and the peeling trajectory.
        command: the command line recorded in the manifest (default: sys.argv).

    Writes boxes.csv, samples.csv, discovery.md, discovery_spec.yaml (the discovery as run) and the
    figures into `out`, next to the engine's files (manifest.json holds the provenance). Returns
    the boxes (see `find_failure_boxes`).
    """
    from experiments.engine.outputs import write_text_atomic
    from experiments.studies.sweep import run_sweep

    if isinstance(spec, Discovery):
        if samples is not None or replications is not None:
            raise SpecError("samples and replications apply to a spec file; resolve them into the discovery")
        found = spec
    else:
        found = load_discovery_spec(spec, samples=samples, replications=replications)
    experiment = found.experiment
    folder = Path(out) if out is not None else default_out_dir(found.spec.name)
    runs = run_sweep(experiment, folder, workers=workers, progress=progress, command=command, **CLAIM)
    runs = runs[runs["replication"] < experiment.spec.replications]
    table = sample_outcomes(runs, experiment, found.spec.failure_threshold)
    usable = table[table["decided"] > 0]
    names = experiment.factor_names
    boxes = search_failure_boxes(usable[names], usable["failed"].to_numpy(), found.spec.prim)
    result = boxes_table(boxes, found.dimensions, names)
    write_text_atomic(folder / SPEC_FILE, resolved_text(found))
    write_text_atomic(folder / SAMPLES_CSV, table.to_csv(index=False))
    write_text_atomic(folder / BOXES_CSV, result[list(BOX_COLUMNS)].to_csv(index=False))
    write_text_atomic(folder / REPORT_MD, report_markdown(found, table, boxes, result) + "\n")
    if figures:
        _draw(folder, found, usable, boxes)
    return result


def resolved_text(found: Discovery) -> str:
    """The discovery as run, as YAML: the spec (samples and replications as used), where it came
    from, and how each dimension reads in the rules."""
    import yaml

    spec = found.spec.model_dump(mode="json")
    spec["replications"] = found.experiment.spec.replications
    content = {
        "spec": spec,
        "spec_path": str(found.spec_path) if found.spec_path else None,
        "dimensions": {
            path: {"label": d.label, "description": d.description, "axis": d.axis_label}
            for path, d in found.dimensions.items()
        },
    }
    return yaml.safe_dump(content, sort_keys=False, allow_unicode=True)


def _draw(folder: Path, found: Discovery, usable: pd.DataFrame, boxes: Sequence[FailureBox]) -> None:
    from experiments.present.figures import save_figure
    from experiments.present.figures.stress import failure_box_figure, peeling_trajectory_figure

    names = found.experiment.factor_names
    first = boxes[0] if boxes else None
    main = (first.restricted if first else [])[:2]
    main += [name for name in names if name not in main][: 2 - len(main)]
    x, y = main
    labels = {name: d.axis_label for name, d in found.dimensions.items()}
    title = f"Where {found.spec.design.name} fails (success below {found.spec.failure_threshold:.0%})"
    figure = failure_box_figure(
        usable[names], usable["failed"].to_numpy(), x, y,
        limits=first.limits if first else None, labels=labels, title=title,
    )  # fmt: skip
    save_figure(figure, folder / BOX_FIGURE)
    if first is not None:
        trajectory = peeling_trajectory_figure(first.trajectory, first.chosen, title="PRIM peeling, box 1")
        save_figure(trajectory, folder / TRAJECTORY_FIGURE)


def report_markdown(
    found: Discovery, table: pd.DataFrame, boxes: Sequence[FailureBox], result: pd.DataFrame
) -> str:
    """discovery.md: what was sampled, how many samples failed, and each box as a rule."""
    spec = found.spec
    failed = int(table["failed"].sum())
    no_rate = int((table["decided"] == 0).sum())
    lines = [
        f"# Where {spec.design.name} fails: {spec.name}",
        "",
        spec.description.strip() or "",
        "",
        f"{len(table)} samples of the conditions (Latin hypercube), "
        f"{_count(found.experiment.spec.replications, 'replication')} each. A sample fails when its "
        f"success rate is below {spec.failure_threshold:.0%}: "
        f"{failed} of {len(table)} failed ({failed / len(table):.0%}).",
    ]
    if no_rate:
        lines.append(f"{no_rate} samples had no decided alliance and were left out of the search.")
    levers = ", ".join(f"{k} = {v}" for k, v in spec.design.levers.items()) or "the base scenario as it is"
    lines += ["", f"Design: {spec.design.name} ({levers}).", "", "## Uncertain conditions", ""]
    lines += ["| condition | scenario value | range | schema description |", "|---|---|---|---|"]
    for path, uncertainty in spec.uncertainties.items():
        d = found.dimensions[path]
        low, high = uncertainty.range
        lines.append(f"| {d.label} | `{path}` | {d.value(low)} to {d.value(high)} | {d.description} |")
    lines += ["", "## Failure boxes (PRIM)", ""]
    if not boxes:
        lines.append("No sample failed, so there is no failure region to describe.")
    else:
        lines += ["| box | rule | coverage | density | samples in box |", "|---|---|---|---|---|"]
        for row, box in zip(result.itertuples(), boxes):
            lines.append(
                f"| {row.box} | {row.rule} | {row.coverage:.0%} | {row.density:.0%} | "
                f"{box.n_samples} ({box.n_failed} failed) |"
            )
        if len(boxes) < spec.prim.max_boxes:
            outside = sum(box.n_failed for box in boxes)
            lines += [
                "",
                f"No further box reached a density of {spec.prim.min_density:.0%} among the "
                f"{failed - outside} failed samples outside the boxes (or too few were left).",
            ]
        lines += [
            "",
            "Coverage: the share of all failed samples that lie inside the box. Density: the share of the "
            "samples inside the box that failed. Later boxes are searched for among the samples outside "
            f"the earlier ones. Restrictions are kept when their quasi-p value is at most "
            f"{spec.prim.significance:g}; the first conditions of a rule are the most significant.",
        ]
    return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


# --------------------------------------------------------------------------- command line


def add_discover_command(subparsers: Subparsers) -> None:
    """Declare `alliance-sim discover`."""
    parser = subparsers.add_parser(
        "discover",
        allow_abbrev=False,
        help="scenario discovery: find the conditions under which a governance design fails",
        description="Sample the uncertain conditions of SPEC (a Latin hypercube over their ranges: "
        "cultural distance, manager turnover, shocks, opportunism, ...), run the design in each "
        "sample, and find with PRIM the boxes of conditions where its success rate falls below the "
        "spec's threshold, reported as rules with their coverage and density.",
        epilog="DIR gets boxes.csv (box, coverage, density, n_restricted, rule), samples.csv (one row "
        "per sample), discovery.md, discovery_spec.yaml, discovery_box.png/.svg and "
        "discovery_peeling.png/.svg, and the engine's files (manifest.json with provenance, runs/). "
        "Resumable: run the same command again to finish; a larger --replications extends it, another "
        "--samples needs another folder. Spec format: docs/how-to/find-where-a-design-fails.md.",
    )
    parser.add_argument(
        "spec",
        metavar="SPEC",
        type=Path,
        help="discovery spec YAML, e.g. configs/discovery/alliance_function.yaml",
    )
    parser.add_argument(
        "--samples", type=int, metavar="N", help="samples of the conditions (default: the spec's)"
    )
    parser.add_argument(
        "--replications", type=int, metavar="N", help="replications per sample (default: the spec's)"
    )
    add_workers_argument(parser)
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help=f"results folder (default: {RESULTS_DIR}/<spec name>)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no report")
    parser.set_defaults(handler=discover_command)


def discover_command(args: argparse.Namespace) -> int:
    """`alliance-sim discover`: run (or resume) the samples, print the failure boxes."""
    require_positive(args, "samples", "replications", "workers")
    found = load_discovery_spec(args.spec, samples=args.samples, replications=args.replications)
    folder = args.out or default_out_dir(found.spec.name)
    boxes = discover(
        found, out=folder, workers=args.workers, progress=not args.quiet, command=args.command_line
    )
    if not args.quiet:
        samples = pd.read_csv(folder / SAMPLES_CSV)
        failed = int(samples["failed"].sum())
        print(
            f"{found.spec.design.name}: {failed} of {len(samples)} samples fail (success rate below "
            f"{found.spec.failure_threshold:.0%})"
        )
        if boxes.empty:
            print("No failure region: no sample failed.")
        for row in boxes.itertuples():
            print(f"  box {row.box}: {row.rule} (covers {row.coverage:.0%} of all failures)")
        written = [BOXES_CSV, SAMPLES_CSV, REPORT_MD, f"{BOX_FIGURE}.png", f"{TRAJECTORY_FIGURE}.png"]
        print(f"Written in {folder}: {', '.join(written)}")
    return True


STUDY = Study(
    name=CLAIM["study"],
    title=CLAIM["title"],
    heading="Scenario discovery",
    arguments=add_discover_command,
    run=discover_command,
)
