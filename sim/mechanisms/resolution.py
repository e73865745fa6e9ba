"""Submodel resolution: open issues get resolved, escalated, or left to age.

The chance that one open issue is resolved at a meeting is

    p = base_at_meeting * mode_factor * (1 + score), clipped to [0, max_probability]

where `score` adds, each centred on 0.5, the team's mean collaboration skill, emotional
intelligence and proactiveness, the partners' mean organisational trust and the firms' mean
alliance capability, each with its weight. `mode_factor` depends on the conflict-resolution mode:

* `collaborative`: joint problem solving; each issue solved builds trust a little.
* `escalation`: when the open issues' mean age exceeds `escalation_age_weeks`, the backlog goes up
  the line (that week and every week it stays that old); each escalated issue is settled with
  `escalation_resolve`, and each costs organisational trust (`trust_per_escalation`). Issues are
  tracked as a count with a mean age, so the whole backlog escalates together.
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
from sim.randomness import binomial_from_uniform


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


def _team_probability(world, rows, base: float | None = None) -> np.ndarray:
    al, team = world.alliances, world.team
    member = al.member[rows]
    return resolution_probability(
        al.slot_mean(team.skill[rows], member),
        al.slot_mean(team.emotional_intelligence[rows], member),
        al.slot_mean(team.proactiveness[rows], member),
        al.slot_mean(al.trust_org[rows], member),
        al.slot_mean(team.capability[rows], member),
        world.scenario.governance.conflict_resolution,
        world.coef.resolution,
        base,
    )


def _resolve(world, rows, p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Resolve a binomial number of the open issues of `rows` (u: one uniform per row)."""
    al = world.alliances
    n = binomial_from_uniform(u, al.open_issues[rows], p)
    al.open_issues[rows] -= n
    al.open_age[rows] = np.where(al.open_issues[rows] > 0, al.open_age[rows], 0.0)
    al.issues_resolved[rows] += n
    if world.scenario.governance.conflict_resolution == "collaborative":
        push = (world.coef.resolution.trust_per_joint_resolution * n)[:, None]
        trust_mech.apply_to(al, rows, al.member[rows], org_push=push)
    done = n > 0
    world.events.log(world.week, world.ids(rows)[done], "issues_resolved", value=n[done])
    return n


def at_meeting(world, rows: np.ndarray) -> None:
    """Work on open issues at this week's meetings (rows: alliances meeting now)."""
    if rows.size:
        u = world.streams.uniform("resolution", world.ids(rows), world.week, draw=0)
        _resolve(world, rows, _team_probability(world, rows), u)


def between_meetings(world) -> None:
    """Every week: proactive surfacing, steering committee, escalation, day-to-day work, ageing."""
    al, c, gov, week, n = (
        world.alliances,
        world.coef.resolution,
        world.scenario.governance,
        world.week,
        world.n,
    )
    if n == 0:
        return
    every = slice(0, n)
    ids = world.ids()
    u = world.streams.uniform_block("resolution", ids, week, (1, 2, 3, 4))
    team = world.team
    member = al.member[:n]

    # proactive managers raise hidden issues before they fester
    pro = al.slot_mean(team.proactiveness, member)
    raised = binomial_from_uniform(u[0], al.hidden_issues[:n], c.proactive_surface_per_week * pro)
    al.hidden_issues[:n] -= raised
    add_open(al, every, raised)
    world.events.log(week, ids[raised > 0], "issues_raised", value=raised[raised > 0])

    age = week - al.start_week[:n]
    if gov.steering_committee:
        rows = np.flatnonzero((age % gov.steering_interval_weeks == 0) & (age > 0))
        if rows.size:
            _resolve(world, rows, _team_probability(world, rows, base=c.steering_committee), u[1][rows])
            world.events.log(week, ids[rows], "steering_committee", value=al.open_issues[rows])

    if gov.conflict_resolution == "escalation":
        rows = np.flatnonzero((al.open_age[:n] > c.escalation_age_weeks) & (al.open_issues[:n] > 0))
        if rows.size:
            escalated = al.open_issues[rows].copy()
            world.events.log(week, ids[rows], "issues_escalated", value=escalated)
            _resolve(world, rows, np.full(rows.size, c.escalation_resolve), u[2][rows])
            push = (c.trust_per_escalation * escalated)[:, None]
            trust_mech.apply_to(
                al, rows, al.member[rows], org_push=push, erode_ratio=world.coef.trust.erosion_to_growth
            )

    # day-to-day work on open issues between meetings
    _resolve(world, every, _team_probability(world, every) * c.day_to_day_share, u[3])

    # ageing
    al.open_age[:n] = np.where(al.open_issues[:n] > 0, al.open_age[:n] + 1.0, 0.0)
