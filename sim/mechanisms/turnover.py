"""Submodel turnover: alliance managers leave and are replaced.

Each manager position loses its holder in a given week with chance
h = 1 - (1 - turnover_per_year) ** (1 / 52); equivalently, when a holder is seated, the length of
their stay is drawn once, geometric with weekly hazard h. The firm fills the seat at once; the
newcomer's traits are drawn afresh (see `seat_position`), raised by the firm's collaboration
training and hiring and, if the firm has one, by coaching from its alliance function.

In every alliance the position runs, the relationship partly restarts: the interpersonal trust
between the new manager and the counterparts falls to

    min(old trust, replacement_trust + handover * (old trust - replacement_trust))

and familiarity loses `familiarity_loss * (1 - handover)` of itself, where `handover` depends on
the firm's alliance function (centres of excellence and communities of practice hand over most).
"""

from __future__ import annotations

import numpy as np

from sim.compiled import formula, kernel, kernel_helper
from sim.events import EVENT_CODE, record
from sim.randomness import normal_at, pair_uniform_at
from sim.state import by_function_type

NEVER = 1 << 40
LEFT = EVENT_CODE["manager_left"]

def weekly_hazard(turnover_per_year: float) -> float:
    return 1.0 - (1.0 - turnover_per_year) ** (1.0 / 52.0)


@formula
def handover_share(function_type, coef):
    """Share of what a leaver knew that is handed over, by the firm's alliance function type."""
    return by_function_type(
        function_type,
        coef.handover_none,
        coef.handover_central_function,
        coef.handover_center_of_excellence,
        coef.handover_community_of_practice,
    )


@formula
def restarted_trust(old, handover, replacement):
    """Trust in a relationship after a manager change: never higher than before."""
    return np.minimum(old, replacement + handover * (old - replacement))


@formula
def tenure_from_uniform(u, hazard):
    """Weeks a holder stays (>= 1): geometric with the weekly hazard; 'never' (2**40) if it is 0."""
    if hazard <= 0:
        return np.int64(0.0 * u + NEVER)
    if hazard >= 1:
        return np.int64(0.0 * u + 1.0)
    return 1 + np.int64(np.floor(np.log1p(-u) / np.log1p(-hazard)))


@formula
def trait(mean, sd, z, boost):
    """A newcomer's trait: normal around the population mean, raised by `boost`, within [0, 1]."""
    return np.minimum(np.maximum(mean + sd * z + boost, 0.0), 1.0)


@kernel_helper
def seat_position(
    p, week, key_managers, key_turnover, hazard, dists, mgr_firm, training, hiring_for_collaboration,
    function_type, skill, emotional_intelligence, proactiveness, influence, seated_week, departure_week,
    holder, tc,
):  # fmt: skip
    """Seat a new holder in position `p` in `week` (-1: the first holders): traits and departure.

    Traits: normal draws of the `managers` stream (entity p, draws 0-3) around the means and sds
    in `dists` (skill, emotional intelligence, proactiveness, influence: mean, sd each).
    """
    f = mgr_firm[p]
    has_function = 1.0 if function_type[f] > 0 else 0.0
    hired = tc.hiring_skill_gain * hiring_for_collaboration[f]
    boost = tc.training_skill_gain * training[f] + hired + tc.function_skill_gain * has_function
    skill[p] = trait(dists[0], dists[1], normal_at(key_managers, p, week, 0), boost)
    emotional_intelligence[p] = trait(dists[2], dists[3], normal_at(key_managers, p, week, 1), hired)
    proactiveness[p] = trait(dists[4], dists[5], normal_at(key_managers, p, week, 2), 0.0)
    influence[p] = trait(dists[6], dists[7], normal_at(key_managers, p, week, 3), 0.0)
    seated_week[p] = week
    stay = tenure_from_uniform(pair_uniform_at(key_turnover, p, holder[p]), hazard)
    departure_week[p] = max(week, 0) + stay


def _seating(world) -> dict:
    """The arguments of `seat_position` that follow the position and week (streams, hazard, traits),
    keyed by parameter name: `_seat` and `_weekly` take them as `**_seating(world)`."""
    mgr, f, m = world.managers, world.firms, world.scenario.managers
    dists = (
        m.skill.mean, m.skill.sd, m.emotional_intelligence.mean, m.emotional_intelligence.sd,
        m.proactiveness.mean, m.proactiveness.sd, m.influence.mean, m.influence.sd,
    )  # fmt: skip
    return dict(
        key_managers=world.streams.key("managers"), key_turnover=world.streams.key("turnover"),
        hazard=weekly_hazard(m.turnover_per_year), dists=tuple(float(d) for d in dists), mgr_firm=mgr.firm,
        training=f.training, hiring_for_collaboration=f.hiring_for_collaboration,
        function_type=f.function_type, skill=mgr.skill, emotional_intelligence=mgr.emotional_intelligence,
        proactiveness=mgr.proactiveness, influence=mgr.influence, seated_week=mgr.seated_week,
        departure_week=mgr.departure_week, holder=mgr.holder, tc=world.const.turnover,
    )  # fmt: skip


def seat(world, positions: np.ndarray, week: int) -> None:
    """Put new holders in `positions` in `week` and draw when each will leave.

    The length of stay is drawn from the `turnover` stream keyed by position and the holder's
    number, so the departures are the same in every scenario with the same turnover rate.
    """
    _seat(positions=np.ascontiguousarray(positions, dtype=np.int64), week=week, **_seating(world))


