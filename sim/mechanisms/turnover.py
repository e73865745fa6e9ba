"""Submodel turnover: alliance managers leave and are replaced.

Each manager position loses its holder in a given week with chance
h = 1 - (1 - turnover_per_year) ** (1 / 52); equivalently, when a holder is seated, the length of
their stay is drawn once, geometric with weekly hazard h. The firm fills the seat at once; the
newcomer's traits are drawn afresh (see `new_manager_traits`), raised by the firm's collaboration training and
hiring and, if the firm has one, by coaching from its alliance function.

In every alliance the position runs, the relationship partly restarts: the interpersonal trust
between the new manager and the counterparts falls to

    min(old trust, replacement_trust + handover * (old trust - replacement_trust))

and familiarity loses `familiarity_loss * (1 - handover)` of itself, where `handover` depends on
the firm's alliance function (centres of excellence and communities of practice hand over most).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from sim.state import FUNCTION_TYPES

NEVER = 1 << 40


def weekly_hazard(turnover_per_year: float) -> float:
    return 1.0 - (1.0 - turnover_per_year) ** (1.0 / 52.0)


def handover_share(function_type: np.ndarray, coef) -> np.ndarray:
    table = np.array([getattr(coef, f"handover_{name}") for name in FUNCTION_TYPES])
    return table[function_type]


def restarted_trust(old: np.ndarray, handover: np.ndarray, replacement: float) -> np.ndarray:
    """Trust in a relationship after a manager change: never higher than before."""
    return np.minimum(old, replacement + handover * (old - replacement))


def new_manager_traits(world, positions: np.ndarray, week: int) -> dict[str, np.ndarray]:
    """Traits of the holders who take `positions` in `week` (week -1: the first holders)."""
    sc, tc = world.scenario, world.coef.turnover
    firm = world.managers.firm[positions]
    f = world.firms
    training = f.training[firm]
    hiring = f.hiring_for_collaboration[firm]
    has_function = (f.function_type[firm] > 0).astype(float)
    z = ndtri(
        np.clip(world.streams.uniform_block("managers", positions, week, (0, 1, 2, 3)), 1e-16, 1 - 1e-16)
    )

    def draw(dist, k, boost):
        return np.clip(dist.mean + dist.sd * z[k] + boost, 0.0, 1.0)

    m = sc.managers
    return {
        "skill": draw(
            m.skill,
            0,
            tc.training_skill_gain * training
            + tc.hiring_skill_gain * hiring
            + tc.function_skill_gain * has_function,
        ),
        "emotional_intelligence": draw(m.emotional_intelligence, 1, tc.hiring_skill_gain * hiring),
        "proactiveness": draw(m.proactiveness, 2, 0.0),
        "influence": draw(m.influence, 3, 0.0),
    }


def tenure_from_uniform(u: np.ndarray, hazard: float) -> np.ndarray:
    """Weeks a holder stays (>= 1): geometric with the weekly hazard; 'never' (2**40) if it is 0."""
    if hazard <= 0:
        return np.full(u.shape, NEVER, dtype=np.int64)
    if hazard >= 1:
        return np.ones(u.shape, dtype=np.int64)
    return 1 + np.floor(np.log1p(-u) / np.log1p(-hazard)).astype(np.int64)


def seat(world, positions: np.ndarray, week: int) -> None:
    """Put new holders in `positions` in `week` and draw when each will leave.

    The length of stay is drawn from the `turnover` stream keyed by position and the holder's
    number, so the departures are the same in every scenario with the same turnover rate.
    """
    mgr = world.managers
    for name, values in new_manager_traits(world, positions, week).items():
        getattr(mgr, name)[positions] = values
    mgr.seated_week[positions] = week
    hazard = weekly_hazard(world.scenario.managers.turnover_per_year)
    u = world.streams.pair_uniform("turnover", positions, mgr.holder[positions])
    mgr.departure_week[positions] = max(week, 0) + tenure_from_uniform(u, hazard)


def apply(world) -> np.ndarray:
    """Managers whose time has come leave; seat replacements and restart relationships.

    Returns the positions that changed hands this week.
    """
    mgr, al, c, week = world.managers, world.alliances, world.coef.turnover, world.week
    leaving = np.flatnonzero(mgr.departure_week == week)
    if leaving.size == 0:
        return leaving
    mgr.holder[leaving] += 1
    seat(world, leaving, week)

    # relationships the leavers ran: running alliance slots held by those positions
    n = world.n
    left = np.zeros(mgr.count, dtype=bool)
    left[leaving] = True
    rows, cols = np.nonzero(left[al.manager[:n]] & al.member[:n])
    if rows.size == 0:
        return leaving
    firm = al.firm[rows, cols]
    handover = handover_share(world.firms.function_type[firm], c)
    old = al.trust_ip[rows, cols]
    new = np.minimum(restarted_trust(old, handover, c.replacement_trust), al.trust_ceiling[rows, cols])
    al.trust_ip[rows, cols] = new
    # counterparts' trust in the newcomer restarts too (shared among their counterparts)
    n_other = np.maximum(al.n_partners[rows].astype(float) - 1.0, 1.0)
    for k in range(al.max_partners):
        other = al.member[rows, k] & (k != cols)
        if other.any():
            r = rows[other]
            cur = al.trust_ip[r, k]
            target = restarted_trust(cur, handover[other], c.replacement_trust)
            al.trust_ip[r, k] = np.clip(cur + (target - cur) / n_other[other], 0.0, al.trust_ceiling[r, k])
    np.multiply.at(al.familiarity, rows, 1.0 - c.familiarity_loss * (1.0 - handover))
    np.add.at(al.manager_changes, rows, 1)
    world.events.log(week, world.ids(rows), "manager_left", slot=cols, value=new)
    return leaving
