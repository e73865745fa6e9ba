"""The agents: partner firms, their alliance managers, and the alliances between firms.

They are Mesa agents and the readable face of the model: each reads its state from the numpy
tables in `sim.state`, where the mechanisms' compiled kernels update it. Mechanisms never loop
over agents; agents never hold a copy of state that could go stale.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.outcome import OUTCOMES, REASONS
from sim.state import CULTURE_DIMENSIONS, FUNCTION_TYPES, KINDS, PHASES


class Firm(mesa.Agent):
    """A partner firm: its culture, risk tolerance, alliance capability and collaboration policies."""

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = index  # row in FirmTable

    @property
    def _t(self):
        return self.model.world.firms

    @property
    def culture(self) -> dict[str, float]:
        """Culture profile: pace (0 aggressive..1 conservative), decision_style (0 centralised..1
        delegated), formality (0 contract..1 relationship), priority (0 quality..1 speed)."""
        return {d: float(v) for d, v in zip(CULTURE_DIMENSIONS, self._t.culture[self.index])}

    @property
    def risk_tolerance(self) -> float:
        return float(self._t.risk_tolerance[self.index])

    @property
    def alliance_function(self) -> str:
        return FUNCTION_TYPES[self._t.function_type[self.index]]

    @property
    def capability(self) -> float:
        return float(self._t.capability[self.index])

    @property
    def incentives(self) -> dict[str, float]:
        return {
            "formal": float(self._t.incentives_formal[self.index]),
            "informal": float(self._t.incentives_informal[self.index]),
        }

    @property
    def leadership_consistency(self) -> float:
        return float(self._t.leadership_consistency[self.index])

    @property
    def training(self) -> float:
        return float(self._t.training[self.index])

    @property
    def hiring_for_collaboration(self) -> float:
        return float(self._t.hiring_for_collaboration[self.index])

    @property
    def experience_years(self) -> float:
        """General alliance experience, in alliance-years kept by the firm."""
        return float(self._t.experience_years[self.index])

    @property
    def partner_experience(self) -> dict[int, float]:
        """Joint alliance-years with each previous partner (by firm index)."""
        return {g: y for g, (y, _) in self._t.partner_history.get(self.index, {}).items()}

    @property
    def active_alliances(self) -> int:
        return int(self._t.active_alliances[self.index])

    def __repr__(self) -> str:
        return f"Firm({self.index}, function={self.alliance_function}, risk={self.risk_tolerance:.2f})"


class Manager(mesa.Agent):
    """An alliance manager: works for one firm and runs its side of one or more alliances.

    A manager holds a position; when the manager leaves (turnover) the agent is removed and a new
    Manager agent takes the same position.
    """

    def __init__(self, model, position: int):
        super().__init__(model)
        self.position = position  # row in ManagerTable

    @property
    def _t(self):
        return self.model.world.managers

    @property
    def firm(self) -> Firm:
        return self.model.firms[int(self._t.firm[self.position])]

    def _trait(self, name):
        return float(getattr(self._t, name)[self.position])

    skill = property(lambda self: self._trait("skill"), doc="collaboration skill in [0, 1]")
    emotional_intelligence = property(lambda self: self._trait("emotional_intelligence"))
    proactiveness = property(
        lambda self: self._trait("proactiveness"),
        doc="0 a reactive manager ... 1 a proactive leader",
    )
    influence = property(lambda self: self._trait("influence"), doc="influence without authority")

    @property
    def tenure_weeks(self) -> int:
        """Weeks the manager has held the position."""
        return int(self.model.week - max(int(self._t.seated_week[self.position]), 0))

    @property
    def interpersonal_trust(self) -> dict[int, float]:
        """Trust in the counterparts of each alliance this manager runs (by alliance id)."""
        al = self.model.world.alliances
        rows, cols = ((al.manager[: al.n] == self.position) & al.member[: al.n]).nonzero()
        return {int(al.alliance_id[r]): float(al.trust_ip[r, c]) for r, c in zip(rows, cols)}

    def __repr__(self) -> str:
        return f"Manager(position={self.position}, firm={int(self._t.firm[self.position])})"


class Alliance(mesa.Agent):
    """A strategic alliance of two or more partner firms, from negotiation to its end."""

    def __init__(self, model, alliance_id: int):
        super().__init__(model)
        self.alliance_id = alliance_id  # stable id (order of formation); rows move, ids do not

    @property
    def _loc(self):
        """(table, row) holding this alliance's state now (rows move as alliances end)."""
        return self.model.world.alliances.locate(self.alliance_id)

    def _get(self, name: str):
        table, row = self._loc
        return getattr(table, name)[row]

    @property
    def _slots(self):
        return np.flatnonzero(self._get("member"))

    @property
    def partner_ids(self) -> list[int]:
        return [int(f) for f in self._get("firm")[self._slots]]

    @property
    def partners(self) -> list[Firm]:
        return [self.model.firms[f] for f in self.partner_ids]

    @property
    def kind(self) -> str:
        return KINDS[self._get("kind")]

    @property
    def phase(self) -> str:
        return PHASES[self._get("phase")]

    @property
    def governance(self):
        """The governance design the alliance runs under (the scenario's)."""
        return self.model.config.governance

    def _per_partner(self, name: str) -> dict[int, float]:
        values = self._get(name)
        return {f: float(values[k]) for f, k in zip(self.partner_ids, self._slots)}

    @property
    def trust(self) -> dict[int, float]:
        """Organisational trust of each partner (firm index) in its co-partners."""
        return self._per_partner("trust_org")

    @property
    def interpersonal_trust(self) -> dict[int, float]:
        """Trust of each partner's manager in the counterpart managers."""
        return self._per_partner("trust_ip")

    @property
    def expected_value(self) -> dict[int, float]:
        """Each partner's objective: the value it expects over the term."""
        return self._per_partner("expected_total")

    @property
    def realized_value(self) -> dict[int, float]:
        return self._per_partner("realized")

    complementarity = property(lambda self: float(self._get("complementarity")))
    familiarity = property(lambda self: float(self._get("familiarity")))
    cultural_distance = property(lambda self: float(self._get("cultural_distance")))
    open_issues = property(lambda self: int(self._get("open_issues")))
    hidden_issues = property(lambda self: int(self._get("hidden_issues")))
    active = property(lambda self: bool(self._get("active")))

    @property
    def outcome(self) -> str | None:
        o = self._get("outcome")
        return OUTCOMES[o] if o >= 0 else None

    @property
    def reason(self) -> str | None:
        r = self._get("reason")
        return REASONS[r] if r >= 0 else None

    @property
    def end_week(self) -> int | None:
        w = int(self._get("end_week"))
        return w if w >= 0 else None

    def __repr__(self) -> str:
        return f"Alliance({self.alliance_id}, {self.kind}, partners={self.partner_ids}, phase={self.phase})"
