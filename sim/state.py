"""The model's per-week state, held in numpy arrays so every mechanism is vectorised over alliances.

Three tables, one per entity kind:

* `FirmTable` - one row per firm (index = firm id).
* `ManagerTable` - one row per manager *position*; a position is a seat a firm keeps filled,
  its holder changes when a manager leaves (turnover). Positions of firm f are
  f * per_firm ... f * per_firm + per_firm - 1.
* `AllianceTable` - one row per alliance (index = alliance id) and, for partner-level state, one
  column per partner slot (shape alliances x max_partners; `member` says which slots are used, so
  dyads and multi-partner alliances share one layout).

The Mesa agents in `sim/agents.py` are the readable identities on top of these tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

N_CULTURE_DIMS = 4
CULTURE_DIMENSIONS = (
    "pace",  # 0 aggressive ... 1 conservative
    "decision_style",  # 0 centralised ... 1 delegated
    "formality",  # 0 contract ... 1 relationship
    "priority",  # 0 quality ... 1 speed
)

PHASES = ("negotiate", "invest", "operate", "restructure", "ended")
NEGOTIATE, INVEST, OPERATE, RESTRUCTURE, ENDED = range(5)
KINDS = ("vertical", "horizontal")
FUNCTION_TYPES = ("none", "central_function", "center_of_excellence", "community_of_practice")


@dataclass
class FirmTable:
    """State of every firm."""

    culture: np.ndarray  # (F, 4) in [0, 1], dimensions CULTURE_DIMENSIONS
    risk_tolerance: np.ndarray  # (F,) in [0, 1]
    function_type: np.ndarray  # (F,) int8 index into FUNCTION_TYPES
    incentives_formal: np.ndarray  # (F,)
    incentives_informal: np.ndarray  # (F,)
    leadership_consistency: np.ndarray  # (F,)
    training: np.ndarray  # (F,)
    hiring_for_collaboration: np.ndarray  # (F,)
    opportunism_propensity: np.ndarray  # (F,)
    experience_years: np.ndarray  # (F,) general alliance experience, alliance-years (learned)
    capability: np.ndarray  # (F,) alliance capability in [0, 1] (from experience and function)
    active_alliances: np.ndarray  # (F,) int, alliances the firm is in now
    # partner-specific history: firm -> {partner firm: (joint alliance-years, trust at last end)}
    partner_history: dict = field(default_factory=dict)

    @property
    def count(self) -> int:
        return self.risk_tolerance.shape[0]


@dataclass
class ManagerTable:
    """State of every manager position and its current holder."""

    firm: np.ndarray  # (M,) int, employer
    skill: np.ndarray  # (M,) collaboration skill
    emotional_intelligence: np.ndarray  # (M,)
    proactiveness: np.ndarray  # (M,) 0 reactive manager ... 1 proactive leader
    influence: np.ndarray  # (M,) influence without authority
    seated_week: np.ndarray  # (M,) int, week the current holder took the position (-1: at the start)
    departure_week: np.ndarray  # (M,) int, week the current holder will leave (drawn when seated)
    holder: np.ndarray  # (M,) int, how many holders the position has had (0 = the first)
    load: np.ndarray  # (M,) int, alliance sides the position runs now

    @property
    def count(self) -> int:
        return self.firm.shape[0]


_ALLIANCE_FIELDS = {
    # per alliance: name -> (dtype, fill)
    "active": (np.bool_, False),
    "phase": (np.int8, NEGOTIATE),
    "kind": (np.int8, 0),
    "n_partners": (np.int8, 0),
    "top_down": (np.bool_, False),
    "start_week": (np.int32, -1),
    "term_weeks": (np.int32, 0),
    "phase_until": (np.int32, 0),  # week the current timed phase ends
    "end_week": (np.int32, -1),
    "outcome": (np.int8, -1),  # index into sim.outcome.OUTCOMES, -1 while running
    "reason": (np.int8, -1),  # index into sim.outcome.REASONS, -1 if none
    "exiting_slot": (np.int8, -1),
    "complementarity": (np.float64, 0.0),  # actual
    "perceived_complementarity": (np.float64, 0.0),  # what expectations were built on
    "cultural_distance": (np.float64, 0.0),  # Kogut-Singh index between the partners
    "risk_mismatch": (np.float64, 0.0),  # max - min risk tolerance among the partners
    "familiarity": (np.float64, 0.0),
    "hidden_issues": (np.int64, 0),
    "open_issues": (np.int64, 0),
    "open_age": (np.float64, 0.0),  # mean age of open issues, weeks
    "meetings_held": (np.int32, 0),
    "operate_weeks": (np.int32, 0),  # operating weeks since launch or the last restructuring
    "restructures": (np.int32, 0),
    "clinic_coverage": (np.float64, 0.0),  # how current the agreed risk responses are, [0, 1]
    "drift_week": (np.int32, -(10**6)),  # week of the last strategic shift by a shock
    # counters for outcomes and stories
    "issues_raised": (np.int32, 0),
    "issues_resolved": (np.int32, 0),
    "shocks": (np.int32, 0),
    "manager_changes": (np.int32, 0),
    "betrayals": (np.int32, 0),
}

_SLOT_FIELDS = {
    # per alliance x partner slot
    "member": (np.bool_, False),
    "firm": (np.int64, -1),
    "manager": (np.int64, -1),
    "trust_org": (np.float64, 0.0),  # this partner's organisational trust in its co-partners
    "trust_ip": (np.float64, 0.0),  # this partner's manager's trust in the counterpart managers
    "trust_ceiling": (np.float64, 1.0),
    "effort": (np.float64, 0.0),
    "opportunistic": (np.bool_, False),  # acted opportunistically this week
    "undetected_weeks": (np.int32, 0),  # weeks of opportunism since the last review
    "betrayed_week": (np.int32, -(10**6)),  # last week this partner found itself betrayed
    "expected_rate": (np.float64, 0.0),  # expected value per operating week
    "expected_total": (np.float64, 0.0),  # objective over the whole term (value units)
    "realized": (np.float64, 0.0),  # realised value so far, net of costs
    "realized_operating": (np.float64, 0.0),  # since launch or the last restructuring
}


class AllianceTable:
    """State of every alliance ever formed; grows as formation adds alliances."""

    def __init__(self, max_partners: int, capacity: int = 64):
        self.max_partners = int(max_partners)
        self.size = 0
        self._capacity = 0
        for name, (dtype, fill) in _ALLIANCE_FIELDS.items():
            setattr(self, name, np.full(0, fill, dtype=dtype))
        for name, (dtype, fill) in _SLOT_FIELDS.items():
            setattr(self, name, np.full((0, self.max_partners), fill, dtype=dtype))
        self._grow(max(1, capacity))

    def _grow(self, capacity: int) -> None:
        for name, (dtype, fill) in _ALLIANCE_FIELDS.items():
            old = getattr(self, name)
            new = np.full(capacity, fill, dtype=dtype)
            new[: old.shape[0]] = old
            setattr(self, name, new)
        for name, (dtype, fill) in _SLOT_FIELDS.items():
            old = getattr(self, name)
            new = np.full((capacity, self.max_partners), fill, dtype=dtype)
            new[: old.shape[0]] = old
            setattr(self, name, new)
        self._capacity = capacity

    def add(self, n: int) -> np.ndarray:
        """Reserve `n` new alliance rows and return their ids."""
        if self.size + n > self._capacity:
            self._grow(max(2 * self._capacity, self.size + n))
        ids = np.arange(self.size, self.size + n)
        self.size += n
        return ids

    def active_ids(self) -> np.ndarray:
        return np.flatnonzero(self.active[: self.size])

    @staticmethod
    def slot_mean(values: np.ndarray, member: np.ndarray) -> np.ndarray:
        """Mean over the used partner slots of each row."""
        counts = member.sum(axis=1)
        return np.where(member, values, 0.0).sum(axis=1) / np.maximum(counts, 1)

    @staticmethod
    def slot_min(values: np.ndarray, member: np.ndarray) -> np.ndarray:
        return np.where(member, values, np.inf).min(axis=1)
