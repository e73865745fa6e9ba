"""Submodel resolution: each week hidden issues come into the open and open issues get resolved.

Issue flow in a week (friction adds new hidden issues and eruptions before this):

1. Surfacing: each hidden issue is raised with chance
       1 - (1 - proactive_surface_per_week * proactiveness) * (1 - surface share of a meeting)
   where the meeting term applies only in a week with a meeting (submodel meetings sets it:
   `surface_in_person` or `surface_virtual`). Proactive managers raise issues before they fester.
2. Resolution: each open issue is resolved with chance 1 - product over this week's channels of
   (1 - channel chance). The channels:
   * a meeting, if there is one this week: p_team;
   * day-to-day work, every week: day_to_day_share * p_team;
   * the steering committee, if the governance has one, every `steering_interval_weeks`: the
     same formula as p_team with base `steering_committee`;
   * escalation (mode `escalation`): when the open issues' mean age exceeds
     `escalation_age_weeks`, the backlog goes up the line (that week and every week it stays that
     old): `escalation_resolve`, and each escalated issue costs organisational trust
     (`trust_per_escalation`). Issues are tracked as a count with a mean age, so the whole
     backlog escalates together.
   with p_team = base_at_meeting * mode_factor * (1 + score), clipped to [0, max_probability],
   where `score` adds, each centred on 0.5, the team's mean collaboration skill, emotional
   intelligence and proactiveness, the partners' mean organisational trust and the firms' mean
   alliance capability, each with its weight.
3. In the `collaborative` mode each issue solved builds organisational trust a little
   (`trust_per_joint_resolution`); `ad_hoc` has the lowest mode factor and nothing else.
4. Open issues age one week; their erosion of trust is in submodel trust.
"""

from __future__ import annotations

import numpy as np

from sim.compiled import formula, kernel
from sim.events import EVENT_CODE, record
from sim.mechanisms import trust as trust_mech
from sim.mechanisms.friction import open_row
from sim.mechanisms.lifecycle import is_due
from sim.randomness import binomial_at, uniform_at

RAISED = EVENT_CODE["issues_raised"]
STEERING = EVENT_CODE["steering_committee"]
ESCALATED = EVENT_CODE["issues_escalated"]
RESOLVED = EVENT_CODE["issues_resolved"]


def mode_factor(mode: str, coef) -> float:
    return {
        "collaborative": coef.mode_factor_collaborative,
        "escalation": coef.mode_factor_escalation,
        "ad_hoc": coef.mode_factor_ad_hoc,
    }[mode]


@formula
def people_score(skill, ei, proactiveness, capability, coef):
    """The part of the resolution score from the people and the firms, each term centred on 0.5."""
    return (
        coef.skill_weight * (skill - 0.5)
        + coef.emotional_intelligence_weight * (ei - 0.5)
        + coef.proactiveness_weight * (proactiveness - 0.5)
        + coef.capability_weight * (capability - 0.5)
    )


@formula
def channel_chance(score, base, factor, max_probability):
    """Chance that one open issue is resolved through a channel: base * mode factor * (1 + score),
    clipped to [0, max_probability]."""
    return np.minimum(np.maximum(base * factor * (1.0 + score), 0.0), max_probability)


def resolution_chance(score, mode: str, coef, base: float | None = None) -> np.ndarray:
    """Chance that one open issue is resolved through a channel with this base, given the score."""
    b = coef.base_at_meeting if base is None else base
    return channel_chance(score, b, mode_factor(mode, coef), coef.max_probability)


def resolution_probability(
    skill, ei, proactiveness, trust, capability, mode: str, coef, base: float | None = None
) -> np.ndarray:
    """Chance that one open issue is resolved (arrays over alliances of team means)."""
    score = people_score(skill, ei, proactiveness, capability, coef) + coef.trust_weight * (trust - 0.5)
    return resolution_chance(score, mode, coef, base)


@formula
def combine(*chances):
    """Chance that at least one of several independent channels succeeds."""
    miss = 1.0
    for p in chances:
        miss = miss * (1.0 - p)
    return 1.0 - miss


