"""The validation patterns, measured: pooled success rates, paired differences between arms, the
shape of the termination hazard and cohort statistics per replication, on the runs and outcomes of
an arms experiment (the cohort statistics themselves are in `experiments.analysis.magnitudes`).

`ARMS` are the named arms the validation targets need (the baseline and variants of it, one lever
changed each); validation and calibration both run them (`experiments.engine.arms.arms_experiment`)
and measure them with these functions. Pure functions: they read no folder and know no study.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from experiments.analysis.stats import hazard_by_period, paired_difference, wilson_interval

HAZARD_PERIOD_WEEKS = 26
HAZARD_PEAK_RATIO = 1.5
#: The outcome columns the patterns read.
OUTCOME_COLUMNS = [
    "point_id", "replication", "outcome", "reason", "duration_weeks", "planned_term_weeks", "restructures",
    "final_trust", "cultural_distance", "top_down", "kind", "n_partners", "complementarity",
    "perceived_complementarity",
]  # fmt: skip

#: The arms the targets need: name -> scenario values changed from the baseline.
ARMS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "central_function": {"firms.alliance_function": "central_function"},
    "in_person_weekly": {"governance.meeting_mode": "in_person", "governance.meeting_interval_weeks": 1},
    "in_person_fortnightly": {"governance.meeting_mode": "in_person", "governance.meeting_interval_weeks": 2},
    "in_person_bimonthly": {"governance.meeting_mode": "in_person", "governance.meeting_interval_weeks": 8},
    "incentives_high_consistent": {
        "firms.incentives.formal": 0.7,
        "firms.incentives.informal": 0.7,
        "firms.leadership_consistency": 0.85,
    },
    "incentives_low_consistent": {
        "firms.incentives.formal": 0.1,
        "firms.incentives.informal": 0.1,
        "firms.leadership_consistency": 0.85,
    },
    "incentives_high_inconsistent": {
        "firms.incentives.formal": 0.7,
        "firms.incentives.informal": 0.7,
        "firms.leadership_consistency": 0.2,
    },
    "incentives_low_inconsistent": {
        "firms.incentives.formal": 0.1,
        "firms.incentives.informal": 0.1,
        "firms.leadership_consistency": 0.2,
    },
    "risk_clinic": {"governance.risk_clinic": "periodic"},
    "turnover_low": {"managers.turnover_per_year": 0.05},
    "turnover_high": {"managers.turnover_per_year": 0.35},
    "culture_close": {"firms.culture_dispersion": 0.4},
    "culture_distant": {"firms.culture_dispersion": 1.0},
    "proactive_leaders": {"managers.proactiveness.mean": 0.8},
    "reactive_managers": {"managers.proactiveness.mean": 0.2},
    "in_person_monthly": {"governance.meeting_mode": "in_person", "governance.meeting_interval_weeks": 4},
    "virtual_monthly": {"governance.meeting_mode": "virtual", "governance.meeting_interval_weeks": 4},
    "insight_workshop": {"governance.insight_workshop": True},
    # the shipped designs at their extremes (configs/designs/best_practice.yaml, light_touch.yaml)
    "best_practice": {
        "firms.alliance_function": "center_of_excellence",
        "firms.incentives.formal": 0.7,
        "firms.incentives.informal": 0.7,
        "firms.leadership_consistency": 0.85,
        "firms.training": 0.6,
        "firms.hiring_for_collaboration": 0.6,
        "governance.meeting_interval_weeks": 2,
        "governance.meeting_mode": "in_person",
        "governance.steering_committee": True,
        "governance.review_interval_weeks": 8,
        "governance.risk_clinic": "periodic",
        "governance.conflict_resolution": "collaborative",
        "governance.role_clarity": 0.5,
        "governance.charter": True,
        "governance.insight_workshop": True,
    },
    "light_touch": {
        "governance.meeting_interval_weeks": 13,
        "governance.meeting_mode": "virtual",
        "governance.review_interval_weeks": 26,
        "governance.conflict_resolution": "escalation",
        "governance.role_clarity": 0.8,
    },
}

#: The arms whose outcomes the design's share of variance is measured over: the shipped designs.
DESIGN_ARMS = ("baseline", "central_function", "best_practice", "light_touch")
#: Traits fixed at formation whose joint explanatory power over success is bounded.
FORMATION_TRAITS = (
    "kind", "top_down", "n_partners", "cultural_distance", "perceived_complementarity", "complementarity",
)  # fmt: skip


def arm_rates(runs: pd.DataFrame, point: int) -> pd.Series:
    """Per-replication success rates of one arm (point), indexed by replication."""
    rows = runs[(runs["point_id"] == point) & (runs["status"] == "ok")]
    return rows.set_index("replication")["success_rate"].astype(float)


def pooled_rate(runs: pd.DataFrame, point: int) -> tuple[float, float, float]:
    """Success rate of an arm pooled over its replications, with its Wilson interval."""
    rows = runs[(runs["point_id"] == point) & (runs["status"] == "ok")]
    successes, decided = int(rows["successes"].sum()), int(rows["decided"].sum())
    low, high = wilson_interval(successes, decided)
    return (successes / decided if decided else float("nan")), low, high


def paired(runs: pd.DataFrame, arms: Mapping[str, int], plus: Sequence[str], minus: Sequence[str]) -> dict:
    """Paired difference sum(plus arms) - sum(minus arms) of per-replication success rates."""
    table = pd.concat({name: arm_rates(runs, arms[name]) for name in (*plus, *minus)}, axis=1).dropna()
    contrast = sum(table[name] for name in plus) - sum(table[name] for name in minus)
    return paired_difference(np.zeros(len(contrast)), contrast.to_numpy())


def premature_failure_hazard(outcomes: pd.DataFrame, period_weeks: int = HAZARD_PERIOD_WEEKS) -> pd.DataFrame:
    """Life table of premature failure: the event is failing before the planned term; alliances
    that reach their term (whatever the verdict) or ended early successfully are censored then.
    (Kept for calibration and comparison; the validation's shape target uses every termination.)"""
    early = outcomes["duration_weeks"] < outcomes["planned_term_weeks"]
    premature = (outcomes["outcome"] == "failure") & early
    horizon = float(outcomes["planned_term_weeks"].max()) if len(outcomes) else period_weeks
    return hazard_by_period(outcomes["duration_weeks"], premature, period_weeks, max_weeks=horizon)


#: The termination hazard is read over the first ten years of an alliance's life.
HAZARD_MAX_WEEKS = 520


def termination_hazard(outcomes: pd.DataFrame, period_weeks: int = HAZARD_PERIOD_WEEKS) -> pd.DataFrame:
    """Life table of every termination (any ending) by half-year of age over the first ten years
    (Park & Russo's hazard of dissolution), censored at the horizon."""
    ended = outcomes["outcome"] != "censored"
    return hazard_by_period(outcomes["duration_weeks"], ended, period_weeks, max_weeks=HAZARD_MAX_WEEKS)


def per_replication(
    outcomes: pd.DataFrame, points: int | Sequence[int], statistic: Callable[[pd.DataFrame], float]
) -> tuple[float, float, float]:
    """A cohort statistic of one arm (or of several arms together, one replication at a time): its
    mean over replications with a 95% t interval."""
    rows = outcomes[outcomes["point_id"].isin(np.atleast_1d(points))]
    values = np.array([statistic(group) for _, group in rows.groupby("replication")], dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 2:
        value = float(values.mean()) if values.size else float("nan")
        return value, float("nan"), float("nan")
    diff = paired_difference(np.zeros(values.size), values)
    return diff["mean"], diff["ci_low"], diff["ci_high"]


def inverted_u(hazard: np.ndarray, ratio: float = HAZARD_PEAK_RATIO) -> tuple[bool, int]:
    """(is an inverted U, index of the peak): the peak is neither the first nor the last period
    and exceeds both the first and the last by at least `ratio`."""
    h = np.nan_to_num(np.asarray(hazard, dtype=float), nan=0.0)
    if h.size < 3:
        return False, int(h.argmax()) if h.size else -1
    peak = int(h.argmax())
    ok = 0 < peak < h.size - 1 and h[peak] >= ratio * h[0] and h[peak] >= ratio * h[-1] and h[peak] > 0
    return bool(ok), peak
