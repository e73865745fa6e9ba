"""Initialisation of firms and managers from the scenario (ODD section 5).

Every trait is drawn from the `firms` or `managers` stream keyed by the firm id or manager
position, so a firm's culture does not change when, say, the number of alliances does.
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms import learning, turnover
from sim.schema import Scenario
from sim.state import FUNCTION_TYPES, N_CULTURE_DIMS, FirmTable, ManagerTable

INIT_WEEK = -1  # the week index used for draws made before the first step


def function_types(scenario: Scenario, u: np.ndarray) -> np.ndarray:
    """Alliance function of each firm: one type for all, or by shares (u: one uniform per firm)."""
    spec = scenario.firms.alliance_function
    if isinstance(spec, str):
        return np.full(u.shape, FUNCTION_TYPES.index(spec), dtype=np.int8)
    names = list(spec)
    cdf = np.cumsum([spec[n] for n in names])
    pick = np.minimum(np.searchsorted(cdf, u * cdf[-1], side="right"), len(names) - 1)
    codes = np.array([FUNCTION_TYPES.index(n) for n in names], dtype=np.int8)
    return codes[pick]


def make_firms(scenario: Scenario, streams) -> FirmTable:
    fs = scenario.firms
    n = fs.count
    ids = np.arange(n)
    culture = np.empty((n, N_CULTURE_DIMS))
    for d in range(N_CULTURE_DIMS):
        culture[:, d] = 0.5 + fs.culture_dispersion * (streams.uniform("firms", ids, INIT_WEEK, d) - 0.5)

    def trait(dist, k):
        return np.clip(dist.mean + dist.sd * streams.normal("firms", ids, INIT_WEEK, k), 0.0, 1.0)

    propensity = trait(fs.opportunism_propensity, 11)
    propensity[streams.uniform("firms", ids, INIT_WEEK, 12) < fs.opportunistic_share] = 1.0
    ftype = function_types(scenario, streams.uniform("firms", ids, INIT_WEEK, 13))
    full = np.full(n, 1.0)
    return FirmTable(
        culture=culture,
        risk_tolerance=trait(fs.risk_tolerance, 10),
        function_type=ftype,
        incentives_formal=full * fs.incentives.formal,
        incentives_informal=full * fs.incentives.informal,
        leadership_consistency=full * fs.leadership_consistency,
        training=full * fs.training,
        hiring_for_collaboration=full * fs.hiring_for_collaboration,
        opportunism_propensity=propensity,
        experience_years=np.zeros(n),
        capability=learning.capability(np.zeros(n), ftype, scenario.coefficients.learning),
        active_alliances=np.zeros(n, dtype=np.int64),
    )


def make_managers(world) -> None:
    """Create every firm's manager positions and seat their first holders."""
    per = world.scenario.managers.per_firm
    m = world.firms.count * per
    world.managers = ManagerTable(
        firm=np.repeat(np.arange(world.firms.count), per),
        skill=np.zeros(m),
        emotional_intelligence=np.zeros(m),
        proactiveness=np.zeros(m),
        influence=np.zeros(m),
        seated_week=np.zeros(m, dtype=np.int64),
        departure_week=np.zeros(m, dtype=np.int64),
        holder=np.zeros(m, dtype=np.int64),
        load=np.zeros(m, dtype=np.int64),
    )
    turnover.seat(world, np.arange(m), INIT_WEEK)
