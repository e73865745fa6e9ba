"""Regret: the shortfall of each design against the best design in the same scenario.

Pure functions on a stress test's runs table and its stress table (design, scenario,
success_rate, ci_low, ci_high, regret): the table itself, its regret, and the rankings of the
designs by worst case (max-min) and by mean regret.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from experiments.analysis.stats import wilson_interval

#: The columns of a stress table, in order.
STRESS_COLUMNS = ("design", "scenario", "success_rate", "ci_low", "ci_high", "regret")


def regret(table: pd.DataFrame) -> pd.Series:
    """Per row of `table` (design, scenario, success_rate): the best success rate among the designs in
    the same scenario minus this row's. Zero for the best design of each scenario, never negative."""
    best = table.groupby("scenario", sort=False)["success_rate"].transform("max")
    return (best - table["success_rate"]).rename("regret")


def stress_table(runs: pd.DataFrame, cells: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """The stress table from an arms experiment's runs: one row per (design, scenario) = point i of
    `cells`, with successes / decided pooled over the point's successful runs, its Wilson interval,
    and the regret."""
    ok = runs[runs["status"] == "ok"]
    counts = ok.groupby("point_id")[["successes", "decided"]].sum()
    rows = []
    for point, (design, scenario) in enumerate(cells):
        successes = int(counts["successes"].get(point, 0))
        decided = int(counts["decided"].get(point, 0))
        low, high = wilson_interval(successes, decided)
        rate = successes / decided if decided else float("nan")
        rows.append(
            {"design": design, "scenario": scenario, "success_rate": rate, "ci_low": low, "ci_high": high}
        )
    table = pd.DataFrame(rows)
    table["regret"] = regret(table)
    return table[list(STRESS_COLUMNS)]


def rank_designs(table: pd.DataFrame) -> pd.DataFrame:
    """Designs ranked by worst case and by mean regret, from a stress table (see `stress_table`).

    One row per design: worst_case (its lowest success rate over the scenarios), worst_scenario
    (where that is), mean_success_rate, mean_regret and max_regret over the scenarios, and the two
    ranks: rank_worst_case (1 = the highest worst case, the max-min choice) and rank_mean_regret
    (1 = the lowest mean regret). Ties share the better rank. Sorted by rank_worst_case, then
    rank_mean_regret, then name.
    """
    if "regret" not in table.columns:
        table = table.assign(regret=regret(table))
    rows = []
    for design, group in table.groupby("design", sort=False):
        worst = group.loc[group["success_rate"].idxmin()]
        rows.append(
            {
                "design": design,
                "worst_case": float(worst["success_rate"]),
                "worst_scenario": worst["scenario"],
                "mean_success_rate": float(group["success_rate"].mean()),
                "mean_regret": float(group["regret"].mean()),
                "max_regret": float(group["regret"].max()),
            }
        )
    ranking = pd.DataFrame(rows)
    ranking["rank_worst_case"] = ranking["worst_case"].rank(ascending=False, method="min").astype(np.int64)
    ranking["rank_mean_regret"] = ranking["mean_regret"].rank(ascending=True, method="min").astype(np.int64)
    ranking = ranking.sort_values(["rank_worst_case", "rank_mean_regret", "design"], kind="stable")
    return ranking.reset_index(drop=True)


def worst_case_ranking(frame: pd.DataFrame) -> pd.DataFrame:
    """Per design: worst case, where, and mean regret; the highest worst case first (max-min)."""
    rows = []
    for design, group in frame.groupby("design", sort=False):
        decided = group.dropna(subset=["success_rate"])
        worst = decided.loc[decided["success_rate"].idxmin()] if not decided.empty else None
        rows.append(
            {
                "design": design,
                "worst_case": float(worst["success_rate"]) if worst is not None else float("nan"),
                "worst_scenario": worst["scenario"] if worst is not None else "n/a",
                "mean_regret": float(group["regret"].mean()),
            }
        )
    ranking = pd.DataFrame(rows, columns=["design", "worst_case", "worst_scenario", "mean_regret"])
    return ranking.sort_values(["worst_case", "design"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )
