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

from sim.compiled import formula, kernel
from sim.events import EVENT_CODE, record
from sim.mechanisms import trust as trust_mech
from sim.mechanisms.lifecycle import is_due

IN_PERSON_EVENT = EVENT_CODE["meeting_in_person"]
VIRTUAL_EVENT = EVENT_CODE["meeting_virtual"]
IN_PERSON, VIRTUAL, MIXED = 0, 1, 2  # governance.meeting_mode as the kernel gets it
MODES = {"in_person": IN_PERSON, "virtual": VIRTUAL, "mixed": MIXED}


@formula
def mixed_in_person(meeting_number, in_person_share):
    """Mixed mode: meeting k (0-based) is in person when floor((k + 1) * share) > floor(k * share),
    which spreads in-person meetings evenly."""
    return np.floor((meeting_number + 1) * in_person_share) > np.floor(meeting_number * in_person_share)


def is_in_person(meeting_number: np.ndarray, mode: str, in_person_share: float) -> np.ndarray:
    """Whether the meeting with this 0-based number is held in person (arrays; see `mixed_in_person`)."""
    k = np.asarray(meeting_number)
    if mode == "in_person":
        return np.ones(k.shape, dtype=bool)
    if mode == "virtual":
        return np.zeros(k.shape, dtype=bool)
    return mixed_in_person(k, in_person_share)


def mode_weight(in_person: np.ndarray, virtual_weight: float) -> np.ndarray:
    """What a meeting builds relative to one in person (arrays; kernels pick 1 or virtual_weight)."""
    return np.where(in_person, 1.0, virtual_weight)


@formula
def meeting_quality(skill, emotional_intelligence):
    """A manager's contribution to a meeting: the mean of collaboration skill and emotional intelligence."""
    return 0.5 * (skill + emotional_intelligence)


def apply(world) -> None:
    """Hold the meetings due this week."""
    al, n, gov = world.alliances, world.n, world.scenario.governance
    if n == 0:
        return
    mgr, events = world.managers, world.events
    meeting_today, meeting_surface = world.meeting_flags()
    at = _weekly(
        n=n, week=world.week, alliance_id=al.alliance_id, start_week=al.start_week,
        meetings_held=al.meetings_held, familiarity=al.familiarity, member=al.member, manager=al.manager,
        skill=mgr.skill, emotional_intelligence=mgr.emotional_intelligence, trust_org=al.trust_org,
        trust_ip=al.trust_ip, trust_ceiling=al.trust_ceiling, realized=al.realized,
        realized_operating=al.realized_operating, governance_cost=al.governance_cost,
        meeting_today=meeting_today,
        meeting_surface=meeting_surface,
        meeting_interval_weeks=gov.meeting_interval_weeks, mode=MODES[gov.meeting_mode],
        mixed_in_person_share=gov.mixed_in_person_share, c=world.const.meetings,
        events=events.buffers(n), at=events.count,
    )  # fmt: skip
    events.commit(at)


@kernel
def _weekly(
    n, week, alliance_id, start_week, meetings_held, familiarity, member, manager, skill,
    emotional_intelligence, trust_org, trust_ip, trust_ceiling, realized, realized_operating, governance_cost,
    meeting_today,
    meeting_surface, meeting_interval_weeks, mode, mixed_in_person_share, c, events, at,
):  # fmt: skip
    c = c[0]
    for r in range(n):
        meeting_today[r] = False
        meeting_surface[r] = 0.0
        if not is_due(week - start_week[r], meeting_interval_weeks):
            continue
        if mode == IN_PERSON:
            in_person = True
        elif mode == VIRTUAL:
            in_person = False
        else:
            in_person = mixed_in_person(meetings_held[r], mixed_in_person_share)
        w = 1.0 if in_person else c.virtual_weight
        org_push = c.organisational_gain * w
        ip_gain = c.interpersonal_gain * w
        cost = c.cost_in_person if in_person else c.cost_virtual
        # per partner slot (in one pass): trust built, the meeting's cost paid
        total_ip = 0.0
        used = 0
        for k in range(member.shape[1]):
            if member[r, k]:
                m = manager[r, k]
                top = trust_ceiling[r, k]
                trust_org[r, k] = trust_mech.build(trust_org[r, k], org_push, top)
                quality = meeting_quality(skill[m], emotional_intelligence[m])
                ip = trust_mech.build(trust_ip[r, k], ip_gain * (0.5 + quality), top)
                trust_ip[r, k] = ip
                total_ip += ip
                used += 1
                realized[r, k] -= cost
                realized_operating[r, k] -= cost
                governance_cost[r, k] += cost
            else:
                trust_org[r, k] = 0.0
                trust_ip[r, k] = 0.0
        familiarity[r] += c.familiarity_gain * w * (1.0 - familiarity[r])
        meetings_held[r] += 1

        # what the meeting does to this week's issue flow (submodel resolution)
        meeting_today[r] = True
        meeting_surface[r] = c.surface_in_person if in_person else c.surface_virtual

        mean_ip = total_ip / max(used, 1)  # (as trust_mech.row_mean)
        code = IN_PERSON_EVENT if in_person else VIRTUAL_EVENT
        at = record(events, at, week, alliance_id[r], code, -1, mean_ip)
    return at
