"""Shared small fixtures for the mechanism and randomness tests.

* `small_scenario(**overrides)` - a validated, small `Scenario` (60 alliances, 90 firms, 200 weeks)
  with Mesa-style double-underscore overrides on top.
* `run_small(seed, **overrides)` - run `AllianceModel` on that small scenario and return the
  finished model. Runs are cached for the whole session (keyed by seed and overrides), so two
  tests that need the same arm on the same seed share one run. Treat the returned model as
  read-only.
* `coefficients` - a fresh `Coefficients` object with the current defaults, to be changed with
  `model_copy(update=...)` by tests that need explicit values.
"""

from __future__ import annotations

import pytest

from sim import AllianceModel, Scenario, build_scenario
from sim.scenario import kwargs_to_overrides
from sim.schema import Coefficients

SMALL = {
    "formation__n_alliances": 60,
    "firms__count": 90,
    "simulation__horizon_weeks": 200,
}


def _freeze(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


_RUNS: dict = {}


def run_small_model(seed: int, **overrides) -> AllianceModel:
    """Run the small scenario with `overrides` on `seed` (cached per session)."""
    kwargs = {**SMALL, **overrides}
    key = (seed, _freeze(kwargs))
    if key not in _RUNS:
        _RUNS[key] = AllianceModel(rng=seed, **kwargs).run()
    return _RUNS[key]


@pytest.fixture
def small_scenario():
    """Factory: a small validated Scenario with double-underscore overrides applied."""

    def make(**overrides) -> Scenario:
        return build_scenario(None, kwargs_to_overrides({**SMALL, **overrides}))

    return make


@pytest.fixture
def run_small():
    """Factory: run (or fetch from the session cache) the small model for a seed and overrides."""
    return run_small_model


@pytest.fixture
def coefficients() -> Coefficients:
    """Fresh default coefficients; change them with `model_copy(update={...})`."""
    return Coefficients()