@kernel
def _seat(
    positions, week, key_managers, key_turnover, hazard, dists, mgr_firm, training, hiring_for_collaboration,
    function_type, skill, emotional_intelligence, proactiveness, influence, seated_week, departure_week,
    holder, tc,
):  # fmt: skip
    tc = tc[0]
    for i in range(positions.shape[0]):
        seat_position(
            p=positions[i], week=week, key_managers=key_managers, key_turnover=key_turnover, hazard=hazard,
            dists=dists, mgr_firm=mgr_firm, training=training,
            hiring_for_collaboration=hiring_for_collaboration, function_type=function_type, skill=skill,
            emotional_intelligence=emotional_intelligence, proactiveness=proactiveness, influence=influence,
            seated_week=seated_week, departure_week=departure_week, holder=holder, tc=tc,
        )  # fmt: skip


def apply(world) -> np.ndarray:
    """Managers whose time has come leave; seat replacements and restart relationships.

    Returns the positions that changed hands this week.
    """
    al, events = world.alliances, world.events
    leaving, at = _weekly(
        n=world.n, week=world.week, alliance_id=al.alliance_id, member=al.member, manager=al.manager,
        firm=al.firm, n_partners=al.n_partners, trust_ip=al.trust_ip, trust_ceiling=al.trust_ceiling,
        familiarity=al.familiarity, manager_changes=al.manager_changes,
        events=events.buffers(world.n * al.max_partners), at=events.count, **_seating(world),
    )  # fmt: skip
    events.commit(at)
    return leaving


@kernel
def _weekly(
    n, week, alliance_id, member, manager, firm, n_partners, trust_ip, trust_ceiling, familiarity,
    manager_changes, events, at, key_managers, key_turnover, hazard, dists, mgr_firm, training,
    hiring_for_collaboration, function_type, skill, emotional_intelligence, proactiveness, influence,
    seated_week, departure_week, holder, tc,
):  # fmt: skip
    tc = tc[0]
    count = 0
    for p in range(departure_week.shape[0]):
        if departure_week[p] == week:
            count += 1
    leaving = np.empty(count, dtype=np.int64)
    if count == 0:
        return leaving, at
    # relationships the leavers ran: running alliance slots held by the positions leaving now
    for r in range(n):
        for k in range(member.shape[1]):
            if member[r, k] and departure_week[manager[r, k]] == week:
                at = restart_row(
                    r=r, week=week, alliance_id=alliance_id, member=member, manager=manager, firm=firm,
                    n_partners=n_partners, trust_ip=trust_ip, trust_ceiling=trust_ceiling,
                    familiarity=familiarity, manager_changes=manager_changes, departure_week=departure_week,
                    function_type=function_type, tc=tc, events=events, at=at,
                )  # fmt: skip
                break
    i = 0
    for p in range(departure_week.shape[0]):
        if departure_week[p] == week:
            leaving[i] = p
            i += 1
            holder[p] += 1
            seat_position(
                p=p, week=week, key_managers=key_managers, key_turnover=key_turnover, hazard=hazard,
                dists=dists, mgr_firm=mgr_firm, training=training,
                hiring_for_collaboration=hiring_for_collaboration, function_type=function_type, skill=skill,
                emotional_intelligence=emotional_intelligence, proactiveness=proactiveness,
                influence=influence, seated_week=seated_week, departure_week=departure_week, holder=holder,
                tc=tc,
            )  # fmt: skip
    return leaving, at


@kernel_helper
def restart_row(
    r, week, alliance_id, member, manager, firm, n_partners, trust_ip, trust_ceiling, familiarity,
    manager_changes, departure_week, function_type, tc, events, at,
):  # fmt: skip
    """Restart the relationships of running row `r` whose managers leave in `week`.

    Each leaving slot's trust restarts (`restarted_trust`, within its ceiling) and is logged; then,
    for each leaver in slot order, every other partner's trust in the newcomer moves
    1 / (partners - 1) of the way to its restart with the leaver's handover (so a counterpart
    restarts in proportion to the share of its counterparts that changed); familiarity loses its
    share once per leaver.
    """
    leavers = 0
    for k in range(member.shape[1]):
        if member[r, k] and departure_week[manager[r, k]] == week:
            handover = handover_share(function_type[firm[r, k]], tc)
            restarted = restarted_trust(trust_ip[r, k], handover, tc.replacement_trust)
            new = np.minimum(restarted, trust_ceiling[r, k])
            trust_ip[r, k] = new
            at = record(events, at, week, alliance_id[r], LEFT, k, new)
            leavers += 1
    if leavers == 0:
        return at
    # counterparts' trust in each newcomer restarts too (shared among their counterparts)
    n_other = max(float(n_partners[r]) - 1.0, 1.0)
    for j in range(member.shape[1]):
        if not (member[r, j] and departure_week[manager[r, j]] == week):
            continue
        handover = handover_share(function_type[firm[r, j]], tc)
        for k in range(member.shape[1]):
            if member[r, k] and k != j:
                cur = trust_ip[r, k]
                target = restarted_trust(cur, handover, tc.replacement_trust)
                trust_ip[r, k] = np.minimum(
                    np.maximum(cur + (target - cur) / n_other, 0.0), trust_ceiling[r, k]
                )
    for k in range(member.shape[1]):
        if member[r, k] and departure_week[manager[r, k]] == week:
            handover = handover_share(function_type[firm[r, k]], tc)
            familiarity[r] *= 1.0 - tc.familiarity_loss * (1.0 - handover)
            manager_changes[r] += 1
    return at
