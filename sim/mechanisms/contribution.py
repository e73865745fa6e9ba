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


def apply(world, ids: np.ndarray) -> None:
    """Set this week's effort and opportunism of every partner in the working alliances."""
    if ids.size == 0:
        return
    al, c, f = world.alliances, world.coef.contribution, world.firms
    member = al.member[ids]
    inc = incentive_index(
        world.slot_trait(ids, f.incentives_formal, "firm"),
        world.slot_trait(ids, f.incentives_informal, "firm"),
        c.formal_share,
    )
    cons = world.slot_trait(ids, f.leadership_consistency, "firm")
    risk = world.slot_trait(ids, f.risk_tolerance, "firm")
    trust = al.trust_org[ids]
    e = effort(inc, cons, trust, risk, world.slot_trait(ids, world.managers.influence), c)

    horizontal = (al.kind[ids] == 1)[:, None].astype(float)
    p = opportunism_probability(
        horizontal,
        world.slot_trait(ids, f.opportunism_propensity, "firm"),
        risk,
        trust,
        inc,
        cons,
        deterrence_factor(world.scenario.governance.review_interval_weeks, c),
        c,
    )
    slots = ids[:, None] * al.max_partners + np.arange(al.max_partners)[None, :]
    cheat = world.streams.bernoulli("contribution", slots, world.week, p) & member
    e = np.where(cheat, e * (1.0 - c.withheld_effort), e)
    al.effort[ids] = np.where(member, e, 0.0)
    al.opportunistic[ids] = cheat
    al.undetected_weeks[ids] += cheat
