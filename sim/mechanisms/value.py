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

from sim.compiled import formula, kernel
from sim.mechanisms.friction import rigidity_penalty
from sim.state import INVEST, OPERATE, RESTRUCTURE, slot_sum


@formula
def coordination(mean_trust, open_issues, rigidity, coef, mean_capability=0.0):
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
    """Geometric mean of the used slots' effort (alliances x slots -> alliances)."""
    if member.shape[1] == 2:  # two slots: both partners present
        return np.sqrt(effort[:, 0] * effort[:, 1])
    logs = np.log(np.maximum(effort, 1e-9)) * member
    return np.exp(slot_sum(logs) / np.maximum(slot_sum(member), 1))


@formula
def joint_value(complementarity, gm_effort, coord, coef):
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
    al, n = world.alliances, world.n
    if n == 0:
        return
    c = world.const.value
    rigidity = rigidity_penalty(
        world.scenario.governance.role_clarity, world.coef.friction.rigidity_value_cost
    )
    _weekly(
        n=n, phase=al.phase, member=al.member, effort=al.effort, trust_org=al.trust_org, firm=al.firm,
        capability=world.firms.capability, complementarity=al.complementarity, open_issues=al.open_issues,
        opportunistic=al.opportunistic, realized=al.realized, realized_operating=al.realized_operating,
        rigidity=float(rigidity), appropriation=world.coef.contribution.appropriation, c=c,
    )  # fmt: skip


@kernel
def _weekly(
    n, phase, member, effort, trust_org, firm, capability, complementarity, open_issues, opportunistic,
    realized, realized_operating, rigidity, appropriation, c,
):  # fmt: skip
    c = c[0]
    slots = member.shape[1]
    for r in range(n):
        if phase[r] == INVEST:
            for k in range(slots):
                if member[r, k]:
                    realized[r, k] -= c.invest_cost_per_week * effort[r, k]
            continue
        if phase[r] == OPERATE:
            factor = 1.0
        elif phase[r] == RESTRUCTURE:
            factor = c.restructure_value_factor
        else:
            continue  # no value in the other phases
        # one pass over the used slots: trust, capability and log effort summed, cheats counted
        trust_sum = 0.0
        capability_sum = 0.0
        log_effort_sum = 0.0
        used = 0
        cheats = 0
        for k in range(slots):
            if member[r, k]:
                used += 1
                trust_sum += trust_org[r, k]
                capability_sum += capability[firm[r, k]]
                if slots != 2:
                    log_effort_sum += np.log(np.maximum(effort[r, k], 1e-9))
                if opportunistic[r, k]:
                    cheats += 1
        per = max(used, 1)
        coord = coordination(trust_sum / per, open_issues[r], rigidity, c, capability_sum / per)
        if slots == 2:  # as geometric_mean_effort: both partners present
            gm_effort = np.sqrt(effort[r, 0] * effort[r, 1])
        else:
            gm_effort = np.exp(log_effort_sum / per)
        v = joint_value(complementarity[r], gm_effort, coord, c) * factor
        # as shares: an equal split, less what cheats take from each honest partner
        equal = v / per
        taken = appropriation * equal
        pool = 0.0
        if cheats > 0:
            for _ in range(used - cheats):
                pool += taken
        gain = pool / max(cheats, 1)
        for k in range(slots):
            if member[r, k]:
                if cheats == 0:
                    s = equal
                elif opportunistic[r, k]:
                    s = equal + gain
                else:
                    s = equal - taken
                realized[r, k] += s
                realized_operating[r, k] += s
