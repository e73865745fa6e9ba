"""Submodel contribution: how much each partner puts in this week, and whether it cheats.

Effort of a partner (in [0.05, 1]):

    base_effort
    + incentive_weight * incentive_index * leadership_consistency       (three prongs, multiplied)
    + trust_weight * (trust - trust_hurdle * (1 - risk_tolerance))      (trust leads to risk-taking)
    + influence_weight * manager influence * leadership_consistency     (internal alignment)

The incentive term is a product: incentives move effort only as far as leadership messages are
consistent with them (seed 002), so neither lever alone does much.

Opportunism: each partner-week, a partner acts opportunistically with chance

    temptation * (1 + horizontal_temptation * horizontal) * propensity * (0.5 + risk_tolerance)
    * (1 - trust) * (1 - incentive_index * consistency) * (1 - deterrence(review interval))

An opportunist withholds `withheld_effort` of its effort and captures `appropriation` of its
co-partners' value (submodel value). Each week of opportunism waits, undetected, for the next
review (submodel reviews), where it may be detected and becomes a betrayal.
"""

from __future__ import annotations

import numpy as np

from sim.state import NEGOTIATE


def incentive_index(formal, informal, formal_share: float):
    """Combined strength of formal and informal incentives, in [0, 1]."""
    return formal_share * np.asarray(formal) + (1.0 - formal_share) * np.asarray(informal)


def effort(incentives, consistency, trust, risk_tolerance, influence, coef) -> np.ndarray:
    """A partner's effort from its incentives, leadership, trust, risk tolerance and influence."""
    e = (
        coef.base_effort
        + coef.incentive_weight * incentives * consistency
        + coef.trust_weight * (trust - coef.trust_hurdle * (1.0 - risk_tolerance))
        + coef.influence_weight * influence * consistency
    )
    return np.clip(e, 0.05, 1.0)


def deterrence_factor(review_interval_weeks: int, coef) -> float:
    """How much opportunism remains given how often reviews look (1 = no deterrence)."""
    return 1.0 - coef.deterrence * np.exp(-(review_interval_weeks - 1) / coef.deterrence_horizon_weeks)


def opportunism_probability(
    horizontal, propensity, risk_tolerance, trust, incentives, consistency, deterrence: float, coef
) -> np.ndarray:
    """Weekly chance that a partner exploits its co-partners."""
    p = (
        coef.temptation
        * (1.0 + coef.horizontal_temptation * horizontal)
        * propensity
        * (0.5 + risk_tolerance)
        * (1.0 - trust)
        * (1.0 - incentives * consistency)
        * deterrence
    )
    return np.clip(p, 0.0, 1.0)


def apply(world) -> None:
    """Set this week's effort and opportunism of every partner in alliances past negotiation."""
    al, c, n = world.alliances, world.coef.contribution, world.n
    if n == 0:
        return
    working = (al.phase[:n] != NEGOTIATE)[:, None] & al.member[:n]
    if not working.any():
        return
    inc, cons, risk, trust = al.incentives[:n], al.consistency[:n], al.risk_tolerance[:n], al.trust_org[:n]
    e = effort(inc, cons, trust, risk, world.team.influence, c)
    horizontal = (al.kind[:n] == 1)[:, None].astype(np.float64)
    deterrence = deterrence_factor(world.scenario.governance.review_interval_weeks, c)
    p = opportunism_probability(horizontal, al.propensity[:n], risk, trust, inc, cons, deterrence, c)
    cheat = (world.streams.uniform("contribution", world.slot_ids(), world.week) < p) & working
    e = np.where(cheat, e * (1.0 - c.withheld_effort), e)
    al.effort[:n] = np.where(working, e, al.effort[:n])
    al.opportunistic[:n] = cheat
    al.undetected_weeks[:n] += cheat
