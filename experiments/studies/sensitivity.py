"""Global sensitivity analysis: Sobol and Morris indices of a model output over chosen parameters.

    alliance-sim sensitivity configs/sensitivity/governance_levers.yaml --workers 2

A sensitivity spec (YAML, see configs/sensitivity/) names the base scenario, the parameters with
their ranges (or levels), the methods, the base sample count N, the replications and the seed::

    name: governance_levers
    scenario: ../baseline.yaml
    parameters:
      firms.incentives.formal: {range: [0.1, 0.7]}
      firms.leadership_consistency: {range: [0.2, 0.85]}
    methods: [sobol, morris]
    samples: 32          # Sobol: N base points (a power of 2); Morris: N trajectories
    replications: 1
    seed: 2026
    metric: success_rate

Each method is one experiment of the engine (its `sobol` or `morris` design, common random
numbers) run by `experiments.engine.sweep.run_sweep` into DIR/sobol/ and DIR/morris/, so an interrupted
analysis resumes where it stopped. The metric is averaged over the replications of each design
point, and `analyze_indices` hands the averages, in the design's own order, to
`SALib.analyze.sobol` (first, total and second order) or `SALib.analyze.morris`. Results:
DIR/indices.csv (`parameter, method, index, value, ci`, ci being the half-width of SALib's 95%
bootstrap interval), DIR/indices.png and .svg, and DIR/manifest.json (provenance).

With common random numbers every design point is evaluated on the same seeds, so the indices
describe the model averaged over those `replications` seeds: run-to-run noise does not masquerade
as a parameter's effect. `analyze_indices` works on any outputs (the tests check it on Ishigami's
function), so it can be used without the model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, StrictBool, StrictInt, StrictStr, field_validator, model_validator

from experiments.analysis.indices import (
    ANALYSIS_SEED_TAG,  # noqa: F401 (the old module's name)
    COLUMNS,  # noqa: F401 (the old module's name)
    CONF_LEVEL,  # noqa: F401 (the old module's name)
    METHODS,
    MORRIS_INDICES,  # noqa: F401 (the old module's name)
    NUM_RESAMPLES,  # noqa: F401 (the old module's name)
    PAIR_SEPARATOR,  # noqa: F401 (the old module's name)
    SOBOL_INDICES,  # noqa: F401 (the old module's name)
    analysis_seed,
    analyze_indices,
    morris_table,  # noqa: F401 (the old module's name)
    per_parameter,
    sobol_table,  # noqa: F401 (the old module's name)
)
from experiments.engine.designs import salib_problem
from experiments.engine.guards import check_count
from experiments.engine.outputs import write_text_atomic
from experiments.engine.provenance import environment, now
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
    spec_scenario,
    validate_spec,
    value_at,
)
from experiments.engine.store import StoreError, claim, write_manifest
from experiments.present import page
from experiments.present import text as fmt
from experiments.present.text import indices_text
from experiments.studies.base import (
    RESULTS_DIR,
    Study,
    Subparsers,
    add_set_argument,
    add_workers_argument,
    out_folder,
    prepare_out_dir,
    print_written,
    require_positive,
)
from sim import parse_assignment
from sim.schema import SafeName

#: The study this module's folders are claimed for, and what it is in words (experiments.engine.store).
CLAIM = {"study": "sensitivity", "title": "a sensitivity analysis"}
Method = Literal["sobol", "morris"]
#: Run metrics (columns of the engine's runs table) a sensitivity analysis can explain.
METRICS = (
    "success_rate",
    "mean_duration_weeks",
    "median_duration_weeks",
    "mean_value_realized",
    "mean_final_trust",
)
Metric = Literal[
    "success_rate", "mean_duration_weeks", "median_duration_weeks", "mean_value_realized", "mean_final_trust"
]

DEFAULT_SAMPLES = 32
DEFAULT_REPLICATIONS = 1
#: indices.csv carries this many significant digits: enough for any index, stable to print.
CSV_FLOAT_FORMAT = "%.6g"
#: The printed table shows at most this many interactions (all of them are in indices.csv).
TABLE_MAX_PAIRS = 10

INDICES_CSV = "indices.csv"
FIGURE_STEM = "indices"
MANIFEST = "manifest.json"
KIND = "sensitivity"
WHAT, KEYS = "sensitivity spec", "keys (name, scenario, parameters, ...)"


class SensitivityError(SpecError):
    """A sensitivity spec, option or results folder that cannot be used; the message says why."""


# --------------------------------------------------------------------------- the spec


class SensitivitySpec(Strict):
    """A sensitivity analysis: base scenario, parameters with their ranges, methods and budget.

    `samples` is N: a Sobol design has N * (2k + 2) points with second-order indices
    (N * (k + 2) without) and must be a power of 2; a Morris design has N trajectories of k + 1
    points on a grid of `morris_levels` levels. Every point runs `replications` times on common
    random numbers, and `metric` (a column of the engine's runs table) is averaged per point.
    `overrides` are base-scenario values held fixed (dotted paths), e.g. a smaller population.
    """

    name: SafeName
    description: StrictStr = ""
    scenario: StrictStr = Field(min_length=1)
    overrides: dict[StrictStr, LevelValue] = Field(default_factory=dict)
    parameters: dict[StrictStr, FactorSpec] = Field(min_length=2, max_length=50)
    methods: list[Method] = Field(default_factory=lambda: list(METHODS), min_length=1)
    samples: StrictInt = Field(DEFAULT_SAMPLES, ge=2, le=1_000_000)
    second_order: StrictBool = True
    morris_levels: StrictInt = Field(4, ge=2, le=100)
    replications: StrictInt = Field(DEFAULT_REPLICATIONS, ge=1, le=100_000)
    seed: StrictInt = Field(0, ge=0, le=2**63 - 1)
    metric: Metric = "success_rate"

    @field_validator("methods")
    @classmethod
    def _distinct_methods(cls, methods: list[str]) -> list[str]:
        if len(set(methods)) != len(methods):
            raise ValueError(f"each method once, got {methods}")
        return methods

    @field_validator("parameters")
    @classmethod
    def _distinct_levels(cls, parameters: dict[str, FactorSpec]) -> dict[str, FactorSpec]:
        repeated = [name for name, factor in parameters.items() if not factor.distinct()]
        if repeated:
            raise ValueError(f"levels must be distinct; repeated levels in {', '.join(repeated)}")
        return parameters

    @model_validator(mode="after")
    def _consistent(self) -> SensitivitySpec:
        if "sobol" in self.methods:
            check_sobol_samples(self.samples, "samples")
        fixed = sorted(set(self.overrides) & set(self.parameters))
        if fixed:
            raise ValueError(
                f"overrides: {fixed[0]} is also a parameter; a parameter varies, an override is fixed"
            )
        return self


def check_sobol_samples(samples: int, name: str) -> None:
    """ValueError unless `samples` is a power of 2 (Saltelli's scheme on a Sobol' sequence)."""
    if samples < 1 or samples & (samples - 1):
        raise ValueError(f"{name} must be a power of 2 for a Sobol design (16, 32, 64, ...), got {samples}")


@dataclass(frozen=True)
class SensitivityStudy:
    """A checked sensitivity spec, with one resolved engine experiment per method."""

    spec: SensitivitySpec
    spec_path: Path | None
    experiments: Mapping[str, ResolvedExperiment]

    @property
    def problem(self) -> dict[str, Any]:
        """SALib's problem dict (names and bounds in the designs' problem space)."""
        experiment = next(iter(self.experiments.values()))
        base = experiment.base.model_dump(mode="python")
        return salib_problem(
            self.spec.parameters, {name: value_at(base, name) for name in self.spec.parameters}
        )

    def fingerprint(self) -> str:
        """What decides the runs: everything but the description, replications, methods and metric,
        so a folder can take more replications, another method or another metric of the same runs."""
        spec = self.spec.model_dump(mode="json", exclude={"description", "replications", "methods", "metric"})
        base = next(iter(self.experiments.values())).base.model_dump(mode="json")
        overrides = next(iter(self.experiments.values())).scenario_overrides
        text = json.dumps({"spec": spec, "base": base, "overrides": dict(overrides)}, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_sensitivity(
    spec: str | Path | SensitivitySpec | Mapping[str, Any],
    *,
    samples: int | None = None,
    replications: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    base: str | Path | None = None,
) -> SensitivityStudy:
    """Read and check a sensitivity spec (a file, a mapping or a spec) and resolve its experiments.

    `samples` and `replications` replace the spec's; `overrides` are base-scenario values by dotted
    path (the CLI's --set), on top of the spec's own. `base` is the folder a relative `scenario`
    is read from (default: the spec file's folder, or the current folder). Raises
    SensitivityError (or SpecError) naming the problem.
    """
    spec_path = None
    if isinstance(spec, (str, Path)):
        spec_path = Path(spec)
        parsed = read_spec(spec_path, SensitivitySpec, WHAT, KEYS, error=SensitivityError)
    elif isinstance(spec, SensitivitySpec):
        parsed = parse_sensitivity(spec.model_dump(mode="python"))
    else:
        parsed = parse_sensitivity(spec)
    parsed = _with_options(parsed, samples, replications)
    scenario = spec_scenario(spec_path, parsed.scenario, folder=base, error=SensitivityError)
    fixed = {**parsed.overrides, **dict(overrides or {})}
    clash = sorted(set(overrides or {}) & set(parsed.parameters))
    if clash:
        raise SensitivityError(
            f"--set {clash[0]} names a parameter of the analysis, which varies across design points; "
            "change its range in the spec instead"
        )
    experiments = {method: method_experiment(parsed, method, scenario, fixed) for method in parsed.methods}
    return SensitivityStudy(parsed, spec_path, experiments)


def parse_sensitivity(data: Mapping[str, Any], source: str = "") -> SensitivitySpec:
    """Validate a sensitivity spec mapping; SensitivityError with one line per problem."""
    return validate_spec(data, SensitivitySpec, WHAT, source, error=SensitivityError)


def _with_options(spec: SensitivitySpec, samples: int | None, replications: int | None) -> SensitivitySpec:
    """`spec` with the command line's --samples and --replications, checked like the spec's own."""
    update: dict[str, int] = {}
    for option, value, low in (("--samples", samples, 2), ("--replications", replications, 1)):
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise SensitivityError(f"{option} must be an integer of at least {low}, got {value!r}")
        check_count(option, value, SensitivitySpec, option.lstrip("-"), SensitivityError)
        update[option.lstrip("-")] = value
    if samples is not None and "sobol" in spec.methods:
        try:
            check_sobol_samples(samples, "--samples")
        except ValueError as exc:
            raise SensitivityError(str(exc)) from None
    return spec.model_copy(update=update)


def method_experiment(
    spec: SensitivitySpec, method: str, scenario: Path, overrides: Mapping[str, Any]
) -> ResolvedExperiment:
    """The engine's experiment for one method: its design over the parameters, common random
    numbers, and only the run rows kept (the metrics; no per-alliance tables)."""
    design = DesignSpec(
        kind=method, samples=spec.samples, second_order=spec.second_order, morris_levels=spec.morris_levels
    )
    experiment = ExperimentSpec(
        name=f"{spec.name}-{method}",
        description=spec.description,
        scenario=str(scenario),
        factors=dict(spec.parameters),
        design=design,
        replications=spec.replications,
        seed=spec.seed,
        common_random_numbers=True,
        keep=KeepSpec(outcomes=False, timeseries_every_weeks=0, events=False),
    )
    return resolve_spec(experiment, scenario, scenario_overrides=overrides)


def point_means(runs: pd.DataFrame, metric: str, n_points: int) -> np.ndarray:
    """The metric averaged over the replications of each design point (NaN runs, e.g. no decided
    alliance, left out), in point_id order; SensitivityError if a point has no value at all."""
    ok = runs[runs["status"] == "ok"]
    means = ok.groupby("point_id")[metric].mean().reindex(range(n_points))
    empty = means.index[means.isna()].tolist()
    if empty:
        raise SensitivityError(
            f"{len(empty)} design points (e.g. point {empty[0]}) have no {metric} in any replication "
            "(every run failed or decided no alliance); use a longer horizon, more alliances or "
            "more replications"
        )
    return means.to_numpy(dtype=float)


# --------------------------------------------------------------------------- running


def sensitivity(
    spec: str | Path | SensitivitySpec | SensitivityStudy | Mapping[str, Any],
    out: str | Path,
    *,
    samples: int | None = None,
    replications: int | None = None,
    workers: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    figures: bool = True,
    progress: bool = True,
    command: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Run (or resume) a sensitivity analysis into folder `out` and return its indices table.

    Args:
        spec: a sensitivity spec file, a mapping or spec, or a study from `load_sensitivity`.
        out: the results folder: DIR/<method>/ hold the engine's runs (resumable), DIR/indices.csv
            the indices, DIR/indices.png and .svg the figure, DIR/manifest.json the provenance.
        samples, replications: replace the spec's N and replications.
        workers: worker processes (default: every core; 1 runs in this process).
        overrides: base-scenario values by dotted path, fixed across the design (--set).
        figures: draw DIR/indices.png and .svg.
        progress: show a progress bar per method on stderr.
        command: the command line recorded in the manifests (default: sys.argv).

    Returns the rows of indices.csv (`COLUMNS`), Sobol first, each method in its indices' order.
    Raises SensitivityError, SpecError or StoreError for input or a folder that cannot be used,
    and `experiments.engine.sweep.SweepInterrupted` on Ctrl-C (a rerun resumes).
    """
    from experiments.studies.sweep import run_sweep

    if isinstance(spec, SensitivityStudy):
        if samples is not None or replications is not None or overrides:
            raise SensitivityError(
                "samples, replications and overrides apply to a spec; load the study with them"
            )
        study = spec
    else:
        study = load_sensitivity(spec, samples=samples, replications=replications, overrides=overrides)
    if workers is not None and workers < 1:
        raise SensitivityError(f"--workers must be a positive integer, got {workers}")
    folder = Path(out)
    command = list(sys.argv if command is None else command)
    manifest = open_folder(folder, study, command)
    tables = []
    for method, experiment in study.experiments.items():
        runs = run_sweep(
            experiment,
            folder / method,
            workers=workers,
            retry_failed=True,
            progress=progress,
            command=command,  # the method folders are sweeps (their own experiment each)
        )
        means = point_means(runs, study.spec.metric, experiment.n_points)
        try:
            table = analyze_indices(
                study.problem,
                experiment.points,
                means,
                method,
                second_order=study.spec.second_order,
                morris_levels=study.spec.morris_levels,
                seed=analysis_seed(study.spec.seed),
            )
        except ValueError as exc:
            raise SensitivityError(f"{method} analysis of {study.spec.metric}: {exc}") from None
        tables.append(table)
    indices = pd.concat(tables, ignore_index=True)
    write_text_atomic(folder / INDICES_CSV, indices.to_csv(index=False, float_format=CSV_FLOAT_FORMAT))
    written = [INDICES_CSV]
    if figures:
        from experiments.present.figures import save_figure
        from experiments.present.figures.indices import indices_figure

        figure = indices_figure(
            indices,
            metric=study.spec.metric,
            title=f"{study.spec.name}: sensitivity of {study.spec.metric.replace('_', ' ')}",
        )
        written += [path.name for path in save_figure(figure, folder / FIGURE_STEM)]
    manifest["finished"] = now()
    manifest["files"] = written
    write_manifest(folder, manifest)
    return indices


def open_folder(folder: Path, study: SensitivityStudy, command: list[str]) -> dict[str, Any]:
    """Create `folder` for `study` or reopen it if it holds the same study; its manifest, saved.

    StoreError if the folder holds anything else: a sweep, a run, another analysis, other files.
    """
    fingerprint = study.fingerprint()
    manifest = claim(folder, CLAIM["study"], CLAIM["title"])
    if manifest is None:
        manifest = {"kind": KIND, **CLAIM, "name": study.spec.name, "fingerprint": fingerprint}
        manifest["invocations"] = []
    elif manifest.get("fingerprint") != fingerprint:
        raise StoreError(
            f"{folder} holds a sensitivity analysis of a different spec ('{manifest.get('name')}': other "
            "parameters, ranges, samples, seed or scenario); rerun that spec or give another --out"
        )
    spec = study.spec
    manifest.update(
        {
            "spec": spec.model_dump(mode="json"),
            "spec_path": str(study.spec_path) if study.spec_path else None,
            "problem": study.problem,
            "methods": {
                method: {
                    "folder": method,
                    "points": experiment.n_points,
                    "runs": experiment.n_runs,
                    "fingerprint": experiment.fingerprint(),
                }
                for method, experiment in study.experiments.items()
            },
            "seeds": {
                "seed": spec.seed,
                "analysis_seed": analysis_seed(spec.seed),
                "note": "runs and design seeds are in each method folder's manifest.json",
            },
            "started": now(),
            "finished": None,
        }
    )
    manifest["invocations"].append({"command": command, "started": manifest["started"], **environment()})
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_manifest(folder, manifest)
    except OSError as exc:
        raise StoreError(f"cannot write to {folder}: {exc.strerror or exc}") from None
    return manifest


# --------------------------------------------------------------------------- reading the result


def indices_table(indices: pd.DataFrame, max_pairs: int = TABLE_MAX_PAIRS) -> str:
    """The indices to read in a terminal (see `experiments.present.text.indices_text`)."""
    return indices_text(indices, max_pairs)


def study_heading(study: SensitivityStudy) -> str:
    """What was analysed: the metric, the parameters, and each method with its points and runs."""
    spec = study.spec
    plural = "s" if spec.replications > 1 else ""
    parts = []
    for method, experiment in study.experiments.items():
        size = f"N = {spec.samples}" if method == "sobol" else f"{spec.samples} trajectories"
        points = f"{experiment.n_points} points x {spec.replications} replication{plural}"
        parts.append(f"{method.capitalize()} ({size}, {points})")
    heading = f"{spec.name}: sensitivity of {spec.metric} to {len(spec.parameters)} parameters"
    return f"{heading}; {' and '.join(parts)}"


# --------------------------------------------------------------------------- command line


def add_sensitivity_command(subparsers: Subparsers) -> None:
    """Declare `alliance-sim sensitivity`."""
    parser = subparsers.add_parser(
        "sensitivity",
        allow_abbrev=False,
        help="Sobol and Morris sensitivity indices of the success rate (or another metric)",
        description="Global sensitivity analysis over the parameters of SPEC: Sobol indices (first, "
        "total and second order) and Morris elementary effects, computed with SALib on runs of "
        "the experiment engine (common random numbers, every core, a resumable results folder). "
        "Prints the indices, most influential parameter first, and the largest interactions.",
        epilog="DIR gets indices.csv (parameter, method, index, value, ci: the half-width of the 95%% "
        "bootstrap interval), indices.png and .svg, manifest.json, and one engine folder per method "
        "(sobol/, morris/). Rerun the same command to resume. The default sizes give a first look in "
        "minutes; a study to publish wants more --samples (and --replications). Guide: "
        "docs/how-to/run-a-sensitivity-analysis.md.",
    )
    parser.add_argument(
        "spec",
        metavar="SPEC",
        type=Path,
        help="sensitivity spec YAML, e.g. configs/sensitivity/governance_levers.yaml",
    )
    parser.add_argument(
        "--samples",
        type=int,
        metavar="N",
        help="base sample count: Sobol's N (a power of 2) and Morris's trajectories (default: the spec's)",
    )
    parser.add_argument(
        "--replications", type=int, metavar="R", help="replications per design point (default: the spec's)"
    )
    add_workers_argument(parser)
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help=f"results folder (default: {RESULTS_DIR}/sensitivity-<name>)"
    )
    add_set_argument(
        parser,
        "override a base-scenario value by its dotted path at every design point, e.g. "
        "--set formation.n_alliances=100; repeatable; not a parameter of the analysis",
    )
    parser.add_argument("--no-figures", action="store_true", help="write indices.csv only")
    parser.add_argument("--quiet", action="store_true", help="no progress bars and no table")
    parser.set_defaults(handler=sensitivity_command)


def sensitivity_command(args: argparse.Namespace) -> int:
    """`alliance-sim sensitivity`: run or resume the analysis, print the indices."""
    require_positive(args, "workers")
    overrides = dict(parse_assignment(text) for text in args.assignments)
    study = load_sensitivity(
        args.spec, samples=args.samples, replications=args.replications, overrides=overrides
    )
    folder = prepare_out_dir(out_folder(args, f"sensitivity-{study.spec.name}"))
    indices = sensitivity(
        study,
        folder,
        workers=args.workers,
        figures=not args.no_figures,
        progress=not args.quiet,
        command=args.command_line,
    )
    if not args.quiet:
        print(study_heading(study))
        print(indices_table(indices))
        figures = [] if args.no_figures else [f"{folder / FIGURE_STEM}.png and .svg"]
        print_written([folder / INDICES_CSV, *figures])
    return True


# --------------------------------------------------------------------------- report section


def _plus_minus(value: Any, half_width: Any) -> str:
    """'0.62 ± 0.1', or just the value when the index has no interval (Morris's mu)."""
    shown = fmt.number(value)
    return shown if fmt.missing(half_width) else f"{shown} ± {fmt.number(half_width)}"


def report_section(folder: Path, manifest: Mapping[str, Any] | None) -> page.Section:
    """A sensitivity analysis: indices per parameter with their intervals, the most influential first."""
    indices = page.read_csv(folder, INDICES_CSV, COLUMNS)
    section = page.Section("sensitivity", f"Sensitivity analysis {(manifest or {}).get('name', folder.name)}")
    single = indices[indices["index"] != "S2"]
    for method, group in single.groupby("method", sort=False):  # in the file's order: Sobol first
        wide = per_parameter(group).sort_index()
        order = [c for c in ("ST", "mu_star", "S1", "mu", "sigma") if c in wide.columns]
        wide = wide.sort_values(order[0], ascending=False, kind="stable")
        table = pd.DataFrame({"parameter": wide.index.map(str)})
        for index in order:
            table[index] = [_plus_minus(v, c) for v, c in zip(wide[index], wide[f"{index}_ci"])]
        section.tables.append(
            page.Table(f"{method}: indices (value ± half-width of the 95% interval)", table)
        )
        top, lead = wide.index[0], order[0]
        then = (
            f", then {wide.index[1]} ({lead} = {fmt.number(wide.loc[wide.index[1], lead])})."
            if len(wide) > 1
            else "."
        )
        section.reading.append(
            f"{method.capitalize()}: the most influential parameter is {top} ({lead} = "
            f"{_plus_minus(wide.loc[top, lead], wide.loc[top, f'{lead}_ci'])}){then}"
        )
    pairs = indices[indices["index"] == "S2"].sort_values(
        ["value", "parameter"], ascending=[False, True], kind="stable"
    )
    if not pairs.empty:
        top_pairs = pairs.head(TABLE_MAX_PAIRS)
        shown = [f"{fmt.number(v)} ± {fmt.number(c)}" for v, c in zip(top_pairs["value"], top_pairs["ci"])]
        table = pd.DataFrame({"pair": top_pairs["parameter"].map(str), "S2": shown})
        section.tables.append(page.Table("Largest interactions (Sobol S2)", table))
    section.figures += page.folder_figures(folder)
    return section


STUDY = Study(
    name=CLAIM["study"],
    title=CLAIM["title"],
    heading="Sensitivity analysis",
    arguments=add_sensitivity_command,
    run=sensitivity_command,
    section=report_section,
    tables={INDICES_CSV: COLUMNS},
)
