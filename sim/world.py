"""The World: everything a submodel reads and updates, handed to each in turn every week.

Submodels work on the running alliances, rows [0, n) of `alliances` (see sim.state). Within a
week n is fixed: alliances that end are only marked until `alliances.compact()` near the end of
the week, and formation (ongoing mode) adds rows after that, for the next week.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.compiled import constants
from sim.events import EventLog
from sim.mechanisms import resolution
from sim.randomness import Streams
from sim.schema import Scenario
from sim.state import AllianceTable, FirmTable, ManagerTable

SLOT_STRIDE = 8  # slot draws are keyed alliance_id * 8 + slot (8 = most partners allowed)


@dataclass
class Team:
    """This week's traits of the people and firms on each side of each running alliance (n x slots)."""

    skill: np.ndarray
    emotional_intelligence: np.ndarray
    proactiveness: np.ndarray
    influence: np.ndarray
    capability: np.ndarray
    score: np.ndarray  # (n,) their part of the issue-resolution score (submodel resolution)


class Constants:
    """The scenario's numeric settings as NamedTuples, the form kernels read (sim.compiled).

    One attribute per coefficient section (`friction`, `trust`, ...) and per scenario section
    the submodels read (`governance`, `environment`, `formation`, `managers`).
    """

    def __init__(self, scenario: Scenario):
        for name in type(scenario.coefficients).model_fields:
            setattr(self, name, constants(getattr(scenario.coefficients, name)))
        for name in ("governance", "environment", "formation", "managers"):
            setattr(self, name, constants(getattr(scenario, name)))


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
    team: Team | None = field(default=None)
    # this week's meetings (set by submodel meetings, read by submodel resolution), per running row
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
        return ids[:, None] * SLOT_STRIDE + np.arange(self.alliances.max_partners)[None, :]

    def refresh_team(self) -> None:
        """Start a week: gather manager traits and firm capability per slot; no meetings yet."""
        al, mgr, n = self.alliances, self.managers, self.alliances.n
        member = al.member[:n]
        m_index = np.where(member, al.manager[:n], 0)
        f_index = np.where(member, al.firm[:n], 0)
        team = Team(
            skill=mgr.skill[m_index],
            emotional_intelligence=mgr.emotional_intelligence[m_index],
            proactiveness=mgr.proactiveness[m_index],
            influence=mgr.influence[m_index],
            capability=self.firms.capability[f_index],
            score=np.zeros(n),
        )
        team.score = resolution.team_score(team, member, self.coef.resolution)
        self.team = team
        self.meeting_today = np.zeros(n, dtype=bool)
        self.meeting_surface = np.zeros(n)
