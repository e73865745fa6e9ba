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

import math

import numpy as np

from sim.compiled import formula, kernel, kernel_helper
from sim.events import EVENT_CODE, record
from sim.mechanisms import trust as trust_mech
from sim.mechanisms.friction import open_row
from sim.mechanisms.lifecycle import is_due
from sim.randomness import poisson_at, uniform_at

RESPONSES = ("avoid", "transfer", "mitigate", "accept")
CLINIC = EVENT_CODE["risk_clinic"]
SHOCK = EVENT_CODE["shock"]
RESPONSE = EVENT_CODE["shock_response"]
RAISED = EVENT_CODE["issues_raised"]
DRIFT = EVENT_CODE["strategic_drift"]


def weekly_probability(rate_per_year: float) -> float:
    return 1.0 - math.exp(-rate_per_year / 52.0)


@formula
def severity_from_uniform(u, mean):
    return np.minimum(1.0, -mean * np.log1p(-u))


@formula
def agreed_response(mean_risk_tolerance):
    """Index into RESPONSES: the more risk-tolerant the partners, the more they accept."""
    return np.minimum(3, np.int64(mean_risk_tolerance * 4))


@formula
def loss_share(response, coverage, coef):
    """Share of a shock's loss that remains given the agreed response and how current it is."""
    left = (
        coef.response_loss_avoid * (response == 0)
        + coef.response_loss_transfer * (response == 1)
        + coef.response_loss_mitigate * (response == 2)
        + coef.response_loss_accept * (response == 3)
    )
    return coverage * left + (1.0 - coverage)


@formula
def conflict_rate(severity, mismatch, coverage, per_risk_mismatch: float, clinic_cut: float):
    """Expected open conflicts a shock causes between partners of mismatched risk tolerance."""
    return per_risk_mismatch * severity * mismatch * (1.0 - clinic_cut * coverage)


@kernel_helper
def clinic_row(
    r, week, alliance_id, member, clinic_coverage, trust_org, trust_ip, trust_ceiling, realized,
    realized_operating, governance_cost, c, events, at,
):  # fmt: skip
    """A risk clinic in running row `r`: agreed responses become current, trust grows, each
    partner pays its cost; logged with the mean organisational trust after it."""
    clinic_coverage[r] = 1.0
    trust_mech.build_row(trust_org, trust_ceiling, member, r, c.clinic_trust_gain)
    trust_mech.build_row(trust_ip, trust_ceiling, member, r, c.clinic_trust_gain)
    for k in range(member.shape[1]):
        if member[r, k]:
            realized[r, k] -= c.clinic_cost
            realized_operating[r, k] -= c.clinic_cost
            governance_cost[r, k] += c.clinic_cost
    return record(events, at, week, alliance_id[r], CLINIC, -1, trust_mech.row_mean(trust_org, member, r))


def hold_clinic(world, rows: np.ndarray) -> None:
    """A risk clinic in each of `rows` (formation holds one at launch)."""
    if rows.size == 0:
        return
    al, events = world.alliances, world.events
    at = _clinics(
        rows=np.ascontiguousarray(rows, dtype=np.int64), week=world.week, alliance_id=al.alliance_id,
        member=al.member, clinic_coverage=al.clinic_coverage, trust_org=al.trust_org, trust_ip=al.trust_ip,
        trust_ceiling=al.trust_ceiling, realized=al.realized, realized_operating=al.realized_operating,
        governance_cost=al.governance_cost,
        c=world.const.shocks, events=events.buffers(rows.size), at=events.count,
    )  # fmt: skip
    events.commit(at)


@kernel
def _clinics(
    rows, week, alliance_id, member, clinic_coverage, trust_org, trust_ip, trust_ceiling, realized,
    realized_operating, governance_cost, c, events, at,
):  # fmt: skip
    c = c[0]
    for i in range(rows.shape[0]):
        at = clinic_row(
            r=rows[i], week=week, alliance_id=alliance_id, member=member, clinic_coverage=clinic_coverage,
            trust_org=trust_org, trust_ip=trust_ip, trust_ceiling=trust_ceiling, realized=realized,
            realized_operating=realized_operating, governance_cost=governance_cost, c=c, events=events,
            at=at,
        )  # fmt: skip
    return at


