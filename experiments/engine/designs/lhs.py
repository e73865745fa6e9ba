"""Latin hypercube design (scipy.stats.qmc.LatinHypercube), scaled to the factors' bounds."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import qmc

NAME = "lhs"
#: Whether the points are the levels as listed (no sampler, no samples).
LISTED = False


def sample(problem: dict[str, Any], design: Any, seed: int) -> np.ndarray:
    """`design.samples` points, one per row, in problem space; every factor's range is cut into
    that many equal strata and each stratum holds exactly one point."""
    sampler = qmc.LatinHypercube(d=problem["num_vars"], rng=np.random.default_rng(seed))
    unit = sampler.random(design.samples)
    bounds = np.asarray(problem["bounds"], dtype=float)
    return qmc.scale(unit, bounds[:, 0], bounds[:, 1])
