"""Submodel value: the joint value an alliance creates each week and how it is shared.

While operating, an alliance creates

    V = value_scale * complementarity * potential * geometric_mean(effort)^effort_elasticity * coordination

where coordination = min(1, (coordination_base + coordination_trust * mean trust
                              + coordination_capability * mean alliance capability)
                             * exp(-backlog_drag * open issues) * rigidity_penalty(role clarity)).

The geometric mean makes every partner's effort matter: one partner coasting drags the whole
alliance down. V is split equally; an opportunistic partner also captures `appropriation` of each
honest co-partner's share. While restructuring the alliance creates `restructure_value_factor` of V.
In the invest phase there is no value yet: each partner pays `invest_cost_per_week * effort`;
while the alliance runs (operate, restructure) each pays `effort_cost_per_week * effort`. Out of
its share each partner pays its formal incentives, `costs.formal_incentive_payout * formal` of a
positive share, counted as governance cost (submodel costs).

`potential` is the alliance's luck: what its market, technology and fit allow, drawn once at
formation (lognormal, mean 1, `potential_sd`) and known to nobody when expectations are set, so
realised value spreads around expected value whatever the governance.

Expectations are set at formation from the complementarity the parents *perceive*, an assumed
effort and coordination (`expected_rate`), less the investment and the running effort at that
assumed effort, so alliances formed top-down without a strategic insight (whose actual
complementarity is lower by a drawn share) tend to fall short.
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
    """Value per week from fit, effort (with diminishing returns, `effort_elasticity`) and coordination."""
    return coef.value_scale * complementarity * np.power(gm_effort, coef.effort_elasticity) * coord


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
        * np.power(coef.expectation_effort, coef.effort_elasticity)
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
        n=n,
        phase=al.phase,
        member=al.member,
        effort=al.effort,
        trust_org=al.trust_org,
        firm=al.firm,
        capability=world.firms.capability,
        complementarity=al.complementarity,
        potential=al.potential,
        open_issues=al.open_issues,
        opportunistic=al.opportunistic,
        incentives_formal=world.firms.incentives_formal,
        realized=al.realized,
        realized_operating=al.realized_operating,
        governance_cost=al.governance_cost,
        other_cost=al.other_cost,
        value_created=al.value_created,
        rigidity=float(rigidity),
        appropriation=world.coef.contribution.appropriation,
        formal_payout=world.coef.costs.formal_incentive_payout,
        c=c,
    )


@formula
def incentive_payout(share, formal, payout):
    """Formal incentives paid out of a partner's share of this week's value (none out of a loss)."""
    return payout * formal * np.maximum(share, 0.0)


@kernel
def _weekly(
    n, phase, member, effort, trust_org, firm, capability, complementarity, potential, open_issues,
    opportunistic, incentives_formal, realized, realized_operating, governance_cost, other_cost,
    value_created, rigidity, appropriation, formal_payout, c,
):  # fmt: skip
    c = c[0]
    slots = member.shape[1]
    for r in range(n):
        if phase[r] == INVEST:
            for k in range(slots):
                if member[r, k]:
                    invest = c.invest_cost_per_week * effort[r, k]
                    realized[r, k] -= invest
                    other_cost[r, k] += invest
            continue
        if phase[r] == OPERATE:
            factor = 1.0
        elif phase[r] == RESTRUCTURE:
            factor = c.restructure_value_factor
        else:
            continue  # no value in the other phases
        # the work itself costs effort while the alliance runs
        for k in range(slots):
            if member[r, k]:
                running = c.effort_cost_per_week * effort[r, k]
                realized[r, k] -= running
                realized_operating[r, k] -= running
                other_cost[r, k] += running
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
        v = joint_value(complementarity[r], gm_effort, coord, c) * factor * potential[r]
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
                paid = incentive_payout(s, incentives_formal[firm[r, k]], formal_payout)
                realized[r, k] += s - paid
                realized_operating[r, k] += s - paid
                governance_cost[r, k] += paid
                value_created[r, k] += s
