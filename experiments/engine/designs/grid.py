"""Full factorial design: every combination of the factors' levels, the first factor slowest."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

NAME = "grid"
#: Whether the points are the levels as listed (no sampler, no samples).
LISTED = True


def sample(factors: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """One tuple of values per design point, in lexicographic order of the levels as listed."""
    return list(itertools.product(*(factor.levels for factor in factors.values())))
