"""Experiment designs: which design points an experiment runs, one module per kind.

    grid    every combination of the factors' levels (full factorial)
    points  the points as listed: point i takes level i of every factor
    lhs     a Latin hypercube (scipy.stats.qmc.LatinHypercube)
    sobol   Saltelli's sampling scheme for Sobol indices (SALib.sample.sobol)
    morris  Morris's elementary-effects trajectories (SALib.sample.morris)

Each sampled design draws a matrix in the *problem space* SALib's analysers work in: a factor
with `range: [low, high]` takes values in [low, high] (rounded when the scenario value is an
integer), and a factor with `levels` (k of them) takes a coordinate in [0, k) mapped to level
floor(x). `sample_design` returns the points as a DataFrame (`point_id`, one column per factor,
and `u:<factor>` columns with the raw coordinates for sampled designs), in the sampler's order,
which is the order SALib's analysers expect their outputs in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from experiments.engine.designs import grid, lhs, morris, points, sobol
from experiments.engine.errors import SpecError

#: Design name -> its module (NAME, LISTED, sample). A new design is one module here, listed below.
DESIGNS = {module.NAME: module for module in (grid, points, lhs, sobol, morris)}
DESIGN_KINDS = tuple(DESIGNS)
LISTED = tuple(name for name, module in DESIGNS.items() if module.LISTED)
#: Sampled design name -> its sampler (the old name of DESIGNS' sampled part).
SAMPLERS = {name: module.sample for name, module in DESIGNS.items() if not module.LISTED}

#: Mixed into the experiment seed for the design's own randomness, so that it never coincides
#: with a replication's seed (those are children of SeedSequence(seed)).
DESIGN_SEED_TAG = 0xDE5160


def sample_design(spec: Any, base_values: Mapping[str, Any]) -> pd.DataFrame:
    """The design points of `spec`; `base_values` maps each factor to its base scenario value."""
    factors = spec.factors
    design = DESIGNS[spec.design.kind]
    if design.LISTED:
        values = design.sample(factors)
        frame = pd.DataFrame(values, columns=list(factors))
    else:
        problem = salib_problem(factors, base_values)
        seed = design_seed(spec.seed)
        matrix = design.sample(problem, spec.design, seed)
        frame = pd.DataFrame(
            {
                name: to_values(matrix[:, j], factors[name], base_values[name])
                for j, name in enumerate(factors)
            }
        )
        for j, name in enumerate(factors):
            frame[f"u:{name}"] = matrix[:, j]
    frame.insert(0, "point_id", np.arange(len(frame), dtype=np.int64))
    return frame


def design_seed(seed: int) -> int:
    """A 32-bit seed for the samplers, derived from the experiment seed."""
    return int(np.random.SeedSequence([seed, DESIGN_SEED_TAG]).generate_state(1)[0])


def salib_problem(factors: Mapping[str, Any], base_values: Mapping[str, Any]) -> dict[str, Any]:
    """The SALib problem dict: names and bounds in problem space."""
    bounds = []
    for name, factor in factors.items():
        if factor.range is not None:
            base = base_values[name]
            if isinstance(base, bool) or not isinstance(base, (int, float)):
                raise SpecError(
                    f"factors: {name} is a {type(base).__name__} in the scenario, "
                    "so it needs levels, not a range"
                )
            bounds.append([float(factor.range[0]), float(factor.range[1])])
        else:
            bounds.append([0.0, float(len(factor.levels))])
    return {"num_vars": len(factors), "names": list(factors), "bounds": bounds}


def to_values(column: np.ndarray, factor: Any, base: Any) -> list[Any]:
    """Problem-space coordinates of one factor as the values its scenario field takes."""
    if factor.levels is not None:
        index = np.clip(np.floor(column).astype(np.int64), 0, len(factor.levels) - 1)
        return [factor.levels[i] for i in index]
    if isinstance(base, int):
        return [int(v) for v in np.rint(column)]
    return [float(v) for v in column]
