"""The event log: what happened to which alliance in which week, recorded in vectorised batches.

Mechanisms call `EventLog.log(week, alliance_ids, code, slot=..., value=...)` once per kind of
event per week with arrays; nothing is formatted until `to_frame()`. Each event kind has a code,
a name and the meaning of its `value` column (see EVENT_KINDS).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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
    """Append-only log of events, kept as chunks of numpy arrays."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self._chunks: list[tuple[np.ndarray, ...]] = []

    def log(self, week: int, alliance_ids, event: str, slot=-1, value=np.nan) -> None:
        if not self.enabled:
            return
        ids = np.asarray(alliance_ids, dtype=np.int64).ravel()
        n = ids.shape[0]
        if n == 0:
            return
        code = EVENT_CODE[event]
        slot_arr = np.full(n, slot, dtype=np.int64) if np.isscalar(slot) else np.asarray(slot, dtype=np.int64)
        value_arr = (
            np.full(n, value, dtype=np.float64) if np.isscalar(value) else np.asarray(value, dtype=np.float64)
        )
        self._chunks.append((week, ids, code, slot_arr, value_arr))

    def __len__(self) -> int:
        return sum(c[1].shape[0] for c in self._chunks)

    def to_frame(self, slot_firms: np.ndarray | None = None) -> pd.DataFrame:
        """Events as a DataFrame: week, alliance_id, event, partner_id (firm, -1 = whole alliance), value."""
        if not self._chunks:
            return pd.DataFrame(
                {
                    "week": pd.Series([], dtype="int64"),
                    "alliance_id": pd.Series([], dtype="int64"),
                    "event": pd.Series([], dtype="str"),
                    "partner_id": pd.Series([], dtype="int64"),
                    "value": pd.Series([], dtype="float64"),
                }
            )
        sizes = [c[1].shape[0] for c in self._chunks]
        week = np.repeat(np.array([c[0] for c in self._chunks], dtype=np.int64), sizes)
        code = np.repeat(np.array([c[2] for c in self._chunks], dtype=np.int16), sizes)
        ids, slot, value = (np.concatenate([c[i] for c in self._chunks]) for i in (1, 3, 4))
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
