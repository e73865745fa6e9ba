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


def apply(world, ids: np.ndarray) -> None:
    """Advance timed phases that are over; count operating weeks."""
    if ids.size == 0:
        return
    al, fm, week = world.alliances, world.scenario.formation, world.week
    for _ in range(2):  # a zero-length invest phase passes straight to operate
        phase = al.phase[ids]
        timed = (phase == NEGOTIATE) | (phase == INVEST) | (phase == RESTRUCTURE)
        over = timed & (week >= al.phase_until[ids])
        if not over.any():
            break
        o = ids[over]
        new = next_phase(al.phase[o])
        al.phase[o] = new
        al.phase_until[o] = np.where(new == INVEST, week + fm.invest_weeks, al.phase_until[o])
        back = new == OPERATE
        al.operate_weeks[o[back]] = 0
        al.realized_operating[o[back]] = 0.0
        world.events.log(week, o, "phase", value=new)
    operating = ids[al.phase[ids] == OPERATE]
    al.operate_weeks[operating] += 1


def end(world, ids: np.ndarray, outcome, reason=-1, exiting_slot=-1) -> None:
    """End the alliances `ids` with `outcome` (and `reason`, `exiting_slot` for failures)."""
    if ids.size == 0:
        return
    al = world.alliances
    if not al.active[ids].all():
        raise RuntimeError("an alliance cannot end twice")
    al.active[ids] = False
    al.phase[ids] = ENDED
    al.end_week[ids] = world.week
    al.outcome[ids] = outcome
    al.reason[ids] = reason
    al.exiting_slot[ids] = exiting_slot
    member = al.member[ids]
    np.add.at(world.firms.active_alliances, al.firm[ids][member], -1)
    np.add.at(world.managers.load, al.manager[ids][member], -1)
    learning.record_partnership(world, ids)
    world.events.log(world.week, ids, "ended", value=np.broadcast_to(outcome, ids.shape))
