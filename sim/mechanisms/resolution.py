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

from sim.mechanisms import trust as trust_mech
from sim.mechanisms.friction import add_open
from sim.randomness import binomial_from_uniform
from sim.state import AllianceTable


def mode_factor(mode: str, coef) -> float:
    return {
        "collaborative": coef.mode_factor_collaborative,
        "escalation": coef.mode_factor_escalation,
        "ad_hoc": coef.mode_factor_ad_hoc,
    }[mode]


def people_score(skill, ei, proactiveness, capability, coef):
    """The part of the resolution score from the people and the firms, each term centred on 0.5."""
    return (
        coef.skill_weight * (skill - 0.5)
        + coef.emotional_intelligence_weight * (ei - 0.5)
        + coef.proactiveness_weight * (proactiveness - 0.5)
        + coef.capability_weight * (capability - 0.5)
    )


def resolution_chance(score, mode: str, coef, base: float | None = None) -> np.ndarray:
    """Chance that one open issue is resolved through a channel with this base, given the score."""
    b = coef.base_at_meeting if base is None else base
    return np.clip(b * mode_factor(mode, coef) * (1.0 + score), 0.0, coef.max_probability)


def resolution_probability(
    skill, ei, proactiveness, trust, capability, mode: str, coef, base: float | None = None
) -> np.ndarray:
    """Chance that one open issue is resolved (arrays over alliances of team means)."""
    score = people_score(skill, ei, proactiveness, capability, coef) + coef.trust_weight * (trust - 0.5)
    return resolution_chance(score, mode, coef, base)


def team_score(team, member: np.ndarray, coef) -> np.ndarray:
    """`people_score` of each running alliance's team (read once a week; trust is added each week)."""
    mean = AllianceTable.slot_mean
    return people_score(
        mean(team.skill, member),
        mean(team.emotional_intelligence, member),
        mean(team.proactiveness, member),
        mean(team.capability, member),
        coef,
    )


def combine(*chances) -> np.ndarray:
    """Chance that at least one of several independent channels succeeds."""
    miss = 1.0
    for p in chances:
        miss = miss * (1.0 - p)
    return 1.0 - miss


def apply(world) -> None:
    """This week's surfacing, resolution (all channels together), escalation and ageing."""
    al, c, gov, week, n = (
        world.alliances,
        world.coef.resolution,
        world.scenario.governance,
        world.week,
        world.n,
    )
    if n == 0:
        return
    ids = world.ids()
    u = world.streams.uniform_block("resolution", ids, week, (0, 1))
    team = world.team
    member = al.member[:n]
    meeting = world.meeting_today[:n]

    # 1. surfacing
    pro = al.slot_mean(team.proactiveness, member)
    p_surface = combine(c.proactive_surface_per_week * pro, world.meeting_surface[:n])
    raised = binomial_from_uniform(u[1], al.hidden_issues[:n], p_surface)
    if raised.any():
        al.hidden_issues[:n] -= raised
        add_open(al, slice(0, n), raised)
        world.events.log(week, ids[raised > 0], "issues_raised", value=raised[raised > 0])

    # 2. resolution
    open_now = al.open_issues[:n]
    if open_now.any():
        mode = gov.conflict_resolution
        score = team.score + c.trust_weight * (al.slot_mean(al.trust_org[:n], member) - 0.5)
        p_team = resolution_chance(score, mode, c)
        channels = [np.where(meeting, p_team, 0.0), c.day_to_day_share * p_team]
        if gov.steering_committee:
            age = week - al.start_week[:n]
            due = (age > 0) & (age % gov.steering_interval_weeks == 0)
            if due.any():
                channels.append(np.where(due, resolution_chance(score, mode, c, c.steering_committee), 0.0))
                world.events.log(week, ids[due], "steering_committee", value=open_now[due])
        if gov.conflict_resolution == "escalation":
            escalated = (al.open_age[:n] > c.escalation_age_weeks) & (open_now > 0)
            if escalated.any():
                rows = np.flatnonzero(escalated)
                world.events.log(week, ids[rows], "issues_escalated", value=open_now[rows])
                push = (c.trust_per_escalation * open_now[rows])[:, None]
                trust_mech.apply_to(
                    al, rows, member[rows], org_push=push, erode_ratio=world.coef.trust.erosion_to_growth
                )
                channels.append(np.where(escalated, c.escalation_resolve, 0.0))
        solved = binomial_from_uniform(u[0], open_now, combine(*channels))
        if solved.any():
            al.open_issues[:n] -= solved
            al.issues_resolved[:n] += solved
            done = np.flatnonzero(solved)
            world.events.log(week, ids[done], "issues_resolved", value=solved[done])
            if gov.conflict_resolution == "collaborative":
                push = (c.trust_per_joint_resolution * solved[done])[:, None]
                trust_mech.apply_to(al, done, member[done], org_push=push)

    # 4. ageing
    al.open_age[:n] = np.where(al.open_issues[:n] > 0, al.open_age[:n] + 1.0, 0.0)
