"""The event log: what happened to which alliance in which week, in the order it happened.

Events are rows of five growable arrays (week, alliance id, event code, partner slot, value),
appended in the order they happen. Python code appends a batch with
`EventLog.log(week, alliance_ids, name, slot=..., value=...)`; a compiled kernel appends rows one
at a time with `record(...)` into `EventLog.buffers(room)` and hands back the new count through
`EventLog.commit`. Nothing is formatted until `to_frame()`. Each event kind has a code, a name and
the meaning of its `value` column (see EVENT_KINDS).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.compiled import kernel

# name -> meaning of `value`
EVENT_KINDS: dict[str, str] = {
    "formed": "perceived strategic complementarity",
    "phase": "new lifecycle phase (index into sim.state.PHASES)",
    "meeting_in_person": "mean interpersonal trust after the meeting",
    "meeting_virtual": "mean interpersonal trust after the meeting",
    "steering_committee": "open issues the committee faced (before the week's resolution)",
    "issues_raised": "number of issues that came into the open",
    "issue_erupted": "number of hidden issues that erupted into conflict",
    "issues_resolved": "number of issues resolved",
    "issues_escalated": "number of issues escalated",
    "insight_workshop": "complementarity after the workshop",
    "risk_clinic": "mean organisational trust after the clinic",
    "shock": "severity",
    "shock_response": "response index (0 avoid, 1 transfer, 2 mitigate, 3 accept; -1 none agreed)",
    "strategic_drift": "complementarity after the shift",
    "manager_left": "interpersonal trust of the partner's new manager",
    "opportunism_detected": "weeks of opportunism the review found",
    "review": "the partner's satisfaction (realised/expected value and trust)",
    "restructured": "the partner's new expected value per week",
    "exit": "the exiting partner's organisational trust",
    "ended": "outcome index (sim.outcome.OUTCOMES)",
    "trust": "mean organisational trust (sampled at every review)",
}
EVENT_NAMES = tuple(EVENT_KINDS)
EVENT_CODE = {name: i for i, name in enumerate(EVENT_NAMES)}


class EventLog:
    """Append-only log of events, kept as five growable numpy arrays (see the module docstring)."""

    def __init__(self, enabled: bool = True, capacity: int = 4096):
        self.enabled = enabled
        self.count = 0
        self._reserved = 0  # the count a kernel may write up to (set by `buffers`)
        capacity = max(1, capacity)
        self.week = np.zeros(capacity, dtype=np.int64)
        self.alliance_id = np.zeros(capacity, dtype=np.int64)
        self.code = np.zeros(capacity, dtype=np.int16)
        self.slot = np.zeros(capacity, dtype=np.int64)
        self.value = np.zeros(capacity)

    def buffers(self, room: int) -> tuple[np.ndarray, ...]:
        """The five arrays, with room for at least `room` more events after `count`."""
        needed = self._reserved = self.count + room
        if needed > self.week.shape[0]:
            size = max(needed, 2 * self.week.shape[0])
            for name in ("week", "alliance_id", "code", "slot", "value"):
                old = getattr(self, name)
                new = np.zeros(size, dtype=old.dtype)
                new[: self.count] = old[: self.count]
                setattr(self, name, new)
        return (self.week, self.alliance_id, self.code, self.slot, self.value)

    def commit(self, count: int) -> None:
        """Keep what a kernel recorded up to `count` (dropped when the log is disabled)."""
        if count > self._reserved:
            raise RuntimeError(
                f"a kernel recorded {count - self.count} events with room for {self._reserved - self.count}: "
                "the room it asks of EventLog.buffers is too small"
            )
        if self.enabled:
            self.count = int(count)

    def log(self, week: int, alliance_ids, event: str, slot=-1, value=np.nan) -> None:
        if not self.enabled:
            return
        ids = np.asarray(alliance_ids, dtype=np.int64).ravel()
        n = ids.shape[0]
        if n == 0:
            return
        at = slice(self.count, self.count + n)
        buffers = self.buffers(n)
        buffers[0][at] = week
        buffers[1][at] = ids
        buffers[2][at] = EVENT_CODE[event]
        buffers[3][at] = slot
        buffers[4][at] = value
        self.count += n

    def __len__(self) -> int:
        return self.count

    def to_frame(self, slot_firms: np.ndarray | None = None) -> pd.DataFrame:
        """Events as a DataFrame: week, alliance_id, event, partner_id (firm, -1 = whole alliance), value."""
        n = self.count
        if n == 0:
            return pd.DataFrame(
                {
                    "week": pd.Series([], dtype="int64"),
                    "alliance_id": pd.Series([], dtype="int64"),
                    "event": pd.Series([], dtype="str"),
                    "partner_id": pd.Series([], dtype="int64"),
                    "value": pd.Series([], dtype="float64"),
                }
            )
        week, ids, slot, value = self.week[:n], self.alliance_id[:n], self.slot[:n], self.value[:n]
        code = self.code[:n]
        partner = np.full(ids.shape[0], -1, dtype=np.int64)
        if slot_firms is not None:
            has_slot = slot >= 0
            partner[has_slot] = slot_firms[ids[has_slot], slot[has_slot]]
        frame = pd.DataFrame(
            {
                "week": week,
                "alliance_id": ids,
                "event": np.asarray(EVENT_NAMES, dtype=object)[code],
                "partner_id": partner,
                "value": value,
            }
        )
        # stable: within a week, events keep the order the mechanisms ran in
        return frame.sort_values(["week", "alliance_id"], kind="stable").reset_index(drop=True)


@kernel
def record(buffers, at, week, alliance_id, code, slot, value):
    """Write one event at position `at` of `EventLog.buffers(...)`; returns the next position."""
    buffers[0][at] = week
    buffers[1][at] = alliance_id
    buffers[2][at] = code
    buffers[3][at] = slot
    buffers[4][at] = value
    return at + 1