def apply(world) -> None:
    """This week's surfacing, resolution (all channels together), escalation and ageing."""
    al, n, gov = world.alliances, world.n, world.scenario.governance
    if n == 0:
        return
    mgr, events = world.managers, world.events
    mode = gov.conflict_resolution
    meeting_today, meeting_surface = world.meeting_flags()
    at = _weekly(
        n=n, week=world.week, key=world.streams.key("resolution"), alliance_id=al.alliance_id,
        start_week=al.start_week, hidden_issues=al.hidden_issues, open_issues=al.open_issues,
        open_age=al.open_age, issues_raised=al.issues_raised, issues_resolved=al.issues_resolved,
        member=al.member, manager=al.manager, firm=al.firm, skill=mgr.skill,
        emotional_intelligence=mgr.emotional_intelligence, proactiveness=mgr.proactiveness,
        capability=world.firms.capability, trust_org=al.trust_org, trust_ceiling=al.trust_ceiling,
        meeting_today=meeting_today, meeting_surface=meeting_surface,
        factor=mode_factor(mode, world.coef.resolution), steering_committee=gov.steering_committee,
        steering_interval_weeks=gov.steering_interval_weeks,
        escalation=mode == "escalation", collaborative=mode == "collaborative", c=world.const.resolution,
        erosion_to_growth=world.coef.trust.erosion_to_growth,
        events=events.buffers(4 * n), at=events.count,
    )  # fmt: skip
    events.commit(at)


@kernel
def _weekly(
    n, week, key, alliance_id, start_week, hidden_issues, open_issues, open_age, issues_raised,
    issues_resolved, member, manager, firm, skill, emotional_intelligence, proactiveness, capability,
    trust_org, trust_ceiling, meeting_today, meeting_surface, factor, steering_committee,
    steering_interval_weeks, escalation, collaborative, c, erosion_to_growth, events, at,
):  # fmt: skip
    c = c[0]
    for r in range(n):
        # 1. surfacing (no hidden issues: none to raise, whatever the chance)
        if hidden_issues[r] > 0:
            pro = 0.0  # the managers' mean proactiveness
            used = 0
            for k in range(member.shape[1]):
                if member[r, k]:
                    pro += proactiveness[manager[r, k]]
                    used += 1
            p_surface = combine(c.proactive_surface_per_week * pro / max(used, 1), meeting_surface[r])
            raised = binomial_at(uniform_at(key, alliance_id[r], week, 1), hidden_issues[r], p_surface)
            if raised > 0:
                hidden_issues[r] -= raised
                open_row(open_issues, open_age, issues_raised, r, raised)
                at = record(events, at, week, alliance_id[r], RAISED, -1, raised)

        # 2. resolution: the week's channels together; a steering committee that is due meets
        # even with nothing open
        open_now = open_issues[r]
        due = steering_committee and is_due(week - start_week[r], steering_interval_weeks)
        if due:
            at = record(events, at, week, alliance_id[r], STEERING, -1, open_now)
        if open_now > 0:
            # the score: people_score of the slot means of the managers' and firms' traits
            # (summed in slot order), plus the trust term
            s_skill = 0.0
            s_ei = 0.0
            s_pro = 0.0
            s_cap = 0.0
            s_trust = 0.0
            used = 0
            for k in range(member.shape[1]):
                if member[r, k]:
                    m = manager[r, k]
                    s_skill += skill[m]
                    s_ei += emotional_intelligence[m]
                    s_pro += proactiveness[m]
                    s_cap += capability[firm[r, k]]
                    s_trust += trust_org[r, k]
                    used += 1
            used = max(used, 1)
            score = people_score(s_skill / used, s_ei / used, s_pro / used, s_cap / used, c)
            score += c.trust_weight * (s_trust / used - 0.5)
            p_team = channel_chance(score, c.base_at_meeting, factor, c.max_probability)
            p_meeting = p_team if meeting_today[r] else 0.0
            p_steering = 0.0
            if due:
                p_steering = channel_chance(score, c.steering_committee, factor, c.max_probability)
            p_escalation = 0.0
            if escalation and open_age[r] > c.escalation_age_weeks:
                at = record(events, at, week, alliance_id[r], ESCALATED, -1, open_now)
                push = c.trust_per_escalation * open_now
                trust_mech.erode_row(trust_org, trust_ceiling, member, r, push, erosion_to_growth)
                p_escalation = c.escalation_resolve
            p = combine(p_meeting, c.day_to_day_share * p_team, p_steering, p_escalation)
            solved = binomial_at(uniform_at(key, alliance_id[r], week, 0), open_now, p)
            if solved > 0:
                open_issues[r] -= solved
                issues_resolved[r] += solved
                at = record(events, at, week, alliance_id[r], RESOLVED, -1, solved)
                if collaborative:
                    push = c.trust_per_joint_resolution * solved
                    trust_mech.build_row(trust_org, trust_ceiling, member, r, push)

        # 4. ageing
        open_age[r] = open_age[r] + 1.0 if open_issues[r] > 0 else 0.0
    return at
