"""Listed design: the points one by one, point i taking level i of every factor.

For a set of named arms (a baseline and its variants, a validation's scenarios) rather than a
combination of levels; a factor's levels may repeat.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from experiments.engine.spec import FactorSpec


def sample(factors: Mapping[str, FactorSpec]) -> list[tuple[Any, ...]]:
    """One tuple of values per design point: the i-th level of every factor."""
    return list(zip(*(factor.levels for factor in factors.values()), strict=True))
