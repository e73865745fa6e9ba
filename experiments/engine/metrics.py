"""The metrics of one run: the row the engine writes to runs/ for every run it executes.

* `wilson_interval` - confidence interval for a success rate (Wilson score, via scipy's binomtest).
* `success_summary` - decided alliances, successes, success rate and its Wilson interval.
* `describe_point` - per-alliance outcomes summarised in one flat dict (a run's metrics, or a
  design point's pooled over replications).

`experiments.analysis.stats` re-exports them with the other statistics.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from scipy.stats import binomtest

from sim import OUTCOMES, REASONS

#: Outcomes that count as decided (everything but `censored`); the success-rate denominator.
DECIDED = tuple(o for o in OUTCOMES if o != "censored")

#: Columns of `AllianceModel.outcomes()` that `describe_point` needs.
POINT_COLUMNS = ("outcome", "reason", "duration_weeks", "value_realized", "final_trust")


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion of `successes` out of `n` trials.

    Returns (low, high) as proportions in [0, 1], or (nan, nan) when `n` is 0 (nothing decided,
    so nothing to estimate). Wilson behaves well near 0 and 1 and for small `n`, unlike the
    normal-approximation (Wald) interval.
    """
    if n == 0:
        return float("nan"), float("nan")
    ci = binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def success_summary(outcomes: pd.Series, confidence: float = 0.95) -> dict[str, Any]:
    """Success rate of a set of alliance outcomes with its Wilson interval.

    `outcomes` holds outcome strings (sim.OUTCOMES). decided = success + failure + restructured
    (censored alliances, still running at the horizon, are excluded); rate = successes / decided
    (nan when nothing is decided) and (ci_low, ci_high) is `wilson_interval(successes, decided)`.
    Raises ValueError on a missing or unknown outcome.
    """
    values = pd.Series(outcomes, dtype=object)
    unknown = ~values.isin(OUTCOMES)
    if unknown.any():
        bad = sorted({str(v) for v in values[unknown]})
        raise ValueError(f"unknown outcomes {bad}; expected one of {list(OUTCOMES)}")
    decided = int(values.isin(DECIDED).sum())
    successes = int((values == "success").sum())
    low, high = wilson_interval(successes, decided, confidence)
    return {
        "decided": decided,
        "successes": successes,
        "rate": successes / decided if decided else float("nan"),
        "ci_low": low,
        "ci_high": high,
    }


def describe_point(frame: pd.DataFrame, confidence: float = 0.95) -> dict[str, Any]:
    """Summary of one design point's per-alliance outcomes, as one flat dict.

    `frame` has the columns of `sim.AllianceModel(...).outcomes()` (at least outcome, reason,
    duration_weeks, value_realized, final_trust), possibly pooled over replications. Returns:

    * alliances, decided, successes, failures, restructured, censored: counts;
    * success_rate, success_ci_low, success_ci_high: from `success_summary` (Wilson interval);
    * mean_duration_weeks, median_duration_weeks: over decided alliances only (nan if none);
      this ignores the censored ones, so use `kaplan_meier` for an unbiased view of duration;
    * failures_<reason> for every reason in sim.REASONS: failures with that reason, 0 if none
      (a failure without a reason is counted in `failures` only);
    * mean_value_realized, mean_final_trust: over all alliances formed, censored ones included
      (their value realised and trust at the horizon); nan if there are none;
    * mean_governance_cost, mean_net_value: what governing an alliance cost its partners together
      and the value they kept net of every cost, per alliance formed (censored ones at the horizon).
    """
    missing = [c for c in POINT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"describe_point needs columns {missing} (as in AllianceModel.outcomes())")
    outcome = pd.Series(frame["outcome"], dtype=object)
    summary = success_summary(outcome, confidence)
    decided = outcome.isin(DECIDED).to_numpy()
    failed = (outcome == "failure").to_numpy()
    reasons = frame.loc[failed, "reason"].value_counts()
    duration = frame.loc[decided, "duration_weeks"].astype(float)
    nan = float("nan")
    return {
        "alliances": len(frame),
        "decided": summary["decided"],
        "successes": summary["successes"],
        "failures": int(failed.sum()),
        "restructured": int((outcome == "restructured").sum()),
        "censored": int((outcome == "censored").sum()),
        "success_rate": summary["rate"],
        "success_ci_low": summary["ci_low"],
        "success_ci_high": summary["ci_high"],
        "mean_duration_weeks": float(duration.mean()) if len(duration) else nan,
        "median_duration_weeks": float(duration.median()) if len(duration) else nan,
        **{f"failures_{r}": int(reasons.get(r, 0)) for r in REASONS},
        "mean_value_realized": float(frame["value_realized"].mean()) if len(frame) else nan,
        "mean_final_trust": float(frame["final_trust"].mean()) if len(frame) else nan,
        "mean_governance_cost": _mean(frame, "governance_cost"),
        "mean_net_value": _mean(frame, "net_value"),
    }


def _mean(frame: pd.DataFrame, column: str) -> float:
    """Mean of a column over the alliances, nan if there are none or the column is absent (outcomes
    written before the model kept the partners' accounts)."""
    return float(frame[column].mean()) if len(frame) and column in frame.columns else float("nan")
