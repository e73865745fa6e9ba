"""Submodel lifecycle: the phases an alliance goes through, and how it ends.

negotiate (`formation.negotiate_weeks`) -> invest (`formation.invest_weeks`) -> operate, with
restructure (`reviews.restructure_weeks`) as a detour back to operate, and ended at the close.
Meetings, friction, trust and shocks run in every phase; effort and investment from invest on;
value is created while operating (and, reduced, while restructuring); reviews judge value only
in operate after `reviews.grace_weeks`.

Each week one compiled kernel (`apply`) moves the alliances whose timed phase is over on to the
next phase and counts operating weeks.

`end(...)` is the only way an alliance ends: it records outcome, reason and week once, frees the
partners' seats and managers, and banks the partnership's history (submodel learning).
"""

from __future__ import annotations

import numpy as np

from sim.compiled import formula, kernel, pick
from sim.events import EVENT_CODE, record
from sim.mechanisms import learning
from sim.state import ENDED, INVEST, NEGOTIATE, OPERATE, RESTRUCTURE

PHASE = EVENT_CODE["phase"]
ENDED_EVENT = EVENT_CODE["ended"]


@formula
def is_due(weeks_since_start, interval):
    """A recurring event (meeting, review, risk clinic, steering committee) is due every
    `interval` weeks after launch, not in the launch week itself."""
    return (weeks_since_start > 0) & (weeks_since_start % interval == 0)


@formula
def next_phase(phase):
    """Phase after a timed phase ends: negotiate -> invest -> operate; restructure -> operate."""
    return np.int8(pick(phase == NEGOTIATE, INVEST, OPERATE))


@formula
def timed(phase):
    """True for the phases that end at `phase_until`: negotiate, invest, restructure."""
    return (phase == NEGOTIATE) | (phase == INVEST) | (phase == RESTRUCTURE)


def apply(world) -> None:
    """Advance timed phases that are over; count operating weeks."""
    al, n = world.alliances, world.n
    if n == 0:
        return
    events = world.events
    at = _advance(
        n=n, week=world.week, invest_weeks=world.scenario.formation.invest_weeks, alliance_id=al.alliance_id,
        phase=al.phase, phase_until=al.phase_until, operate_weeks=al.operate_weeks,
        realized_operating=al.realized_operating, events=events.buffers(2 * n), at=events.count,
    )  # fmt: skip
    events.commit(at)


@kernel
def _advance(
    n, week, invest_weeks, alliance_id, phase, phase_until, operate_weeks, realized_operating, events, at
):
    for r in range(n):
        for _ in range(2):  # a zero-length invest phase passes straight to operate
            if not (timed(phase[r]) and week >= phase_until[r]):
                break
            new = next_phase(phase[r])
            phase[r] = new
            if new == INVEST:
                phase_until[r] = week + invest_weeks
            else:  # back in operate: operating weeks and value count afresh
                operate_weeks[r] = 0
                realized_operating[r, :] = 0.0
            at = record(events, at, week, alliance_id[r], PHASE, -1, new)
        if phase[r] == OPERATE:
            operate_weeks[r] += 1
    return at


def end(world, rows: np.ndarray, outcome, reason=-1, exiting_slot=-1) -> None:
    """End the alliances in `rows` with `outcome` (and `reason`, `exiting_slot` for failures).

    `outcome`, `reason` and `exiting_slot` are one value for all or one per row. The alliances
    are marked ended now; `AllianceTable.compact()` archives them at the week's end. Raises
    RuntimeError (and changes nothing) if one of them has already ended.
    """
    k = rows.shape[0]
    if k == 0:
        return
    al, events = world.alliances, world.events
    at = _close(
        rows=rows, outcome=_per_row(outcome, k), reason=_per_row(reason, k),
        exiting_slot=_per_row(exiting_slot, k), week=world.week, alliance_id=al.alliance_id,
        active=al.active, phase=al.phase, end_week=al.end_week, outcome_col=al.outcome, reason_col=al.reason,
        exiting_col=al.exiting_slot, member=al.member, firm=al.firm, manager=al.manager,
        firm_alliances=world.firms.active_alliances, manager_load=world.managers.load,
        events=events.buffers(k), at=events.count,
    )  # fmt: skip
    if at < 0:
        raise RuntimeError("an alliance cannot end twice")
    learning.record_partnership(world, rows)
    events.commit(at)


def _per_row(value, k: int) -> np.ndarray:
    if np.ndim(value) == 0:
        return np.full(k, value, dtype=np.int64)
    return np.asarray(value, dtype=np.int64)


@kernel
def _close(
    rows, outcome, reason, exiting_slot, week, alliance_id, active, phase, end_week, outcome_col, reason_col,
    exiting_col, member, firm, manager, firm_alliances, manager_load, events, at,
):  # fmt: skip
    """Mark `rows` ended and free their partners' seats and managers; -1 if one had already ended."""
    for i in range(rows.shape[0]):
        if not active[rows[i]]:
            return -1
    for i in range(rows.shape[0]):
        r = rows[i]
        active[r] = False
        phase[r] = ENDED
        end_week[r] = week
        outcome_col[r] = outcome[i]
        reason_col[r] = reason[i]
        exiting_col[r] = exiting_slot[i]
        for k in range(member.shape[1]):
            if member[r, k]:
                firm_alliances[firm[r, k]] -= 1
                manager_load[manager[r, k]] -= 1
        at = record(events, at, week, alliance_id[r], ENDED_EVENT, -1, outcome[i])
    return at
