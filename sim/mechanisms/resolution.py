"""Submodel resolution: open issues get resolved, escalated, or left to age.

The chance that one open issue is resolved at a meeting is

    p = base_at_meeting * mode_factor * (1 + score), clipped to [0, max_probability]

where `score` adds, each centred on 0.5, the team's mean collaboration skill, emotional
intelligence and proactiveness, the partners' mean organisational trust and the firms' mean
alliance capability, each with its weight. `mode_factor` depends on the conflict-resolution mode:

* `collaborative`: joint problem solving; each issue solved builds trust a little.
* `escalation`: issues older than `escalation_age_weeks` go up the line every week and are settled
  with `escalation_resolve`, at a trust cost per issue escalated.
* `ad_hoc`: no method: the lowest factor and nothing else.

A steering committee, if the governance has one, meets every `steering_interval_weeks` and
resolves each open issue with `steering_committee` (before the mode factor). Between meetings,
issues are worked on day to day with `day_to_day_share` of a meeting's chance each week, and
proactive managers raise hidden issues before they fester (`proactive_surface_per_week`).
Open issues age one week per week; their erosion of trust is in submodel trust.
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms import trust as trust_mech
from sim.mechanisms.friction import add_open


def mode_factor(mode: str, coef) -> float:
    return {
        "collaborative": coef.mode_factor_collaborative,
        "escalation": coef.mode_factor_escalation,
        "ad_hoc": coef.mode_factor_ad_hoc,
    }[mode]


def resolution_probability(
    skill, ei, proactiveness, trust, capability, mode: str, coef, base: float | None = None
) -> np.ndarray:
    """Chance that one open issue is resolved (arrays over alliances)."""
    score = (
        coef.skill_weight * (skill - 0.5)
        + coef.emotional_intelligence_weight * (ei - 0.5)
        + coef.proactiveness_weight * (proactiveness - 0.5)
        + coef.trust_weight * (trust - 0.5)
        + coef.capability_weight * (capability - 0.5)
    )
    b = coef.base_at_meeting if base is None else base
    return np.clip(b * mode_factor(mode, coef) * (1.0 + score), 0.0, coef.max_probability)


def _team_probability(world, ids: np.ndarray, base: float | None = None) -> np.ndarray:
    al, mgr = world.alliances, world.managers
    member = al.member[ids]
    return resolution_probability(
        world.team_trait(ids, mgr.skill),
        world.team_trait(ids, mgr.emotional_intelligence),
        world.team_trait(ids, mgr.proactiveness),
        al.slot_mean(al.trust_org[ids], member),
        al.slot_mean(world.slot_trait(ids, world.firms.capability, "firm"), member),
        world.scenario.governance.conflict_resolution,
        world.coef.resolution,
        base,
    )


def _resolve(world, ids: np.ndarray, p: np.ndarray, draw: int) -> np.ndarray:
    """Resolve a binomial number of each alliance's open issues; return how many."""
    al = world.alliances
    n = world.streams.binomial("resolution", ids, world.week, al.open_issues[ids], p, draw=draw)
    al.open_issues[ids] -= n
    al.open_age[ids] = np.where(al.open_issues[ids] > 0, al.open_age[ids], 0.0)
    al.issues_resolved[ids] += n
    if world.scenario.governance.conflict_resolution == "collaborative":
        push = (world.coef.resolution.trust_per_joint_resolution * n)[:, None]
        ceiling = al.trust_ceiling[ids]
        member = al.member[ids]
        al.trust_org[ids] = np.where(member, trust_mech.build(al.trust_org[ids], push, ceiling), 0.0)
    done = n > 0
    world.events.log(world.week, ids[done], "issues_resolved", value=n[done])
    return n


def at_meeting(world, ids: np.ndarray) -> None:
    """Work on open issues at this week's meetings (ids: alliances meeting now)."""
    if ids.size:
        _resolve(world, ids, _team_probability(world, ids), draw=0)


def between_meetings(world, ids: np.ndarray) -> None:
    """Every week: proactive surfacing, steering committee, escalation, day-to-day work, ageing."""
    if ids.size == 0:
        return
    al, c, gov, week = world.alliances, world.coef.resolution, world.scenario.governance, world.week

    # proactive managers raise hidden issues before they fester
    pro = world.team_trait(ids, world.managers.proactiveness)
    raised = world.streams.binomial(
        "resolution", ids, week, al.hidden_issues[ids], c.proactive_surface_per_week * pro, draw=1
    )
    al.hidden_issues[ids] -= raised
    add_open(al, ids, raised)
    world.events.log(week, ids[raised > 0], "issues_raised", value=raised[raised > 0])

    if gov.steering_committee:
        due = ((week - al.start_week[ids]) % gov.steering_interval_weeks == 0) & (week > al.start_week[ids])
        s_ids = ids[due]
        if s_ids.size:
            _resolve(world, s_ids, _team_probability(world, s_ids, base=c.steering_committee), draw=2)
            world.events.log(week, s_ids, "steering_committee", value=al.open_issues[s_ids])

    if gov.conflict_resolution == "escalation":
        old = (al.open_age[ids] > c.escalation_age_weeks) & (al.open_issues[ids] > 0)
        e_ids = ids[old]
        if e_ids.size:
            n_escalated = al.open_issues[e_ids].copy()
            world.events.log(week, e_ids, "issues_escalated", value=n_escalated)
            _resolve(world, e_ids, np.full(e_ids.size, c.escalation_resolve), draw=3)
            tc = world.coef.trust
            push = (c.trust_per_escalation * n_escalated)[:, None]
            member = al.member[e_ids]
            ceiling = al.trust_ceiling[e_ids]
            al.trust_org[e_ids] = np.where(
                member,
                trust_mech.erode(al.trust_org[e_ids], push, tc.erosion_to_growth, ceiling),
                0.0,
            )

    # day-to-day work on open issues between meetings
    _resolve(world, ids, _team_probability(world, ids) * c.day_to_day_share, draw=4)

    # ageing
    al.open_age[ids] = np.where(al.open_issues[ids] > 0, al.open_age[ids] + 1.0, 0.0)
