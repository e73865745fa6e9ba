"""The World: everything a mechanism needs to read and update, handed to each submodel in turn."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.events import EventLog
from sim.randomness import Streams
from sim.schema import Scenario
from sim.state import AllianceTable, FirmTable, ManagerTable


@dataclass
class World:
    """The run's scenario, random streams, state tables and event log."""

    scenario: Scenario
    streams: Streams
    firms: FirmTable
    managers: ManagerTable
    alliances: AllianceTable
    events: EventLog
    week: int = 0

    @property
    def coef(self):
        return self.scenario.coefficients

    def team_trait(self, ids: np.ndarray, trait: np.ndarray) -> np.ndarray:
        """Mean over each alliance's partners of a manager trait (ids: alliance ids)."""
        al = self.alliances
        member = al.member[ids]
        values = trait[np.where(member, al.manager[ids], 0)]
        return al.slot_mean(values, member)

    def slot_trait(self, ids: np.ndarray, trait: np.ndarray, table: str = "manager") -> np.ndarray:
        """A manager or firm trait per partner slot (alliances x slots); unused slots read row 0."""
        al = self.alliances
        index = al.manager[ids] if table == "manager" else al.firm[ids]
        return trait[np.where(al.member[ids], index, 0)]
