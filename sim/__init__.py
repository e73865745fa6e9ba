"""alliance-sim's model: partner firms, their alliance managers and the alliances between them.

from sim import AllianceModel, load_scenario
model = AllianceModel(load_scenario("configs/baseline.yaml"), rng=1).run()
model.outcomes()
"""

from sim.agents import Alliance, Firm, Manager
from sim.model import AllianceModel
from sim.outcome import OUTCOMES, REASONS
from sim.scenario import ScenarioError, build_scenario, load_scenario, parse_assignment
from sim.schema import Scenario

__all__ = [
    "Alliance",
    "AllianceModel",
    "Firm",
    "Manager",
    "OUTCOMES",
    "REASONS",
    "Scenario",
    "ScenarioError",
    "build_scenario",
    "load_scenario",
    "parse_assignment",
]
