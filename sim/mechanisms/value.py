"""Submodel value: the joint value an alliance creates each week and how it is shared.

While operating, an alliance creates

    V = value_scale * complementarity * geometric_mean(effort) * coordination

where coordination = min(1, (coordination_base + coordination_trust * mean trust
                              + coordination_capability * mean alliance capability)
                             * exp(-backlog_drag * open issues) * rigidity_penalty(role clarity)).

The geometric mean makes every partner's effort matter: one partner coasting drags the whole
alliance down. V is split equally; an opportunistic partner also captures `appropriation` of each
honest co-partner's share. While restructuring the alliance creates `restructure_value_factor` of V.
In the invest phase there is no value yet: each partner pays `invest_cost_per_week * effort`.

Expectations are set at formation from the complementarity the parents *perceive*, an assumed
effort and coordination (`expected_rate`), so alliances formed top-down without a strategic
insight (whose actual complementarity is lower) tend to fall short.
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms.friction import rigidity_penalty
from sim.state import INVEST, OPERATE, RESTRUCTURE, slot_sum


def coordination(mean_trust, open_issues, rigidity: float, coef, mean_capability=0.0) -> np.ndarray:
    """Coordination quality in [0, 1] (1 is perfect): trust, capability, backlog and role rigidity."""
    return np.minimum(
        1.0,
        (
            coef.coordination_base
            + coef.coordination_trust * mean_trust
            + coef.coordination_capability * mean_capability
        )
        * np.exp(-coef.backlog_drag * open_issues)
        * rigidity,
    )


def geometric_mean_effort(effort: np.ndarray, member: np.ndarray) -> np.ndarray:
    if member.shape[1] == 2:  # two slots: both partners present
        return np.sqrt(effort[:, 0] * effort[:, 1])
    logs = np.log(np.maximum(effort, 1e-9)) * member
    return np.exp(slot_sum(logs) / np.maximum(slot_sum(member), 1))


def joint_value(complementarity, gm_effort, coord, coef) -> np.ndarray:
    return coef.value_scale * complementarity * gm_effort * coord


def shares(
    value: np.ndarray, member: np.ndarray, opportunistic: np.ndarray, appropriation: float
) -> np.ndarray:
    """Each partner's share of the joint value (alliances x slots); shares add up to the value."""
    n = np.maximum(slot_sum(member), 1)
    equal = (value / n)[:, None] * member
    cheats = member & opportunistic
    if not cheats.any():
        return equal
    honest = member & ~opportunistic
    n_cheats = slot_sum(cheats)
    taken = np.where(honest & (n_cheats > 0)[:, None], appropriation * equal, 0.0)
    pool = slot_sum(taken)
    gain = np.where(cheats, (pool / np.maximum(n_cheats, 1))[:, None], 0.0)
    return equal - taken + gain


def expected_rate(perceived_complementarity, n_partners, coef) -> np.ndarray:
    """Value per operating week each partner expects at formation."""
    return (
        coef.value_scale
        * perceived_complementarity
        * coef.expectation_effort
        * coef.expectation_coordination
        / np.maximum(n_partners, 1)
    )


def apply(world) -> None:
    """Create and share this week's value; charge investment in the invest phase."""
    al, c, gov, n = world.alliances, world.coef.value, world.scenario.governance, world.n
    if n == 0:
        return
    phase = al.phase[:n]
    member = al.member[:n]
    investing = phase == INVEST
    if investing.any():
        al.realized[:n] -= (c.invest_cost_per_week * investing)[:, None] * al.effort[:n] * member

    operating, restructuring = phase == OPERATE, phase == RESTRUCTURE
    if not (operating.any() or restructuring.any()):
        return
    coord = coordination(
        al.slot_mean(al.trust_org[:n], member),
        al.open_issues[:n],
        rigidity_penalty(gov.role_clarity, world.coef.friction.rigidity_value_cost),
        c,
        al.slot_mean(world.team.capability, member),
    )
    v = joint_value(al.complementarity[:n], geometric_mean_effort(al.effort[:n], member), coord, c)
    v *= operating + c.restructure_value_factor * restructuring  # 0 in the other phases
    s = shares(v, member, al.opportunistic[:n], world.coef.contribution.appropriation)
    al.realized[:n] += s
    al.realized_operating[:n] += s
