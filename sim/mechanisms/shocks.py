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


def hold_clinic(world, ids: np.ndarray) -> None:
    """A risk clinic: agreed responses become current, trust grows, each partner pays its cost."""
    if ids.size == 0:
        return
    al, c = world.alliances, world.coef.shocks
    member = al.member[ids]
    al.clinic_coverage[ids] = 1.0
    ceiling = al.trust_ceiling[ids]
    al.trust_org[ids] = np.where(
        member, trust_mech.build(al.trust_org[ids], c.clinic_trust_gain, ceiling), 0.0
    )
    al.trust_ip[ids] = np.where(member, trust_mech.build(al.trust_ip[ids], c.clinic_trust_gain, ceiling), 0.0)
    al.realized[ids] -= np.where(member, c.clinic_cost, 0.0)
    world.events.log(world.week, ids, "risk_clinic", value=al.slot_mean(al.trust_org[ids], member))


def apply(world, ids: np.ndarray) -> None:
    """Periodic clinics, then this week's shocks."""
    if ids.size == 0:
        return
    al, c, env, gov, week = (
        world.alliances,
        world.coef.shocks,
        world.scenario.environment,
        world.scenario.governance,
        world.week,
    )
    al.clinic_coverage[ids] *= 1.0 - c.clinic_decay_per_week
    if gov.risk_clinic == "periodic":
        age = week - al.start_week[ids]
        hold_clinic(world, ids[(age > 0) & (age % gov.risk_clinic_interval_weeks == 0)])

    s = world.streams
    own = s.uniform("shocks", ids, week, draw=0) < weekly_probability(env.shock_rate_per_year)
    market = s.uniform("shocks", np.array([-1]), week, draw=0)[0] < weekly_probability(
        env.market_shock_rate_per_year
    )
    hit = own | market
    if not hit.any():
        return
    h = ids[hit]
    # a market shock has one severity for everybody; an own shock its own
    sev_own = severity_from_uniform(s.uniform("shocks", h, week, draw=1), env.shock_severity)
    sev_market = severity_from_uniform(
        s.uniform("shocks", np.array([-1]), week, draw=1)[0], env.market_shock_severity
    )
    severity = np.where(market, np.maximum(sev_own * own[hit], sev_market), sev_own)
    member = al.member[h]
    al.shocks[h] += 1
    world.events.log(week, h, "shock", value=severity)

    coverage = al.clinic_coverage[h]
    mean_risk = al.slot_mean(world.slot_trait(h, world.firms.risk_tolerance, "firm"), member)
    response = agreed_response(mean_risk)
    world.events.log(week, h, "shock_response", value=np.where(coverage > 0, response, -1))
    loss = c.loss_per_severity * severity * loss_share(response, coverage, c)
    al.realized[h] -= np.where(member, loss[:, None], 0.0)
    al.realized_operating[h] -= np.where(member, loss[:, None], 0.0)

    conflicts = s.poisson(
        "shocks",
        h,
        week,
        conflict_rate(
            severity,
            al.risk_mismatch[h],
            coverage,
            world.coef.friction.per_risk_mismatch,
            c.clinic_conflict_cut,
        ),
        draw=2,
    )
    add_open(al, h, conflicts)
    world.events.log(week, h[conflicts > 0], "issues_raised", value=conflicts[conflicts > 0])

    drift = severity > c.drift_threshold
    if drift.any():
        d = h[drift]
        excess = severity[drift] - c.drift_threshold
        al.complementarity[d] *= 1.0 - c.drift_complementarity_loss * excess
        al.drift_week[d] = week
        world.events.log(week, d, "strategic_drift", value=al.complementarity[d])
