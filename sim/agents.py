"""The agents: partner firms, their alliance managers, and the alliances between firms.

They are Mesa agents and the readable face of the model: each reads its state from the numpy
tables in `sim.state`, where the vectorised mechanisms update it. Mechanisms never loop over
agents; agents never hold a copy of state that could go stale.
"""

from __future__ import annotations

import mesa

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
        ids = al.active_ids()
        rows, cols = (al.manager[ids] == self.position).nonzero()
        return {int(ids[r]): float(al.trust_ip[ids[r], c]) for r, c in zip(rows, cols)}

    def __repr__(self) -> str:
        return f"Manager(position={self.position}, firm={int(self._t.firm[self.position])})"


class Alliance(mesa.Agent):
    """A strategic alliance of two or more partner firms, from negotiation to its end."""

    def __init__(self, model, alliance_id: int):
        super().__init__(model)
        self.alliance_id = alliance_id  # row in AllianceTable

    @property
    def _t(self):
        return self.model.world.alliances

    @property
    def _slots(self):
        import numpy as np

        return np.flatnonzero(self._t.member[self.alliance_id])

    @property
    def partners(self) -> list[Firm]:
        return [self.model.firms[int(self._t.firm[self.alliance_id, k])] for k in self._slots]

    @property
    def partner_ids(self) -> list[int]:
        return [int(self._t.firm[self.alliance_id, k]) for k in self._slots]

    @property
    def kind(self) -> str:
        return KINDS[self._t.kind[self.alliance_id]]

    @property
    def phase(self) -> str:
        return PHASES[self._t.phase[self.alliance_id]]

    @property
    def governance(self):
        """The governance design the alliance runs under (the scenario's)."""
        return self.model.config.governance

    def _per_partner(self, arr) -> dict[int, float]:
        a = self.alliance_id
        return {int(self._t.firm[a, k]): float(arr[a, k]) for k in self._slots}

    @property
    def trust(self) -> dict[int, float]:
        """Organisational trust of each partner (firm index) in its co-partners."""
        return self._per_partner(self._t.trust_org)

    @property
    def interpersonal_trust(self) -> dict[int, float]:
        return self._per_partner(self._t.trust_ip)

    @property
    def expected_value(self) -> dict[int, float]:
        return self._per_partner(self._t.expected_total)

    @property
    def realized_value(self) -> dict[int, float]:
        return self._per_partner(self._t.realized)

    complementarity = property(lambda self: float(self._t.complementarity[self.alliance_id]))
    familiarity = property(lambda self: float(self._t.familiarity[self.alliance_id]))
    cultural_distance = property(lambda self: float(self._t.cultural_distance[self.alliance_id]))
    open_issues = property(lambda self: int(self._t.open_issues[self.alliance_id]))
    hidden_issues = property(lambda self: int(self._t.hidden_issues[self.alliance_id]))

    @property
    def active(self) -> bool:
        return bool(self._t.active[self.alliance_id])

    @property
    def outcome(self) -> str | None:
        o = self._t.outcome[self.alliance_id]
        return OUTCOMES[o] if o >= 0 else None

    @property
    def reason(self) -> str | None:
        r = self._t.reason[self.alliance_id]
        return REASONS[r] if r >= 0 else None

    @property
    def end_week(self) -> int | None:
        w = int(self._t.end_week[self.alliance_id])
        return w if w >= 0 else None

    def __repr__(self) -> str:
        return f"Alliance({self.alliance_id}, {self.kind}, partners={self.partner_ids}, phase={self.phase})"
