"""Latin hypercube design (scipy.stats.qmc.LatinHypercube), scaled to the factors' bounds."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import qmc

from experiments.engine.spec import DesignSpec


def sample(problem: dict[str, Any], design: DesignSpec, seed: int) -> np.ndarray:
    """`design.samples` points, one per row, in problem space; every factor's range is cut into
    that many equal strata and each stratum holds exactly one point."""
    sampler = qmc.LatinHypercube(d=problem["num_vars"], rng=np.random.default_rng(seed))
    unit = sampler.random(design.samples)
    bounds = np.asarray(problem["bounds"], dtype=float)
    return qmc.scale(unit, bounds[:, 0], bounds[:, 1])
