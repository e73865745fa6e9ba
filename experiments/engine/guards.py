"""Size guards for experiments: refuse, before anything is built, a design or a count that cannot fit.

* `design_points(spec)` counts an experiment's design points from the spec alone (a grid of 35
  two-level factors has 2^35 points; nothing is enumerated to find out).
* `check_experiment_fits(spec)` estimates the memory the resolved experiment and its bookkeeping
  need (one validated scenario per design point, a few hundred bytes per run) and raises
  `SpecError` with the estimate and the machine's memory when it would not fit.
* `check_count(option, value, model, field)` bounds a command-line count (`--replications`,
  `--samples`, `--max-evaluations`) like the spec field it replaces.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel

from experiments.engine.errors import SpecError
from sim.guards import gib, memory_limit

#: Memory one design point takes in a resolved experiment (its validated Scenario, about 26 KB
#: measured, and its row of the points table).
BYTES_PER_POINT = 32 * 1024
#: Memory one run takes in the sweep's bookkeeping (its id in the done set, its row of the runs
#: table read at the end).
BYTES_PER_RUN = 1024


def design_points(spec: Any) -> int:
    """Number of design points of an ExperimentSpec, computed without enumerating them."""
    design = spec.design
    k = len(spec.factors)
    if design.kind == "grid":
        return math.prod(len(factor.levels) for factor in spec.factors.values())
    if design.kind == "points":
        return len(next(iter(spec.factors.values())).levels)
    if design.kind == "lhs":
        return design.samples
    if design.kind == "sobol":
        return design.samples * (2 * k + 2 if design.second_order else k + 2)
    return design.samples * (k + 1)  # morris


def check_experiment_fits(spec: Any, limit: int | None = None) -> None:
    """SpecError if the experiment's design points and runs would not fit in memory."""
    points = design_points(spec)
    runs = points * spec.replications
    needed = points * BYTES_PER_POINT + runs * BYTES_PER_RUN
    limit = memory_limit() if limit is None else limit
    if limit is not None and needed > limit:
        raise SpecError(
            f"the experiment has {points:,} design points ({spec.design.kind} design) and {runs:,} runs, "
            f"which need about {gib(needed)} of memory, more than this machine allows ({gib(limit)}); "
            "use fewer factors, levels or samples, or fewer replications"
        )


def field_bounds(model: type[BaseModel], field: str) -> tuple[Any, Any]:
    """(lowest, highest) allowed value of an integer field of a pydantic model (None if unbounded)."""
    low = high = None
    for meta in model.model_fields[field].metadata:
        low = getattr(meta, "ge", None) if getattr(meta, "ge", None) is not None else low
        high = getattr(meta, "le", None) if getattr(meta, "le", None) is not None else high
    return low, high


def check_count(option: str, value: Any, model: type[BaseModel], field: str, error: type[Exception]) -> None:
    """`error` if the command-line count `value` (None: not given) is outside `model.field`'s bounds."""
    if value is None:
        return
    low, high = field_bounds(model, field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(f"{option} must be an integer, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        allowed = (
            f"from {low:,} to {high:,}"
            if low is not None and high is not None
            else (f"at least {low:,}" if low is not None else f"at most {high:,}")
        )
        raise error(f"{option} must be an integer {allowed} (like the spec's {field}), got {value:,}")
