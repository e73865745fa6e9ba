"""Morris's elementary-effects design (SALib.sample.morris): `design.samples` trajectories of
k + 1 points on a grid of `design.morris_levels` levels, in the order SALib.analyze.morris expects."""

from __future__ import annotations

from typing import Any

import numpy as np
from SALib.sample import morris as salib_morris

NAME = "morris"
#: Whether the points are the levels as listed (no sampler, no samples).
LISTED = False


def sample(problem: dict[str, Any], design: Any, seed: int) -> np.ndarray:
    """The trajectories stacked into one matrix in problem space."""
    return salib_morris.sample(problem, design.samples, num_levels=design.morris_levels, seed=seed)
