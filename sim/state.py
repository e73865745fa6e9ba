"""The model's per-week state, held in numpy arrays that each submodel's compiled kernel updates in place.

Three tables, one per entity kind:

* `FirmTable` - one row per firm (index = firm id).
* `ManagerTable` - one row per manager *position*; a position is a seat a firm keeps filled,
  its holder changes when a manager leaves (turnover). Positions of firm f are
  f * per_firm ... f * per_firm + per_firm - 1.
* `AllianceTable` - one row per running alliance, packed in rows [0, n), and an `archive` of
  those that ended; for partner-level state, one column per partner slot (shape alliances x
  max_partners; `member` says which slots are used, so dyads and multi-partner alliances share
  one layout). `alliance_id` is the stable identity; rows move as alliances end.

The Mesa agents in `sim/agents.py` are the readable identities on top of these tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.compiled import formula, kernel

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


@formula
def by_function_type(function_type, none, central_function, center_of_excellence, community_of_practice):
    """The value for each alliance function type (an index into FUNCTION_TYPES; arrays or scalars)."""
    return (
        none * (function_type == 0)
        + central_function * (function_type == 1)
        + center_of_excellence * (function_type == 2)
        + community_of_practice * (function_type == 3)
    )


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
    "alliance_id": (np.int64, -1),  # order of formation; stable while rows move
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
    "potential": (np.float64, 1.0),  # luck: multiplies the value it creates (mean 1, unknown to partners)
    "cultural_distance": (np.float64, 0.0),  # Kogut-Singh index between the partners
    "risk_mismatch": (np.float64, 0.0),  # max - min risk tolerance among the partners
    "familiarity": (np.float64, 0.0),
    "hidden_issues": (np.int64, 0),
    "open_issues": (np.int64, 0),
    "open_age": (np.float64, 0.0),  # mean age of open issues, weeks
    "meetings_held": (np.int32, 0),
    "operate_weeks": (np.int32, 0),  # weeks since the alliance last entered operate
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
    "realized_operating": (np.float64, 0.0),  # realised since it last entered operate
    # the partner's accounts: realized = value_created - governance_cost - other_cost
    "value_created": (np.float64, 0.0),  # its shares of the joint value (after appropriation)
    "governance_cost": (np.float64, 0.0),  # what governing the alliance has cost it (every lever)
    "other_cost": (np.float64, 0.0),  # investment, running effort and shock losses
    # the firm's traits that never change during a run, copied at launch for speed
    "incentives": (np.float64, 0.0),  # incentive index (formal and informal combined)
    "consistency": (np.float64, 0.0),  # leadership consistency
    "risk_tolerance": (np.float64, 0.0),
    "propensity": (np.float64, 0.0),  # opportunism propensity
}
COLUMN_NAMES = (*_ALLIANCE_FIELDS, *_SLOT_FIELDS)


# Reductions over the (few) partner slots of each row. numpy's axis=1 reductions are slow for an
# inner dimension of 2 or 3, so these add the slot columns one by one.


def slot_sum(values: np.ndarray) -> np.ndarray:
    """Sum over slots (values of unused slots must already be 0)."""
    total = values[:, 0].astype(np.float64 if values.dtype == np.bool_ else values.dtype, copy=True)
    for k in range(1, values.shape[1]):
        total += values[:, k]
    return total


def slot_min(values: np.ndarray) -> np.ndarray:
    """Minimum over slots (give unused slots +inf)."""
    out = values[:, 0].copy()
    for k in range(1, values.shape[1]):
        np.minimum(out, values[:, k], out=out)
    return out


def slot_max(values: np.ndarray) -> np.ndarray:
    """Maximum over slots (give unused slots -inf)."""
    out = values[:, 0].copy()
    for k in range(1, values.shape[1]):
        np.maximum(out, values[:, k], out=out)
    return out


def slot_all(flags: np.ndarray) -> np.ndarray:
    out = flags[:, 0].copy()
    for k in range(1, flags.shape[1]):
        out &= flags[:, k]
    return out


@kernel
def _copy_rows_1d(source, target, from_rows, to_rows):
    for column in range(len(source)):
        src, dst = source[column], target[column]
        for i in range(from_rows.shape[0]):
            dst[to_rows[i]] = src[from_rows[i]]


@kernel
def _copy_rows_2d(source, target, from_rows, to_rows):
    for column in range(len(source)):
        src, dst = source[column], target[column]
        for i in range(from_rows.shape[0]):
            for k in range(src.shape[1]):
                dst[to_rows[i], k] = src[from_rows[i], k]


class _Columns:
    """A growable set of named columns: per-alliance vectors and per-slot matrices."""

    def __init__(self, max_partners: int, capacity: int):
        self.max_partners = int(max_partners)
        self.n = 0
        self._capacity = 0
        for name, (dtype, fill) in _ALLIANCE_FIELDS.items():
            setattr(self, name, np.full(0, fill, dtype=dtype))
        for name, (dtype, fill) in _SLOT_FIELDS.items():
            setattr(self, name, np.full((0, self.max_partners), fill, dtype=dtype))
        self._reserve(max(1, capacity))

    def _reserve(self, needed: int) -> None:
        if needed <= self._capacity:
            return
        capacity = max(needed, 2 * self._capacity)
        for fields, shape in ((_ALLIANCE_FIELDS, ()), (_SLOT_FIELDS, (self.max_partners,))):
            for name, (dtype, fill) in fields.items():
                old = getattr(self, name)
                new = np.full((capacity, *shape), fill, dtype=dtype)
                new[: old.shape[0]] = old
                setattr(self, name, new)
        self._capacity = capacity
        self._groups = None

    def column_groups(self) -> list[tuple[np.ndarray, ...]]:
        """Every column, grouped by dtype and shape in COLUMN_NAMES order (for moving rows in bulk)."""
        if self._groups is None:
            groups: dict[tuple, list[np.ndarray]] = {}
            for name in COLUMN_NAMES:
                arr = getattr(self, name)
                groups.setdefault((arr.dtype.str, arr.ndim), []).append(arr)
            self._groups = [tuple(arrays) for arrays in groups.values()]
        return self._groups

    def copy_rows(self, source: _Columns, from_rows: np.ndarray, to_rows: np.ndarray) -> None:
        """Copy every column of `source`'s `from_rows` into this table's `to_rows`."""
        for src, dst in zip(source.column_groups(), self.column_groups(), strict=True):
            if src[0].ndim == 2:
                _copy_rows_2d(source=src, target=dst, from_rows=from_rows, to_rows=to_rows)
            else:
                _copy_rows_1d(source=src, target=dst, from_rows=from_rows, to_rows=to_rows)

    @staticmethod
    def slot_mean(values: np.ndarray, member: np.ndarray) -> np.ndarray:
        """Mean over the used partner slots of each row."""
        if member.shape[1] == 2:  # two slots: every alliance has both partners
            return (values[:, 0] + values[:, 1]) * 0.5
        return slot_sum(values * member) / np.maximum(slot_sum(member), 1)

    def append_rows(self, source: _Columns, rows: np.ndarray) -> np.ndarray:
        """Copy `rows` of `source` to the end of this table; return their new row numbers."""
        k = rows.shape[0]
        self._reserve(self.n + k)
        new = np.arange(self.n, self.n + k)
        self.copy_rows(source, rows, new)
        self.n += k
        return new


class AllianceTable(_Columns):
    """The alliances: those running in rows [0, n), those that ended in `archive`.

    Running alliances are kept packed at the top of the arrays, so a mechanism works on the
    slice [:n] without gathering. Ending an alliance only marks it (`active` False); at the end of
    the week `compact()` moves the ended rows to the append-only `archive` and fills their places
    with the last running rows. Row numbers therefore change; `alliance_id` (the order of
    formation) does not, and it is what random streams, events and agents use.
    """

    def __init__(self, max_partners: int, capacity: int = 64):
        super().__init__(max_partners, capacity)
        self.archive = _Columns(max_partners, capacity)
        self.formed = 0  # alliances ever formed = the next alliance id
        self._row_of = np.full(max(1, capacity), -1, dtype=np.int64)  # id -> running row or -1
        self._archive_row_of = np.full(max(1, capacity), -1, dtype=np.int64)

    def add(self, k: int) -> np.ndarray:
        """Open `k` rows for new alliances; return the rows (their ids are in `alliance_id`)."""
        self._reserve(self.n + k)
        rows = np.arange(self.n, self.n + k)
        ids = np.arange(self.formed, self.formed + k)
        for name, (_, fill) in _ALLIANCE_FIELDS.items():
            getattr(self, name)[rows] = fill
        for name, (_, fill) in _SLOT_FIELDS.items():
            getattr(self, name)[rows] = fill
        self.alliance_id[rows] = ids
        if self.formed + k > self._row_of.shape[0]:
            grow = max(self.formed + k, 2 * self._row_of.shape[0])
            self._row_of = np.concatenate([self._row_of, np.full(grow - self._row_of.shape[0], -1)])
            self._archive_row_of = np.concatenate(
                [self._archive_row_of, np.full(grow - self._archive_row_of.shape[0], -1)]
            )
        self._row_of[ids] = rows
        self.n += k
        self.formed += k
        return rows

    def compact(self) -> None:
        """Archive the alliances that ended this week and pack the running ones at the top."""
        n = self.n
        ended = np.flatnonzero(~self.active[:n])
        k = ended.shape[0]
        if k == 0:
            return
        ids = self.alliance_id[ended]
        self._archive_row_of[ids] = self.archive.append_rows(self, ended)
        self._row_of[ids] = -1
        # swap-remove: running rows from the tail fill the holes left above the new end
        holes = ended[ended < n - k]
        tail = np.arange(n - k, n)
        movers = tail[self.active[n - k : n]]
        if holes.shape[0]:
            self.copy_rows(self, movers, holes)
            self._row_of[self.alliance_id[holes]] = holes
        self.n = n - k

    def locate(self, alliance_id: int) -> tuple[_Columns, int]:
        """Where an alliance's state is now: (self, row) while it runs, else (archive, row)."""
        if not 0 <= alliance_id < self.formed:
            raise KeyError(f"no alliance with id {alliance_id}")
        row = int(self._row_of[alliance_id])
        if row >= 0:
            return self, row
        return self.archive, int(self._archive_row_of[alliance_id])

    def by_id(self, name: str) -> np.ndarray:
        """A column for every alliance ever formed, indexed by alliance id (running and ended)."""
        live, ended = getattr(self, name)[: self.n], getattr(self.archive, name)[: self.archive.n]
        out = np.empty((self.formed, *live.shape[1:]), dtype=live.dtype)
        out[self.alliance_id[: self.n]] = live
        out[self.archive.alliance_id[: self.archive.n]] = ended
        return out
