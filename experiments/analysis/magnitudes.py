"""Patterns of a cohort of alliances that published numbers can be held against (pure functions).

Each function takes an outcomes frame (one row per alliance, the columns of
`AllianceModel.outcomes()`, pooled over replications) and returns plain numbers, so validation
(experiments.studies.validate) and calibration can check magnitudes, not only directions:
lifetimes (Kaplan-Meier), terminations in the first year, restructuring, the mix of failure
reasons, correlations with success, subgroups and the share of variance a grouping explains.

"Decided" alliances are those that ended (success, failure or restructured); censored ones are
still running at the horizon and count only where survival is estimated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from experiments.analysis.stats import kaplan_meier

WEEKS_PER_YEAR = 52
RELATIONAL_REASONS = ("trust_collapse", "detected_opportunism")


def decided(outcomes: pd.DataFrame) -> pd.DataFrame:
    """The alliances that ended (censored ones left out)."""
    return outcomes[outcomes["outcome"] != "censored"]


def success_flag(outcomes: pd.DataFrame) -> np.ndarray:
    """1.0 for each decided alliance that succeeded, 0.0 otherwise (decided alliances only)."""
    return (decided(outcomes)["outcome"] == "success").to_numpy(dtype=float)


def survival_curve(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Kaplan-Meier survival of alliance life (any ending is the event; censored at the horizon)."""
    return kaplan_meier(outcomes["duration_weeks"], outcomes["outcome"] != "censored")


def survival_at(outcomes: pd.DataFrame, weeks: float) -> float:
    """Kaplan-Meier probability that an alliance is still running `weeks` after it formed."""
    curve = survival_curve(outcomes)
    return float(curve.loc[curve["time"] <= weeks, "survival"].iloc[-1])


def median_life_years(outcomes: pd.DataFrame) -> float:
    """Kaplan-Meier median alliance life in years (nan if more than half outlive the horizon)."""
    curve = survival_curve(outcomes)
    below = curve[curve["survival"] <= 0.5]
    return float(below["time"].iloc[0]) / WEEKS_PER_YEAR if len(below) else float("nan")


def first_year_terminations(outcomes: pd.DataFrame) -> float:
    """Share of all alliances that failed within a year of forming."""
    early = (outcomes["outcome"] == "failure") & (outcomes["duration_weeks"] <= WEEKS_PER_YEAR)
    return float(early.mean()) if len(outcomes) else float("nan")


def restructured_share(outcomes: pd.DataFrame) -> float:
    """Share of all alliances renegotiated at least once."""
    return float((outcomes["restructures"] > 0).mean()) if len(outcomes) else float("nan")


def reason_shares(outcomes: pd.DataFrame) -> dict[str, float]:
    """Failures by reason as shares of all failures, plus `relational` (trust collapse and
    detected opportunism together)."""
    reasons = outcomes.loc[outcomes["outcome"] == "failure", "reason"]
    n = len(reasons)
    shares = {str(r): float(c) / n for r, c in reasons.value_counts().items()} if n else {}
    shares["relational"] = sum(shares.get(r, 0.0) for r in RELATIONAL_REASONS)
    return shares


def correlation_with_success(outcomes: pd.DataFrame, column: str) -> float:
    """Pearson correlation of a column with success, over decided alliances."""
    done = decided(outcomes)
    values = done[column].to_numpy(dtype=float)
    flag = success_flag(outcomes)
    if len(values) < 3 or values.std() == 0 or flag.std() == 0:
        return float("nan")
    return float(np.corrcoef(values, flag)[0, 1])


def subgroup_rates(outcomes: pd.DataFrame, min_decided: int = 30) -> pd.DataFrame:
    """Success rate of every identifiable subgroup of the cohort: top-down or not, vertical or
    horizontal, dyads or multi-partner, and terciles of cultural distance. One row per subgroup
    with at least `min_decided` decided alliances: group, decided, success_rate."""
    done = decided(outcomes).copy()
    success = done["outcome"] == "success"
    groups: dict[str, pd.Series] = {
        "top-down": done["top_down"].astype(bool),
        "not top-down": ~done["top_down"].astype(bool),
        "vertical": done["kind"] == "vertical",
        "horizontal": done["kind"] == "horizontal",
        "dyads": done["n_partners"] == 2,
        "multi-partner": done["n_partners"] > 2,
    }
    if len(done) >= 3:
        tercile = pd.qcut(done["cultural_distance"].rank(method="first"), 3, labels=False)
        for i, name in enumerate(("culturally close third", "middle third", "culturally distant third")):
            groups[name] = tercile == i
    rows = []
    for name, mask in groups.items():
        n = int(mask.sum())
        if n >= min_decided:
            rows.append({"group": name, "decided": n, "success_rate": float(success[mask].mean())})
    return pd.DataFrame(rows, columns=["group", "decided", "success_rate"])


def explained_share(outcomes: pd.DataFrame, columns: Sequence[str]) -> float:
    """R^2 of a least-squares fit of success (0/1, decided alliances) on `columns` (numbers or
    booleans; text columns become indicator columns): the share of the variance in success
    that those traits explain."""
    done = decided(outcomes)
    if len(done) < len(columns) + 2:
        return float("nan")
    parts = [np.ones(len(done))]
    for column in columns:
        values = done[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            for level in sorted(values.dropna().unique())[1:]:
                parts.append((values == level).to_numpy(dtype=float))
        else:
            parts.append(values.to_numpy(dtype=float))
    x = np.column_stack(parts)
    y = success_flag(outcomes)
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    residual = y - x @ coef
    total = ((y - y.mean()) ** 2).sum()
    return float(1.0 - (residual**2).sum() / total) if total > 0 else float("nan")


def between_share(outcomes_by_group: Mapping[str, pd.DataFrame]) -> float:
    """Share of the variance in alliance-level success that lies between groups (eta squared of
    the success indicator over the pooled decided alliances of every group)."""
    flags = [success_flag(frame) for frame in outcomes_by_group.values()]
    flags = [f for f in flags if f.size]
    if not flags:
        return float("nan")
    pooled = np.concatenate(flags)
    total = ((pooled - pooled.mean()) ** 2).sum()
    between = sum(f.size * (f.mean() - pooled.mean()) ** 2 for f in flags)
    return float(between / total) if total > 0 else float("nan")
