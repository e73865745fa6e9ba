"""Submodel meetings: the alliance team meets on the governance schedule.

A meeting is due every `governance.meeting_interval_weeks` weeks after launch. Its mode is
in person, virtual, or mixed (meetings alternate so that `mixed_in_person_share` of them are in
person). At a meeting:

* interpersonal trust grows by `interpersonal_gain * w * (0.5 + q)`, where w is 1 in person and
  `virtual_weight` online, and q is the manager's mean of skill and emotional intelligence;
* organisational trust grows by `organisational_gain * w`, familiarity by `familiarity_gain * w`;
* a share of hidden issues is surfaced (`surface_in_person` / `surface_virtual`) and the open
  issues are worked on: the meeting is one of the week's resolution channels (submodel
  resolution, which runs next, draws the numbers);
* each partner pays the meeting's cost (`cost_in_person` / `cost_virtual`) out of its realised
  value: more meetings are not free, which is what gives the meeting interval an optimum.
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms import trust as trust_mech


def is_due(weeks_since_start: np.ndarray, interval: int) -> np.ndarray:
    """A meeting is due every `interval` weeks after launch (not in the launch week itself)."""
    return (weeks_since_start > 0) & (weeks_since_start % interval == 0)


def is_in_person(meeting_number: np.ndarray, mode: str, in_person_share: float) -> np.ndarray:
    """Whether the meeting with this 0-based number is held in person.

    Mixed mode spreads in-person meetings evenly: meeting k is in person when
    floor((k + 1) * share) > floor(k * share).
    """
    k = np.asarray(meeting_number)
    if mode == "in_person":
        return np.ones(k.shape, dtype=bool)
    if mode == "virtual":
        return np.zeros(k.shape, dtype=bool)
    return np.floor((k + 1) * in_person_share) > np.floor(k * in_person_share)


def mode_weight(in_person: np.ndarray, virtual_weight: float) -> np.ndarray:
    """What a meeting builds relative to one in person."""
    return np.where(in_person, 1.0, virtual_weight)


def apply(world) -> None:
    """Hold the meetings due this week."""
    al, c, gov, week, n = world.alliances, world.coef.meetings, world.scenario.governance, world.week, world.n
    rows = np.flatnonzero(is_due(week - al.start_week[:n], gov.meeting_interval_weeks))
    if rows.size == 0:
        return
    ids = world.ids(rows)
    in_person = is_in_person(al.meetings_held[rows], gov.meeting_mode, gov.mixed_in_person_share)
    w = mode_weight(in_person, c.virtual_weight)[:, None]
    member = al.member[rows]
    team = world.team
    quality = 0.5 * (team.skill[rows] + team.emotional_intelligence[rows])
    trust_mech.apply_to(
        al,
        rows,
        member,
        org_push=c.organisational_gain * w,
        ip_push=c.interpersonal_gain * w * (0.5 + quality),
    )
    al.familiarity[rows] += c.familiarity_gain * w[:, 0] * (1.0 - al.familiarity[rows])
    al.meetings_held[rows] += 1

    # what the meeting does to this week's issue flow (submodel resolution)
    world.meeting_today[rows] = True
    world.meeting_surface[rows] = np.where(in_person, c.surface_in_person, c.surface_virtual)

    # the cost of meeting, to every partner
    cost = np.where(member, np.where(in_person, c.cost_in_person, c.cost_virtual)[:, None], 0.0)
    al.realized[rows] -= cost
    al.realized_operating[rows] -= cost

    mean_ip = al.slot_mean(al.trust_ip[rows], member)
    world.events.log(week, ids[in_person], "meeting_in_person", value=mean_ip[in_person])
    world.events.log(week, ids[~in_person], "meeting_virtual", value=mean_ip[~in_person])
