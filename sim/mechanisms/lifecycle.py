"""Submodel lifecycle: the phases an alliance goes through, and how it ends.

negotiate (`formation.negotiate_weeks`) -> invest (`formation.invest_weeks`) -> operate, with
restructure (`reviews.restructure_weeks`) as a detour back to operate, and ended at the close.
Meetings, friction, trust and shocks run in every phase; effort and investment from invest on;
value is created while operating (and, reduced, while restructuring); reviews judge value only
in operate after `reviews.grace_weeks`.

`end(...)` is the only way an alliance ends: it records outcome, reason and week once, frees the
partners' seats and managers, and banks the partnership's history (submodel learning).
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms import learning
from sim.state import ENDED, INVEST, NEGOTIATE, OPERATE, RESTRUCTURE


def next_phase(phase: np.ndarray) -> np.ndarray:
    """Phase after a timed phase ends: negotiate -> invest -> operate; restructure -> operate."""
    return np.where(phase == NEGOTIATE, INVEST, OPERATE).astype(np.int8)


def apply(world) -> None:
    """Advance timed phases that are over; count operating weeks."""
    al, fm, week, n = world.alliances, world.scenario.formation, world.week, world.n
    if n == 0:
        return
    for _ in range(2):  # a zero-length invest phase passes straight to operate
        phase = al.phase[:n]
        timed = (phase == NEGOTIATE) | (phase == INVEST) | (phase == RESTRUCTURE)
        rows = np.flatnonzero(timed & (week >= al.phase_until[:n]))
        if rows.size == 0:
            break
        new = next_phase(al.phase[rows])
        al.phase[rows] = new
        al.phase_until[rows] = np.where(new == INVEST, week + fm.invest_weeks, al.phase_until[rows])
        back = rows[new == OPERATE]
        al.operate_weeks[back] = 0
        al.realized_operating[back] = 0.0
        world.events.log(week, world.ids(rows), "phase", value=new)
    al.operate_weeks[:n] += al.phase[:n] == OPERATE


def end(world, rows: np.ndarray, outcome, reason=-1, exiting_slot=-1) -> None:
    """End the alliances in `rows` with `outcome` (and `reason`, `exiting_slot` for failures).

    The alliances are marked ended now; `AllianceTable.compact()` archives them at the week's end.
    """
    if rows.size == 0:
        return
    al = world.alliances
    if not al.active[rows].all():
        raise RuntimeError("an alliance cannot end twice")
    al.active[rows] = False
    al.phase[rows] = ENDED
    al.end_week[rows] = world.week
    al.outcome[rows] = outcome
    al.reason[rows] = reason
    al.exiting_slot[rows] = exiting_slot
    member = al.member[rows]
    firms = world.firms.active_alliances
    firms -= np.bincount(al.firm[rows][member], minlength=firms.shape[0])
    load = world.managers.load
    load -= np.bincount(al.manager[rows][member], minlength=load.shape[0])
    learning.record_partnership(world, rows)
    world.events.log(world.week, world.ids(rows), "ended", value=np.broadcast_to(outcome, rows.shape))
