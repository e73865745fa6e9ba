"""Analysis of an experiment's runs: per-point summaries, paired differences, survival curves.

All functions take the tables of the results store as DataFrames (`load_runs`, `load_outcomes`)
and return DataFrames, so they work the same on a finished sweep, on one still running and on
tables built by hand.

* `point_summary(runs, factors, outcomes)`: one row per design point. Counts are pooled over the
  point's successful runs; the success rate is successes / decided alliances with a Wilson
  interval; durations, value and trust are pooled means (and the pooled median duration when
  the per-alliance outcomes are at hand); `success_rate_sd` is the spread between replications.
* `differences_from_reference(runs, reference_point)`: per point, the difference of a per-run
  metric from the reference point, paired by replication (common random numbers) with a paired t
  interval, or a Welch interval when the runs are not paired.
* `survival_by(outcomes, by)`: Kaplan-Meier survival of alliance duration for each value of `by`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from experiments.analysis.stats import DECIDED, kaplan_meier, paired_difference, wilson_interval
from sim import REASONS

COUNT_COLUMNS = (
    "alliances",
    "decided",
    "successes",
    "failures",
    "restructured",
    "censored",
    *(f"failures_{reason}" for reason in REASONS),
)


def point_summary(
    runs: pd.DataFrame,
    factors: Sequence[str],
    outcomes: pd.DataFrame | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """One row per design point: factor values, runs, pooled counts, success rate and interval,
    durations, value and trust (see the module docstring). Points whose runs all failed keep a
    row with zero counts and nan rates."""
    if runs.empty:
        return pd.DataFrame(columns=["point_id", *factors, "runs_ok", "runs_failed", *COUNT_COLUMNS])
    ok = runs[runs["status"] == "ok"].copy()
    keys = runs.drop_duplicates("point_id").set_index("point_id")[list(factors)]
    status = runs.groupby("point_id")["status"]
    summary = keys.copy()
    summary["runs_ok"] = status.apply(lambda s: int((s == "ok").sum()))
    summary["runs_failed"] = status.apply(lambda s: int((s != "ok").sum()))
    counts = ok.groupby("point_id")[list(COUNT_COLUMNS)].sum().reindex(summary.index, fill_value=0)
    summary[list(COUNT_COLUMNS)] = counts.astype(np.int64)
    rates = [_rate(int(s), int(d), confidence) for s, d in zip(summary["successes"], summary["decided"])]
    summary["success_rate"], summary["success_ci_low"], summary["success_ci_high"] = (
        np.array(rates).T if rates else ([], [], [])
    )
    summary["success_rate_sd"] = ok.groupby("point_id")["success_rate"].std(ddof=1).reindex(summary.index)
    ok["duration_total"] = ok["mean_duration_weeks"].fillna(0) * ok["decided"]
    ok["value_total"] = ok["mean_value_realized"].fillna(0) * ok["alliances"]
    ok["trust_total"] = ok["mean_final_trust"].fillna(0) * ok["alliances"]
    per_alliance = [c for c in ("mean_governance_cost", "mean_net_value") if c in ok.columns]
    for column in per_alliance:
        ok[f"{column}_total"] = ok[column].fillna(0) * ok["alliances"]
    totals = ok.groupby("point_id")[
        ["duration_total", "value_total", "trust_total", *(f"{c}_total" for c in per_alliance)]
    ].sum()
    totals = totals.reindex(summary.index)
    with np.errstate(invalid="ignore", divide="ignore"):
        summary["mean_duration_weeks"] = totals["duration_total"] / summary["decided"].replace(0, np.nan)
        summary["mean_value_realized"] = totals["value_total"] / summary["alliances"].replace(0, np.nan)
        summary["mean_final_trust"] = totals["trust_total"] / summary["alliances"].replace(0, np.nan)
        for column in per_alliance:
            summary[column] = totals[f"{column}_total"] / summary["alliances"].replace(0, np.nan)
    summary["median_duration_weeks"] = _pooled_median_duration(outcomes, summary.index)
    return summary.reset_index()


def _rate(successes: int, decided: int, confidence: float) -> tuple[float, float, float]:
    low, high = wilson_interval(successes, decided, confidence)
    return (successes / decided if decided else float("nan")), low, high


def _pooled_median_duration(outcomes: pd.DataFrame | None, points: pd.Index) -> pd.Series:
    """Median duration of the decided alliances of each point; nan without outcomes."""
    if outcomes is None or outcomes.empty:
        return pd.Series(np.nan, index=points)
    decided = outcomes[outcomes["outcome"].isin(DECIDED)]
    return decided.groupby("point_id")["duration_weeks"].median().reindex(points).astype(float)


def differences_from_reference(
    runs: pd.DataFrame,
    reference_point: int,
    metric: str = "success_rate",
    *,
    paired: bool = True,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Difference of each point's per-run `metric` from the reference point's, with its interval.

    Paired (common random numbers): replication r of a point is compared with replication r of
    the reference, over the replications where both ran and the metric is defined;
    `experiments.analysis.stats.paired_difference` gives the mean and its t interval. Unpaired: the
    difference of means with Welch's t interval. Returns point_id, n, difference, ci_low, ci_high.
    """
    ok = runs[(runs["status"] == "ok") & runs[metric].notna()]
    table = ok.pivot_table(index="replication", columns="point_id", values=metric, aggfunc="first")
    rows = []
    points = sorted(runs["point_id"].unique())
    base = table[reference_point] if reference_point in table else pd.Series(dtype=float)
    for point in points:
        values = table[point] if point in table else pd.Series(dtype=float)
        if paired:
            both = pd.concat([base, values], axis=1, join="inner").dropna()
            result = paired_difference(both.iloc[:, 0], both.iloc[:, 1], confidence)
            n, diff, low, high = result["n"], result["mean"], result["ci_low"], result["ci_high"]
        else:
            n, diff, low, high = _welch(base.dropna(), values.dropna(), confidence)
        rows.append({"point_id": int(point), "n": n, "difference": diff, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows, columns=["point_id", "n", "difference", "ci_low", "ci_high"])


def _welch(base: pd.Series, alt: pd.Series, confidence: float) -> tuple[int, float, float, float]:
    """Difference of means alt - base with Welch's t interval (nan when either has < 2 values)."""
    n = min(len(base), len(alt))
    if len(base) < 2 or len(alt) < 2:
        diff = float(alt.mean() - base.mean()) if len(base) and len(alt) else float("nan")
        return n, diff, float("nan"), float("nan")
    diff = float(alt.mean() - base.mean())
    if base.std() == 0 and alt.std() == 0:
        return n, diff, diff, diff
    interval = scipy_stats.ttest_ind(alt, base, equal_var=False).confidence_interval(confidence)
    return n, diff, float(interval.low), float(interval.high)


def survival_by(outcomes: pd.DataFrame, by: str, confidence: float = 0.95) -> dict[object, pd.DataFrame]:
    """Kaplan-Meier survival of alliance duration for each value of column `by` (in order of
    appearance); the event is the alliance ending, censored alliances count as still running."""
    curves = {}
    for value, group in outcomes.groupby(by, sort=False):
        curves[value] = kaplan_meier(group["duration_weeks"], group["outcome"] != "censored", confidence)
    return curves
