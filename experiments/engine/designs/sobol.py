"""Saltelli's design for Sobol sensitivity indices (SALib.sample.sobol).

With N = `design.samples` base points and k factors it gives N * (2k + 2) points when second-order
indices are wanted, N * (k + 2) otherwise, in the order SALib.analyze.sobol expects.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from SALib.sample import sobol as salib_sobol

NAME = "sobol"
#: Whether the points are the levels as listed (no sampler, no samples).
LISTED = False


def sample(problem: dict[str, Any], design: Any, seed: int) -> np.ndarray:
    """The Saltelli matrix in problem space (scrambled Sobol' sequence seeded by `seed`)."""
    return salib_sobol.sample(problem, design.samples, calc_second_order=design.second_order, seed=seed)
