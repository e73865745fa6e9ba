"""The World: everything a submodel reads and updates, handed to each in turn every week.

Submodels work on the running alliances, rows [0, n) of `alliances` (see sim.state). Within a
week n is fixed: alliances that end are only marked until `alliances.compact()` near the end of
the week, and formation (ongoing mode) adds rows after that, for the next week.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.compiled import constants, formula
from sim.events import EventLog
from sim.randomness import Streams
from sim.schema import Scenario
from sim.state import AllianceTable, FirmTable, ManagerTable

SLOT_STRIDE = 8  # slot draws are keyed alliance_id * 8 + slot (8 = most partners allowed)


@formula
def slot_entity(alliance_id, slot):
    """The entity id under which a partner slot of an alliance draws its random numbers."""
    return alliance_id * SLOT_STRIDE + slot


class Constants:
    """The scenario's coefficients as one-row record arrays, the form kernels take (sim.compiled).

    One attribute per coefficient section (`friction`, `trust`, ...); other settings reach kernels
    as plain arguments.
    """

    def __init__(self, scenario: Scenario):
        for name in type(scenario.coefficients).model_fields:
            setattr(self, name, constants(getattr(scenario.coefficients, name)))


@dataclass
class World:
    """The run's scenario, random streams, state tables and event log."""

    scenario: Scenario
    streams: Streams
    firms: FirmTable
    managers: ManagerTable | None
    alliances: AllianceTable
    events: EventLog
    week: int = 0
    # this week's meetings, per running row: written for every row by submodel meetings, read by
    # submodel resolution (whether the row meets, and the share of hidden issues the meeting surfaces)
    meeting_today: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    meeting_surface: np.ndarray = field(default_factory=lambda: np.zeros(0))
    const: Constants = field(init=False)

    def __post_init__(self) -> None:
        self.const = Constants(self.scenario)

    @property
    def coef(self):
        return self.scenario.coefficients

    @property
    def n(self) -> int:
        """Number of running alliance rows this week."""
        return self.alliances.n

    def ids(self, rows=None) -> np.ndarray:
        """Alliance ids of `rows` (all running rows if None)."""
        al = self.alliances
        return al.alliance_id[: al.n] if rows is None else al.alliance_id[rows]

    def slot_ids(self, rows=None) -> np.ndarray:
        """Keys of partner slots for random draws (n x slots)."""
        ids = self.ids(rows)
        return slot_entity(ids[:, None], np.arange(self.alliances.max_partners)[None, :])

    def begin_week(self) -> None:
        """Make room for this week's per-row working values (the meeting flags) for every running row."""
        if self.meeting_today.shape[0] < self.n:
            size = max(self.n, 2 * self.meeting_today.shape[0])
            self.meeting_today = np.zeros(size, dtype=bool)
            self.meeting_surface = np.zeros(size)

    def meeting_flags(self) -> tuple[np.ndarray, np.ndarray]:
        """This week's meeting flags, checked to cover every running row (kernels do not check)."""
        if self.meeting_today.shape[0] < self.n:
            raise RuntimeError("the meeting flags cover fewer rows than are running: call begin_week() first")
        return self.meeting_today, self.meeting_surface
