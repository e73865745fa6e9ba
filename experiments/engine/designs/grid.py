"""Full factorial design: every combination of the factors' levels, the first factor slowest."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from experiments.engine.spec import FactorSpec


def sample(factors: Mapping[str, FactorSpec]) -> list[tuple[Any, ...]]:
    """One tuple of values per design point, in lexicographic order of the levels as listed."""
    return list(itertools.product(*(factor.levels for factor in factors.values())))