def apply(world) -> None:
    """Periodic clinics, then this week's shocks."""
    al, n, gov, env = world.alliances, world.n, world.scenario.governance, world.scenario.environment
    if n == 0:
        return
    events = world.events
    # a periodic clinic every `interval` weeks after launch; 0: none
    interval = gov.risk_clinic_interval_weeks if gov.risk_clinic == "periodic" else 0
    at = _weekly(
        n=n, week=world.week, key=world.streams.key("shocks"), interval=interval,
        p_own=weekly_probability(env.shock_rate_per_year),
        p_market=weekly_probability(env.market_shock_rate_per_year),
        shock_severity=env.shock_severity, market_shock_severity=env.market_shock_severity,
        per_risk_mismatch=world.coef.friction.per_risk_mismatch,
        alliance_id=al.alliance_id, start_week=al.start_week, member=al.member,
        clinic_coverage=al.clinic_coverage, trust_org=al.trust_org, trust_ip=al.trust_ip,
        trust_ceiling=al.trust_ceiling, realized=al.realized, realized_operating=al.realized_operating,
        governance_cost=al.governance_cost, other_cost=al.other_cost,
        shocks=al.shocks, risk_tolerance=al.risk_tolerance, risk_mismatch=al.risk_mismatch,
        open_issues=al.open_issues, open_age=al.open_age, issues_raised=al.issues_raised,
        complementarity=al.complementarity, drift_week=al.drift_week,
        c=world.const.shocks, events=events.buffers(5 * n), at=events.count,
    )  # fmt: skip
    events.commit(at)


@kernel
def _weekly(
    n, week, key, interval, p_own, p_market, shock_severity, market_shock_severity, per_risk_mismatch,
    alliance_id, start_week, member, clinic_coverage, trust_org, trust_ip, trust_ceiling, realized,
    realized_operating, governance_cost, other_cost, shocks, risk_tolerance, risk_mismatch, open_issues,
    open_age, issues_raised,
    complementarity, drift_week, c, events, at,
):  # fmt: skip
    c = c[0]
    # a market-wide shock hits every running alliance with one severity
    market = uniform_at(key, -1, week, 0) < p_market
    sev_market = severity_from_uniform(uniform_at(key, -1, week, 1), market_shock_severity) if market else 0.0
    for r in range(n):
        clinic_coverage[r] *= 1.0 - c.clinic_decay_per_week
        if interval > 0 and is_due(week - start_week[r], interval):
            at = clinic_row(
                r=r, week=week, alliance_id=alliance_id, member=member, clinic_coverage=clinic_coverage,
                trust_org=trust_org, trust_ip=trust_ip, trust_ceiling=trust_ceiling, realized=realized,
                realized_operating=realized_operating, governance_cost=governance_cost, c=c, events=events,
            at=at,
            )  # fmt: skip
        a = alliance_id[r]
        own = uniform_at(key, a, week, 0) < p_own
        if not (own or market):
            continue
        severity = severity_from_uniform(uniform_at(key, a, week, 1), shock_severity)
        if market:
            severity = max(severity * own, sev_market)
        shocks[r] += 1
        at = record(events, at, week, a, SHOCK, -1, severity)

        coverage = clinic_coverage[r]
        response = agreed_response(trust_mech.row_mean(risk_tolerance, member, r))
        at = record(events, at, week, a, RESPONSE, -1, response if coverage > 0 else -1)
        loss = c.loss_per_severity * severity * loss_share(response, coverage, c)
        for k in range(member.shape[1]):
            if member[r, k]:
                realized[r, k] -= loss
                realized_operating[r, k] -= loss
                other_cost[r, k] += loss

        rate = conflict_rate(severity, risk_mismatch[r], coverage, per_risk_mismatch, c.clinic_conflict_cut)
        conflicts = poisson_at(uniform_at(key, a, week, 2), rate)
        open_row(open_issues, open_age, issues_raised, r, conflicts)  # every hit row, as add_open did
        if conflicts > 0:
            at = record(events, at, week, a, RAISED, -1, conflicts)

        if severity > c.drift_threshold:
            complementarity[r] *= 1.0 - c.drift_complementarity_loss * (severity - c.drift_threshold)
            drift_week[r] = week
            at = record(events, at, week, a, DRIFT, -1, complementarity[r])
    return at
