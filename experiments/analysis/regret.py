"""Regret: the shortfall of each design against the best design in the same scenario.

Pure functions on a stress test's runs table and its stress table (design, scenario,
success_rate, ci_low, ci_high, regret, governance_cost, net_value, regret_net_value): the table
itself, its regrets on each objective (success and net value), and the rankings of the designs by
worst case (max-min), by mean regret and by net-value regret.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from experiments.analysis.stats import wilson_interval

#: The columns every stress table has (tables written before the partners' accounts were kept have
#: only these), and all the columns of a stress table today, in order.
CORE_STRESS_COLUMNS = ("design", "scenario", "success_rate", "ci_low", "ci_high", "regret")
STRESS_COLUMNS = (
    "design", "scenario", "success_rate", "ci_low", "ci_high", "regret",
    "governance_cost", "net_value", "regret_net_value",
)  # fmt: skip


def regret(table: pd.DataFrame, objective: str = "success_rate") -> pd.Series:
    """Per row of `table` (design, scenario, `objective`): the best value of the objective among the
    designs in the same scenario minus this row's (higher is better). Zero for the best design of
    each scenario, never negative."""
    best = table.groupby("scenario", sort=False)[objective].transform("max")
    name = "regret" if objective == "success_rate" else f"regret_{objective}"
    return (best - table[objective]).rename(name)


def stress_table(runs: pd.DataFrame, cells: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """The stress table from an arms experiment's runs: one row per (design, scenario) = point i of
    `cells`, with successes / decided pooled over the point's successful runs, its Wilson interval,
    the regret, the mean governance cost and net value per alliance (value units, all partners
    together) and the regret on net value."""
    ok = runs[runs["status"] == "ok"].copy()
    if "alliances" not in ok.columns:
        ok["alliances"] = np.nan
    for column in ("mean_governance_cost", "mean_net_value"):
        if column not in ok.columns:  # runs stored before the partners' accounts were kept
            ok[column] = np.nan
        ok[f"{column}_total"] = ok[column] * ok["alliances"]
    sums = ok.groupby("point_id")[
        ["successes", "decided", "alliances", "mean_governance_cost_total", "mean_net_value_total"]
    ].sum(min_count=1)
    rows = []
    for point, (design, scenario) in enumerate(cells):
        successes = int(sums["successes"].get(point, 0) or 0)
        decided = int(sums["decided"].get(point, 0) or 0)
        alliances = float(np.nan_to_num(sums["alliances"].get(point, 0)))
        low, high = wilson_interval(successes, decided)
        rate = successes / decided if decided else float("nan")
        per = {
            c: float(sums[c].get(point, np.nan)) / alliances if alliances else float("nan")
            for c in ("mean_governance_cost_total", "mean_net_value_total")
        }
        rows.append(
            {
                "design": design,
                "scenario": scenario,
                "success_rate": rate,
                "ci_low": low,
                "ci_high": high,
                "governance_cost": per["mean_governance_cost_total"],
                "net_value": per["mean_net_value_total"],
            }
        )
    table = pd.DataFrame(rows)
    table["regret"] = regret(table)
    table["regret_net_value"] = regret(table, "net_value")
    return table[list(STRESS_COLUMNS)]


def rank_designs(table: pd.DataFrame) -> pd.DataFrame:
    """Designs ranked by worst case and by mean regret, from a stress table (see `stress_table`).

    One row per design: worst_case (its lowest success rate over the scenarios), worst_scenario
    (where that is), mean_success_rate, mean_regret and max_regret over the scenarios, best_in
    (how many scenarios it is the best design in), and, when the table has them, mean_governance_cost,
    mean_net_value and mean_regret_net_value (what the design costs and keeps, and its shortfall in
    net value against the best design of each scenario). Ranks: rank_worst_case (1 = the highest
    worst case, the max-min choice), rank_mean_regret (1 = the lowest mean regret in success) and
    rank_net_value (1 = the lowest mean regret in net value). Ties share the better rank. Sorted by
    rank_worst_case, then rank_mean_regret, then name.
    """
    if "regret" not in table.columns:
        table = table.assign(regret=regret(table))
    has_value = "net_value" in table.columns and table["net_value"].notna().any()
    if has_value and "regret_net_value" not in table.columns:
        table = table.assign(regret_net_value=regret(table, "net_value"))
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
                "best_in": int((group["regret"] <= 0).sum()),
                **(
                    {
                        "mean_governance_cost": float(group["governance_cost"].mean()),
                        "mean_net_value": float(group["net_value"].mean()),
                        "mean_regret_net_value": float(group["regret_net_value"].mean()),
                    }
                    if has_value
                    else {}
                ),
            }
        )
    ranking = pd.DataFrame(rows)
    ranking["rank_worst_case"] = ranking["worst_case"].rank(ascending=False, method="min").astype(np.int64)
    ranking["rank_mean_regret"] = ranking["mean_regret"].rank(ascending=True, method="min").astype(np.int64)
    if has_value:
        ranking["rank_net_value"] = (
            ranking["mean_regret_net_value"].rank(ascending=True, method="min").astype(np.int64)
        )
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
