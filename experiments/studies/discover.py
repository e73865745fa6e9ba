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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, StrictFloat, StrictInt, StrictStr, field_validator, model_validator

from experiments.analysis.prim import (
    MIN_FAILURES_FOR_A_BOX,  # noqa: F401 (the old module's name)
    FailureBox,
    PrimSettings,
    choose_from_trajectory,  # noqa: F401 (the old module's name)
    search_failure_boxes,
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
    read_spec,
    resolve_spec,
    single_values,
    spec_scenario,
)
from experiments.present import page
from experiments.present import text as fmt
from experiments.present.dimensions import (
    PER_YEAR,  # noqa: F401 (the old module's name)
    PERCENT_WORDS,  # noqa: F401 (the old module's name)
    WEEKS,  # noqa: F401 (the old module's name)
    Dimension,
    describe_dimension,
    plain_dimension,
    schema_fields,  # noqa: F401 (the old module's name)
)
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
    keys = "keys (name, scenario, design, uncertainties, ...)"
    spec = read_spec(path, DiscoverySpec, "discovery spec", keys)
    base = spec_scenario(path, spec.scenario)
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
    folder = out_folder(args, found.spec.name)
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
        print_written(written, folder)
    return True


# --------------------------------------------------------------------------- report section


def report_section(folder: Path, manifest: Mapping[str, Any] | None) -> page.Section:
    """A scenario discovery: the boxes of conditions where the design fails, as rules."""
    boxes = page.read_csv(folder, BOXES_CSV, BOX_COLUMNS)
    section = page.Section("discover", f"Scenario discovery {(manifest or {}).get('name', folder.name)}")
    table = pd.DataFrame(
        {
            "box": boxes["box"].map(str),
            "rule": boxes["rule"].map(str),
            "coverage": boxes["coverage"].map(fmt.percent),
            "density": boxes["density"].map(fmt.percent),
            "conditions restricted": boxes["n_restricted"].map(str),
        }
    )
    note = (
        "coverage: share of all failing samples inside the box; density: share of the samples "
        "inside it that fail"
    )
    section.tables.append(page.Table("Boxes of conditions where the design fails (PRIM)", table, note))
    if boxes.empty:
        section.reading.append("PRIM found no box of conditions in which the design clearly fails.")
    else:
        first = boxes.iloc[0]
        section.reading.append(
            f"PRIM found {len(boxes)} box{'es' if len(boxes) > 1 else ''} of conditions where the design "
            f"fails. Box 1 ({first['rule']}) holds {fmt.percent(first['coverage'])} of the failing "
            f"samples, and {fmt.percent(first['density'])} of the samples inside it fail."
        )
    section.details += page.text_details(folder, [REPORT_MD, SPEC_FILE])
    section.figures += page.folder_figures(folder) + page.engine_trust_figure(folder, manifest)
    return section


STUDY = Study(
    name=CLAIM["study"],
    title=CLAIM["title"],
    heading="Scenario discovery",
    arguments=add_discover_command,
    run=discover_command,
    section=report_section,
    tables={BOXES_CSV: BOX_COLUMNS},
)
