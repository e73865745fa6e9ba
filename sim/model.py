"""AllianceModel: wires the population, the submodels and the outputs together (a Mesa model).

One step is one week; a run ends at the horizon or, in cohort mode, as soon as every alliance
has ended (nothing is left to happen). The order of submodels within a week is fixed (docs/ODD.md section 3):

    lifecycle -> turnover -> shocks -> friction -> meetings (+ resolution at meetings)
    -> resolution between meetings -> trust -> contribution -> value -> costs -> learning -> reviews
    -> end-of-week checks (trust collapse, planned term) -> archive ended alliances
    -> formation (ongoing mode; new alliances start the next week, as a cohort formed at week 0
    starts in week 1) -> observation

Usage::

    model = AllianceModel(rng=42)                                   # baseline defaults
    model = AllianceModel("configs/baseline.yaml", rng=1, governance__meeting_interval_weeks=2)
    model.run()
    model.outcomes(); model.timeseries(); model.events()
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import mesa
import numpy as np
import pandas as pd

from sim import outcome as oc
from sim.agents import Alliance, Firm, Manager
from sim.events import EventLog
from sim.mechanisms import (
    contribution,
    costs,
    formation,
    friction,
    learning,
    lifecycle,
    meetings,
    resolution,
    reviews,
    shocks,
    trust,
    turnover,
    value,
)
from sim.population import make_firms, make_managers
from sim.randomness import Streams, seed_entropy
from sim.scenario import build_scenario, kwargs_to_overrides, load_scenario
from sim.schema import Scenario
from sim.state import KINDS, AllianceTable
from sim.world import World

TIMESERIES_COLUMNS = (
    "week",
    "active_alliances",
    "mean_trust",
    "mean_interpersonal_trust",
    "mean_familiarity",
    "mean_open_issues",
    "mean_hidden_issues",
    "formed",
    "successes",
    "failures",
    "restructured",
    *(f"failures_{r}" for r in oc.REASONS),
    "success_rate",
)


class AllianceModel(mesa.Model):
    """A population of firms whose alliances form, are governed, and succeed or fail, week by week.

    Args:
        scenario: a `sim.Scenario`, a mapping of scenario sections, a path to a YAML scenario,
            or None for the baseline defaults.
        rng: the seed (int, SeedSequence or numpy Generator; None draws a fresh one, recorded in
            `model.seed`).
        **overrides: scenario values by path with double underscores for nesting
            (`governance__meeting_interval_weeks=2`), so Mesa's batch_run and SolaraViz can set
            any parameter.
    """

    def __init__(self, scenario: Scenario | Mapping | str | Path | None = None, *, rng=None, **overrides):
        dotted = kwargs_to_overrides(overrides)
        if isinstance(scenario, (str, Path)):
            config = load_scenario(scenario, dotted)
        else:
            config = build_scenario(scenario, dotted)
        self.seed = seed_entropy(rng)
        super().__init__(rng=self.seed)
        self.config: Scenario = config

        streams = Streams(self.seed)
        firms = make_firms(config, streams)
        max_partners = config.formation.max_partners if config.formation.multi_partner_share > 0 else 2
        capacity = config.formation.n_alliances if config.formation.mode == "cohort" else 64
        self.world = World(
            scenario=config,
            streams=streams,
            firms=firms,
            managers=None,
            alliances=AllianceTable(max_partners, capacity),
            events=EventLog(config.output.events),
        )
        make_managers(self.world)

        self.firms: list[Firm] = [Firm(self, i) for i in range(firms.count)]
        self.managers: list[Manager] = [Manager(self, p) for p in range(self.world.managers.count)]
        self.alliances: list[Alliance] = []

        self.datacollector = mesa.DataCollector(
            model_reporters={name: (lambda m, n=name: m._snap[n]) for name in TIMESERIES_COLUMNS}
        )
        self._snap: dict = {}

        self.week = 0
        if config.formation.mode == "cohort":
            self._add_alliance_agents(formation.form(self.world, config.formation.n_alliances, 0))
            if self.world.alliances.formed < config.formation.n_alliances:
                warnings.warn(
                    f"only {self.world.alliances.formed} of formation.n_alliances="
                    f"{config.formation.n_alliances} alliances could form: too few firms had a free "
                    "seat (raise firms.count or formation.max_alliances_per_firm)",
                    stacklevel=2,
                )
        else:
            self._add_alliance_agents(formation.apply(self.world))
        self._collect()

    # ------------------------------------------------------------------ stepping

    @property
    def horizon(self) -> int:
        return self.config.simulation.horizon_weeks

    def step(self) -> None:
        """Advance one week."""
        w = self.world
        self.week = w.week = self.steps
        lifecycle.apply(w)
        self._replace_manager_agents(turnover.apply(w))
        w.begin_week()
        shocks.apply(w)
        friction.apply(w)
        meetings.apply(w)
        resolution.apply(w)
        trust.weekly_update(w)
        contribution.apply(w)
        value.apply(w)
        costs.apply(w)
        learning.apply(w)
        reviews.review(w)
        reviews.weekly_checks(w)
        w.alliances.compact()
        self._add_alliance_agents(formation.apply(w))  # ongoing mode; they start next week

        interval = self.config.output.timeseries_interval_weeks
        if self.week >= self.horizon or (self.config.formation.mode == "cohort" and w.alliances.n == 0):
            self.running = False
        if self.week % interval == 0 or not self.running:
            self._collect()

    def run(self) -> AllianceModel:
        """Run to the horizon (or what is left of it); returns the model for chaining."""
        while self.running:
            self.step()
        return self

    # ------------------------------------------------------------------ agents

    def _add_alliance_agents(self, rows: np.ndarray) -> None:
        for a in self.world.alliances.alliance_id[rows].tolist():
            self.alliances.append(Alliance(self, a))

    def _replace_manager_agents(self, positions: np.ndarray) -> None:
        for p in positions.tolist():
            self.managers[p].remove()
            self.managers[p] = Manager(self, p)

    @property
    def active_alliances(self) -> mesa.agent.AgentSet:
        """AgentSet of the alliances still running."""
        return (
            self.agents_by_type[Alliance].select(lambda a: a.active)
            if self.alliances
            else mesa.agent.AgentSet([])
        )

    # ------------------------------------------------------------------ observation

    def _collect(self) -> None:
        self._snap = self.snapshot()
        self.datacollector.collect(self)

    def snapshot(self) -> dict:
        """Model-level state now: the row the time series records."""
        al = self.world.alliances
        n = al.n
        member = al.member[:n]
        ended = al.archive
        outcome = ended.outcome[: ended.n]
        by_outcome = np.bincount(outcome, minlength=len(oc.OUTCOMES))
        by_reason = np.bincount(ended.reason[: ended.n][outcome == oc.FAILURE], minlength=len(oc.REASONS))
        snap = {
            "week": self.week,
            "active_alliances": int(n),
            "mean_trust": _mean_over(al.trust_org[:n], member),
            "mean_interpersonal_trust": _mean_over(al.trust_ip[:n], member),
            "mean_familiarity": float(al.familiarity[:n].mean()) if n else float("nan"),
            "mean_open_issues": float(al.open_issues[:n].mean()) if n else float("nan"),
            "mean_hidden_issues": float(al.hidden_issues[:n].mean()) if n else float("nan"),
            "formed": int(al.formed),
            "successes": int(by_outcome[oc.SUCCESS]),
            "failures": int(by_outcome[oc.FAILURE]),
            "restructured": int(by_outcome[oc.RESTRUCTURED]),
        }
        for i, r in enumerate(oc.REASONS):
            snap[f"failures_{r}"] = int(by_reason[i])
        decided = snap["successes"] + snap["failures"] + snap["restructured"]
        snap["success_rate"] = snap["successes"] / decided if decided else float("nan")
        return snap

    def timeseries(self) -> pd.DataFrame:
        """One row per recorded week (every `output.timeseries_interval_weeks`, and the last)."""
        frame = self.datacollector.get_model_vars_dataframe()
        return frame.reset_index(drop=True)[list(TIMESERIES_COLUMNS)]

    def events(self) -> pd.DataFrame:
        """The event log: week, alliance_id, event, partner_id (-1 = the alliance), value."""
        return self.world.events.to_frame(self.world.alliances.by_id("firm"))

    def outcomes(self) -> pd.DataFrame:
        """One row per alliance formed, by id; alliances still running are `censored` at the horizon."""
        al = self.world.alliances
        frames = [self._outcome_rows(al.archive, al.archive.n), self._outcome_rows(al, al.n)]
        return pd.concat(frames, ignore_index=True).sort_values("alliance_id", ignore_index=True)

    def _outcome_rows(self, t, n: int) -> pd.DataFrame:
        member = t.member[:n]
        running = t.active[:n]
        outcome = np.where(running, oc.CENSORED, t.outcome[:n])
        end = np.where(running, self.week, t.end_week[:n])
        reason = t.reason[:n]
        exiting = t.exiting_slot[:n]
        partner_ids = pd.Series([t.firm[a, member[a]].tolist() for a in range(n)], dtype=object)
        exiting_partner = np.where(exiting >= 0, t.firm[np.arange(n), np.maximum(exiting, 0)], -1)
        met = oc.objectives_met(
            t.realized[:n], t.expected_total[:n], member, self.config.coefficients.reviews.objective_share
        )
        text = pd.StringDtype()
        return pd.DataFrame(
            {
                "alliance_id": t.alliance_id[:n].astype(np.int64),
                "partner_ids": partner_ids,
                "n_partners": t.n_partners[:n].astype(np.int64),
                "kind": pd.array(np.asarray(KINDS, dtype=object)[t.kind[:n]], dtype=text),
                "top_down": t.top_down[:n].astype(bool),
                "start_week": t.start_week[:n].astype(np.int64),
                "end_week": end.astype(np.int64),
                "duration_weeks": (end - t.start_week[:n]).astype(np.int64),
                "planned_term_weeks": t.term_weeks[:n].astype(np.int64),
                "outcome": pd.array(np.asarray(oc.OUTCOMES, dtype=object)[outcome], dtype=text),
                "reason": pd.array(
                    np.where(reason >= 0, np.asarray(oc.REASONS, dtype=object)[np.maximum(reason, 0)], None),
                    dtype=text,
                ),
                "exiting_partner": exiting_partner.astype(np.int64),
                "cultural_distance": t.cultural_distance[:n],
                "complementarity": t.complementarity[:n],
                "perceived_complementarity": t.perceived_complementarity[:n],
                "final_trust": t.slot_mean(t.trust_org[:n], member) if n else np.zeros(0),
                "final_interpersonal_trust": t.slot_mean(t.trust_ip[:n], member) if n else np.zeros(0),
                "min_final_trust": np.where(member, t.trust_org[:n], np.inf).min(axis=1, initial=np.inf),
                "familiarity": t.familiarity[:n],
                "value_realized": np.where(member, t.realized[:n], 0.0).sum(axis=1),
                "value_created": np.where(member, t.value_created[:n], 0.0).sum(axis=1),
                "governance_cost": np.where(member, t.governance_cost[:n], 0.0).sum(axis=1),
                "other_cost": np.where(member, t.other_cost[:n], 0.0).sum(axis=1),
                "net_value": np.where(member, t.realized[:n], 0.0).sum(axis=1),
                "potential": t.potential[:n],
                "value_expected": np.where(member, t.expected_total[:n], 0.0).sum(axis=1),
                "objectives_met": met,
                "restructures": t.restructures[:n].astype(np.int64),
                "meetings": t.meetings_held[:n].astype(np.int64),
                "issues_raised": t.issues_raised[:n].astype(np.int64),
                "issues_resolved": t.issues_resolved[:n].astype(np.int64),
                "open_issues": t.open_issues[:n].astype(np.int64),
                "shocks": t.shocks[:n].astype(np.int64),
                "manager_changes": t.manager_changes[:n].astype(np.int64),
                "betrayals": t.betrayals[:n].astype(np.int64),
            }
        )

    def summary(self) -> dict:
        """Headline numbers of the run: counts by outcome, success rate, failures by reason, the
        median duration of decided alliances, and per alliance formed the mean governance cost and
        net value (value units, all partners together)."""
        out = self.outcomes()
        counts = out["outcome"].value_counts()
        decided = out[out["outcome"] != "censored"]
        return {
            "alliances": int(len(out)),
            **{o: int(counts.get(o, 0)) for o in oc.OUTCOMES},
            "success_rate": oc.success_rate(out["outcome"]),
            "failures_by_reason": {
                r: int(((out["outcome"] == "failure") & (out["reason"] == r)).sum()) for r in oc.REASONS
            },
            "median_duration_weeks": float(decided["duration_weeks"].median())
            if len(decided)
            else float("nan"),
            "mean_governance_cost": float(out["governance_cost"].mean()) if len(out) else float("nan"),
            "mean_net_value": float(out["net_value"].mean()) if len(out) else float("nan"),
        }


def _mean_over(values: np.ndarray, member: np.ndarray) -> float:
    return float(values[member].mean()) if member.any() else float("nan")
