"""Listed design: the points one by one, point i taking level i of every factor.

For a set of named arms (a baseline and its variants, a validation's scenarios) rather than a
combination of levels; a factor's levels may repeat.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NAME = "points"
#: Whether the points are the levels as listed (no sampler, no samples).
LISTED = True


def sample(factors: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """One tuple of values per design point: the i-th level of every factor."""
    return list(zip(*(factor.levels for factor in factors.values()), strict=True))
