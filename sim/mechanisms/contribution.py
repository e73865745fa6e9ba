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

from sim.compiled import formula, kernel
from sim.randomness import uniform_at
from sim.state import NEGOTIATE
from sim.world import slot_entity


def incentive_index(formal, informal, formal_share: float):
    """Combined strength of formal and informal incentives, in [0, 1]."""
    return formal_share * np.asarray(formal) + (1.0 - formal_share) * np.asarray(informal)


@formula
def effort(incentives, consistency, trust, risk_tolerance, influence, coef):
    """A partner's effort from its incentives, leadership, trust, risk tolerance and influence."""
    e = (
        coef.base_effort
        + coef.incentive_weight * incentives * consistency
        + coef.trust_weight * (trust - coef.trust_hurdle * (1.0 - risk_tolerance))
        + coef.influence_weight * influence * consistency
    )
    return np.minimum(np.maximum(e, 0.05), 1.0)


def deterrence_factor(review_interval_weeks: int, coef) -> float:
    """How much opportunism remains given how often reviews look (1 = no deterrence)."""
    return 1.0 - coef.deterrence * np.exp(-(review_interval_weeks - 1) / coef.deterrence_horizon_weeks)


@formula
def opportunism_probability(
    horizontal, propensity, risk_tolerance, trust, incentives, consistency, deterrence, coef
):
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
    return np.minimum(np.maximum(p, 0.0), 1.0)


def apply(world) -> None:
    """Set this week's effort and opportunism of every partner in alliances past negotiation."""
    al, n = world.alliances, world.n
    if n == 0:
        return
    c = world.const.contribution
    interval = world.scenario.governance.review_interval_weeks
    deterrence = float(deterrence_factor(interval, world.coef.contribution))
    _weekly(
        n=n, week=world.week, key=world.streams.key("contribution"), alliance_id=al.alliance_id,
        phase=al.phase, kind=al.kind, member=al.member, manager=al.manager,
        influence=world.managers.influence, incentives=al.incentives, consistency=al.consistency,
        risk_tolerance=al.risk_tolerance, propensity=al.propensity, trust_org=al.trust_org,
        effort_col=al.effort, opportunistic=al.opportunistic, undetected_weeks=al.undetected_weeks,
        deterrence=deterrence, c=c,
    )  # fmt: skip


@kernel
def _weekly(
    n, week, key, alliance_id, phase, kind, member, manager, influence, incentives, consistency,
    risk_tolerance, propensity, trust_org, effort_col, opportunistic, undetected_weeks, deterrence, c,
):  # fmt: skip
    c = c[0]
    slots = member.shape[1]
    for r in range(n):
        past_negotiation = phase[r] != NEGOTIATE
        horizontal = 1.0 if kind[r] == 1 else 0.0
        for k in range(slots):
            if not (past_negotiation and member[r, k]):
                opportunistic[r, k] = False
                continue
            inc, cons, tr, rt = incentives[r, k], consistency[r, k], trust_org[r, k], risk_tolerance[r, k]
            e = effort(inc, cons, tr, rt, influence[manager[r, k]], c)
            p = opportunism_probability(horizontal, propensity[r, k], rt, tr, inc, cons, deterrence, c)
            cheat = uniform_at(key, slot_entity(alliance_id[r], k), week, 0) < p
            if cheat:
                e = e * (1.0 - c.withheld_effort)
                undetected_weeks[r, k] += 1
            effort_col[r, k] = e
            opportunistic[r, k] = cheat
