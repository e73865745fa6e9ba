"""Arms experiments: a baseline and named variants of it, one design point each, on common random numbers.

`arms_experiment(name, base, {"baseline": {}, "alternative": {...}}, replications=..., seed=...)`
builds the engine's experiment for a set of named arms (a `points` design: point i is arm i, the
first arm the reference). The comparison, the stress test, the validation and every calibration
evaluation are arms experiments.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from experiments.engine.spec import (
    ExperimentSpec,
    FactorSpec,
    KeepSpec,
    ResolvedExperiment,
    base_scenario,
    resolve_spec,
    value_at,
)
from sim import Scenario


def arms_experiment(
    name: str,
    base: Scenario | Mapping | str | Path,
    arms: Mapping[str, Mapping[str, Any]],
    *,
    replications: int,
    seed: int,
    overrides: Mapping[str, Any] | None = None,
    keep: KeepSpec | None = None,
) -> ResolvedExperiment:
    """A `points` experiment with one design point per arm, in the order given (point i is arm i),
    on common random numbers, the first arm as the reference. An arm lists the scenario values
    it changes; the others keep the base scenario's (with `overrides` applied)."""
    keep = keep or KeepSpec(outcomes=True, timeseries_every_weeks=0, events=False)
    probe = ExperimentSpec(name=name, scenario="-", factors={"name": FactorSpec(levels=["x"])}, keep=keep)
    base_values = base_scenario(base, dict(overrides or {}), probe).model_dump(mode="python")
    paths = list(dict.fromkeys(path for arm in arms.values() for path in arm))
    if not paths:
        paths = ["governance.meeting_interval_weeks"]  # one factor is needed; it stays at its base value
    factors = {
        path: FactorSpec(levels=[arm.get(path, value_at(base_values, path)) for arm in arms.values()])
        for path in paths
    }
    first = next(iter(arms.values()))
    spec = ExperimentSpec(
        name=name,
        scenario="-",
        factors=factors,
        design={"kind": "points"},
        replications=replications,
        seed=seed,
        common_random_numbers=True,
        reference={path: first.get(path, value_at(base_values, path)) for path in paths},
        keep=keep,
    )
    experiment = resolve_spec(spec, base, scenario_overrides=overrides)
    return experiment
