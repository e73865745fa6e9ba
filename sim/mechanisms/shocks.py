"""Submodel shocks: external events, and the risk clinic that prepares partners for them.

Each week an alliance is hit by its own shock with chance 1 - exp(-shock_rate_per_year / 52), and
every active alliance by a market-wide shock with chance 1 - exp(-market_shock_rate_per_year / 52).
Severity is exponential with mean `shock_severity` (`market_shock_severity` for market-wide
shocks), capped at 1.

What a shock does:
* each partner loses `loss_per_severity * severity * s`, where s = 1 with no agreed response, and
  with one the share that response leaves (`response_loss_*`), blended by how current the clinic
  is (`clinic_coverage`, which goes stale by `clinic_decay_per_week`);
* partners whose risk tolerances differ fight over the response: a Poisson number of open issues
  with mean `friction.per_risk_mismatch * severity * mismatch * (1 - clinic_conflict_cut * coverage)`;
* a shock above `drift_threshold` shifts strategy: complementarity falls, and an exit within
  `drift_window_weeks` counts as strategic drift.

The risk clinic (governance.risk_clinic: launch or periodic) surfaces risks, learns each side's
tolerance and agrees a response for each kind of threat; the response follows the partners' mean
risk tolerance by quartile: avoid, transfer, mitigate, accept. Discussing risk builds trust.
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms import trust as trust_mech
from sim.mechanisms.friction import add_open
from sim.randomness import poisson_from_uniform

RESPONSES = ("avoid", "transfer", "mitigate", "accept")


def weekly_probability(rate_per_year: float) -> float:
    return 1.0 - np.exp(-rate_per_year / 52.0)


def severity_from_uniform(u: np.ndarray, mean: float) -> np.ndarray:
    return np.minimum(1.0, -mean * np.log1p(-u))


def agreed_response(mean_risk_tolerance: np.ndarray) -> np.ndarray:
    """Index into RESPONSES: the more risk-tolerant the partners, the more they accept."""
    return np.minimum(3, (np.asarray(mean_risk_tolerance) * 4).astype(int))


def loss_share(response: np.ndarray, coverage: np.ndarray, coef) -> np.ndarray:
    """Share of a shock's loss that remains given the agreed response and how current it is."""
    table = np.array(
        [
            coef.response_loss_avoid,
            coef.response_loss_transfer,
            coef.response_loss_mitigate,
            coef.response_loss_accept,
        ]
    )
    return coverage * table[response] + (1.0 - coverage)


def conflict_rate(severity, mismatch, coverage, per_risk_mismatch: float, clinic_cut: float) -> np.ndarray:
    """Expected open conflicts a shock causes between partners of mismatched risk tolerance."""
    return per_risk_mismatch * severity * mismatch * (1.0 - clinic_cut * coverage)


def hold_clinic(world, rows: np.ndarray) -> None:
    """A risk clinic: agreed responses become current, trust grows, each partner pays its cost."""
    if rows.size == 0:
        return
    al, c = world.alliances, world.coef.shocks
    member = al.member[rows]
    al.clinic_coverage[rows] = 1.0
    trust_mech.apply_to(al, rows, member, c.clinic_trust_gain, c.clinic_trust_gain)
    cost = np.where(member, c.clinic_cost, 0.0)
    al.realized[rows] -= cost
    al.realized_operating[rows] -= cost
    world.events.log(
        world.week, world.ids(rows), "risk_clinic", value=al.slot_mean(al.trust_org[rows], member)
    )


def apply(world) -> None:
    """Periodic clinics, then this week's shocks."""
    al, c, env, gov, week, n = (
        world.alliances,
        world.coef.shocks,
        world.scenario.environment,
        world.scenario.governance,
        world.week,
        world.n,
    )
    if n == 0:
        return
    al.clinic_coverage[:n] *= 1.0 - c.clinic_decay_per_week
    if gov.risk_clinic == "periodic":
        age = week - al.start_week[:n]
        hold_clinic(world, np.flatnonzero((age > 0) & (age % gov.risk_clinic_interval_weeks == 0)))

    s = world.streams
    u_market = s.uniform_block("shocks", np.array([-1]), week, (0, 1))[:, 0]
    own = s.uniform("shocks", world.ids(), week, draw=0) < weekly_probability(env.shock_rate_per_year)
    market = u_market[0] < weekly_probability(env.market_shock_rate_per_year)
    rows = np.flatnonzero(own | market)
    if rows.size == 0:
        return
    ids = world.ids(rows)
    u = s.uniform_block("shocks", ids, week, (1, 2))
    # a market shock has one severity for everybody; an own shock its own
    sev_own = severity_from_uniform(u[0], env.shock_severity)
    if market:
        sev_market = severity_from_uniform(u_market[1], env.market_shock_severity)
        severity = np.maximum(sev_own * own[rows], sev_market)
    else:
        severity = sev_own
    member = al.member[rows]
    al.shocks[rows] += 1
    world.events.log(week, ids, "shock", value=severity)

    coverage = al.clinic_coverage[rows]
    response = agreed_response(al.slot_mean(al.risk_tolerance[rows], member))
    world.events.log(week, ids, "shock_response", value=np.where(coverage > 0, response, -1))
    loss = np.where(
        member, (c.loss_per_severity * severity * loss_share(response, coverage, c))[:, None], 0.0
    )
    al.realized[rows] -= loss
    al.realized_operating[rows] -= loss

    rate = conflict_rate(
        severity,
        al.risk_mismatch[rows],
        coverage,
        world.coef.friction.per_risk_mismatch,
        c.clinic_conflict_cut,
    )
    conflicts = poisson_from_uniform(u[1], rate)
    add_open(al, rows, conflicts)
    world.events.log(week, ids[conflicts > 0], "issues_raised", value=conflicts[conflicts > 0])

    drift = severity > c.drift_threshold
    if drift.any():
        d = rows[drift]
        excess = severity[drift] - c.drift_threshold
        al.complementarity[d] *= 1.0 - c.drift_complementarity_loss * excess
        al.drift_week[d] = week
        world.events.log(week, ids[drift], "strategic_drift", value=al.complementarity[d])
