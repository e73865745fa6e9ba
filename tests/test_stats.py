"""Tests of experiments.analysis.stats against values computed by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import sim
from experiments.analysis.stats import (
    describe_point,
    hazard_by_period,
    kaplan_meier,
    paired_difference,
    success_summary,
    wilson_interval,
)

Z95 = sps.norm.ppf(0.975)  # 1.959963984540054


def wilson_by_hand(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score bounds: (p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)."""
    p = k / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return centre - half, centre + half


# --- wilson_interval ---------------------------------------------------------------------------


def test_wilson_interval_eight_of_ten():
    # p = 0.8, z^2 = 3.841459, denom = 1 + 0.3841459 = 1.3841459
    # centre = (0.8 + 0.1920729) / 1.3841459 = 0.716740
    # half = 1.959964 * sqrt(0.016 + 0.0096036) / 1.3841459 = 0.226578 -> (0.490162, 0.943318)
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.490162, abs=1e-6)
    assert high == pytest.approx(0.943318, abs=1e-6)
    exp_low, exp_high = wilson_by_hand(8, 10)
    assert low == pytest.approx(exp_low, abs=1e-9)
    assert high == pytest.approx(exp_high, abs=1e-9)


def test_wilson_interval_other_confidence():
    # 90%: z = norm.ppf(0.95) = 1.644854; 3 of 6 -> centre 0.5, symmetric bounds
    z = sps.norm.ppf(0.95)
    low, high = wilson_interval(3, 6, confidence=0.90)
    exp_low, exp_high = wilson_by_hand(3, 6, z)
    assert (low, high) == pytest.approx((exp_low, exp_high), abs=1e-9)
    assert (low + high) / 2 == pytest.approx(0.5, abs=1e-12)


def test_wilson_interval_nothing_decided_is_nan():
    low, high = wilson_interval(0, 0)
    assert math.isnan(low) and math.isnan(high)


# --- paired_difference -------------------------------------------------------------------------


def test_paired_difference_five_pairs():
    baseline = [0.30, 0.25, 0.40, 0.35, 0.20]
    alternative = [0.35, 0.30, 0.38, 0.45, 0.27]
    # d = [0.05, 0.05, -0.02, 0.10, 0.07]; mean = 0.25 / 5 = 0.05
    # deviations 0, 0, -0.07, 0.05, 0.02 -> squares sum 0.0049 + 0.0025 + 0.0004 = 0.0078
    # var = 0.0078 / 4 = 0.00195, sd = 0.0441588; se = sqrt(0.00195 / 5) = sqrt(0.00039) = 0.0197484
    # t_{0.975, 4} = 2.776445; half width = 2.776445 * 0.0197484 = 0.0548304 -> (-0.0048304, 0.1048304)
    t = sps.t.ppf(0.975, df=4)
    se = math.sqrt(0.00039)
    res = paired_difference(baseline, alternative)
    assert res["n"] == 5
    assert res["mean"] == pytest.approx(0.05, abs=1e-12)
    assert res["sd"] == pytest.approx(math.sqrt(0.00195), abs=1e-12)
    assert res["se"] == pytest.approx(se, abs=1e-12)
    assert res["ci_low"] == pytest.approx(0.05 - t * se, abs=1e-12)
    assert res["ci_high"] == pytest.approx(0.05 + t * se, abs=1e-12)
    assert res["ci_low"] == pytest.approx(-0.0048304, abs=1e-6)
    assert res["ci_high"] == pytest.approx(0.1048304, abs=1e-6)


def test_paired_difference_sign_and_array_likes():
    # swapping the arms flips the sign of the mean and mirrors the interval; accepts Series/arrays
    alternative = pd.Series([0.35, 0.30, 0.38, 0.45, 0.27])
    res = paired_difference(alternative, np.array([0.30, 0.25, 0.40, 0.35, 0.20]))
    assert res["mean"] == pytest.approx(-0.05, abs=1e-12)
    assert res["ci_low"] == pytest.approx(-0.1048304, abs=1e-6)
    assert res["ci_high"] == pytest.approx(0.0048304, abs=1e-6)


def test_paired_difference_zero_variance_collapses():
    # every pair differs by exactly 1 -> sd = se = 0, interval [1, 1]
    res = paired_difference([1, 2, 3], [2, 3, 4])
    assert res["mean"] == 1.0
    assert res["se"] == 0.0
    assert (res["ci_low"], res["ci_high"]) == (1.0, 1.0)


def test_paired_difference_single_pair_has_nan_interval():
    res = paired_difference([0.2], [0.5])
    assert res["n"] == 1
    assert res["mean"] == pytest.approx(0.3, abs=1e-12)
    assert math.isnan(res["se"]) and math.isnan(res["ci_low"]) and math.isnan(res["ci_high"])


def test_paired_difference_unequal_lengths_rejected():
    with pytest.raises(ValueError, match="same length"):
        paired_difference([1, 2, 3], [1, 2])


# --- success_summary ---------------------------------------------------------------------------


def test_success_summary_excludes_censored():
    outcomes = pd.Series(
        ["success", "failure", "censored", "restructured", "success", "failure", "censored", "success"],
        dtype=pd.StringDtype(),
    )
    # decided = 3 success + 2 failure + 1 restructured = 6 (2 censored left out); rate = 3 / 6
    res = success_summary(outcomes)
    assert res["decided"] == 6
    assert res["successes"] == 3
    assert res["rate"] == 0.5
    exp_low, exp_high = wilson_by_hand(3, 6)  # centre 0.5, half = 1.96*sqrt(1/24 + 3.8415/144)/1.6402
    assert res["ci_low"] == pytest.approx(exp_low, abs=1e-9)
    assert res["ci_high"] == pytest.approx(exp_high, abs=1e-9)


def test_success_summary_all_censored_and_unknown():
    res = success_summary(pd.Series(["censored", "censored"]))
    assert res["decided"] == 0 and res["successes"] == 0
    assert math.isnan(res["rate"]) and math.isnan(res["ci_low"])
    with pytest.raises(ValueError, match="unknown outcomes"):
        success_summary(pd.Series(["success", "sucess"]))


# --- kaplan_meier ------------------------------------------------------------------------------

KM_DURATIONS = [2, 3, 3, 5, 8, 9]
KM_ENDED = [True, True, False, True, False, True]


def test_kaplan_meier_product_limit_by_hand():
    # t=2: at risk 6 (all), 1 ends   -> S = 5/6
    # t=3: at risk 5 (3,3,5,8,9), 1 ends (the other 3 is censored, still at risk at 3)
    #                                 -> S = 5/6 * 4/5 = 2/3
    # t=5: at risk 3 (5,8,9), 1 ends -> S = 2/3 * 2/3 = 4/9
    # t=8: censored, no event        -> S = 4/9
    # t=9: at risk 1, 1 ends         -> S = 4/9 * 0 = 0
    km = kaplan_meier(KM_DURATIONS, KM_ENDED)
    assert list(km.columns) == ["time", "survival", "ci_low", "ci_high"]
    assert km["time"].tolist() == [0.0, 2.0, 3.0, 5.0, 8.0, 9.0]
    expected = [1.0, 5 / 6, 2 / 3, 4 / 9, 4 / 9, 0.0]
    assert km["survival"].to_numpy() == pytest.approx(expected, abs=1e-12)
    assert (km.loc[0, "ci_low"], km.loc[0, "ci_high"]) == (1.0, 1.0)


def test_kaplan_meier_greenwood_interval_by_hand():
    # Greenwood: var S(t) = S(t)^2 * sum_{t_j <= t} d_j / (n_j (n_j - d_j))
    # t=2: (5/6)^2 * 1/(6*5) = 25/1080; low = 5/6 - 1.959964 * sqrt(25/1080) = 0.535134, high clipped to 1
    # t=3: (2/3)^2 * (1/30 + 1/(5*4)) = 4/9 * 1/12 = 1/27; low = 2/3 - 1.959964/sqrt(27) = 0.289471
    km = kaplan_meier(KM_DURATIONS, KM_ENDED).set_index("time")
    assert km.loc[2.0, "ci_low"] == pytest.approx(5 / 6 - Z95 * math.sqrt(25 / 1080), abs=1e-9)
    assert km.loc[2.0, "ci_high"] == 1.0
    assert km.loc[3.0, "ci_low"] == pytest.approx(2 / 3 - Z95 / math.sqrt(27), abs=1e-9)
    assert km.loc[3.0, "ci_high"] == pytest.approx(min(1.0, 2 / 3 + Z95 / math.sqrt(27)), abs=1e-9)
    # S = 0 at t=9: Greenwood is undefined there (0 * inf), reported as nan
    assert math.isnan(km.loc[9.0, "ci_low"]) and math.isnan(km.loc[9.0, "ci_high"])


def test_kaplan_meier_all_censored_stays_at_one():
    km = kaplan_meier([4, 7], [False, False])
    assert km["time"].tolist() == [0.0, 4.0, 7.0]
    assert km["survival"].tolist() == [1.0, 1.0, 1.0]


def test_kaplan_meier_rejects_bad_inputs():
    with pytest.raises(ValueError, match="same length"):
        kaplan_meier([1, 2, 3], [True, False])
    with pytest.raises(ValueError, match="non-negative"):
        kaplan_meier([1, -2], [True, True])


# --- hazard_by_period --------------------------------------------------------------------------

HZ_DURATIONS = [10, 52, 60, 104, 104, 120, 130, 200]
HZ_ENDED = [True, True, False, True, True, False, True, False]


def test_hazard_by_period_life_table_by_hand():
    # 52-week periods (start, end]: [0,52] holds 10E, 52E; (52,104] 60C, 104E, 104E;
    # (104,156] 120C, 130E; (156,208] 200C.
    # period 1: at risk 8, ended 2, censored 0 -> 2 / 8 = 0.25
    # period 2: at risk 6 (durations > 52), ended 2, censored 1 -> 2 / (6 - 0.5) = 0.363636
    # period 3: at risk 3 (120, 130, 200), ended 1, censored 1 -> 1 / (3 - 0.5) = 0.4
    # period 4: at risk 1 (200), ended 0, censored 1 -> 0 / 0.5 = 0
    table = hazard_by_period(HZ_DURATIONS, HZ_ENDED, period_weeks=52)
    assert table["start"].tolist() == [0, 52, 104, 156]
    assert table["end"].tolist() == [52, 104, 156, 208]
    assert table["at_risk"].tolist() == [8, 6, 3, 1]
    assert table["ended"].tolist() == [2, 2, 1, 0]
    assert table["censored"].tolist() == [0, 1, 1, 1]
    assert table["hazard"].to_numpy() == pytest.approx([0.25, 2 / 5.5, 0.4, 0.0], abs=1e-12)


def test_hazard_by_period_max_weeks_and_zero_duration():
    # a 0-week alliance counts in the first period; max_weeks cuts the table (300 stays at risk)
    table = hazard_by_period([0, 30, 300], [True, False, True], period_weeks=100, max_weeks=200)
    # [0,100]: at risk 3, ended 1 (0), censored 1 (30) -> 1 / 2.5 = 0.4; (100,200]: at risk 1, nothing
    assert table["at_risk"].tolist() == [3, 1]
    assert table["ended"].tolist() == [1, 0]
    assert table["hazard"].to_numpy() == pytest.approx([0.4, 0.0], abs=1e-12)
    # max_weeks=260 on the life table above adds an empty 5th period (156, 208] -> (208, 260]: nan
    longer = hazard_by_period(HZ_DURATIONS, HZ_ENDED, period_weeks=52, max_weeks=260)
    assert len(longer) == 5
    assert longer.loc[4, "at_risk"] == 0 and math.isnan(longer.loc[4, "hazard"])


def test_hazard_matches_kaplan_meier_without_censoring():
    # no censoring: prod (1 - hazard) over periods = share still running at the period end = KM
    durations = [10, 52, 60, 104, 104, 120, 130, 200]
    table = hazard_by_period(durations, [True] * 8, period_weeks=52)
    # S(104) = 3/8 (120, 130, 200 still running); product: (1 - 2/8) * (1 - 3/6) = 0.75 * 0.5 = 0.375
    assert float(np.prod(1 - table["hazard"].iloc[:2])) == pytest.approx(3 / 8, abs=1e-12)
    km = kaplan_meier(durations, [True] * 8).set_index("time")
    assert km.loc[104.0, "survival"] == pytest.approx(3 / 8, abs=1e-12)


# --- describe_point ----------------------------------------------------------------------------


def point_frame() -> pd.DataFrame:
    text = pd.StringDtype()
    outcome = ["success", "failure", "failure", "failure", "restructured", "censored", "censored", "failure"]
    reason = [None, "trust_collapse", "value_shortfall", "value_shortfall", None, None, None, None]
    return pd.DataFrame(
        {
            "outcome": pd.array(outcome, dtype=text),
            "reason": pd.array(reason, dtype=text),
            "duration_weeks": [100, 30, 52, 104, 90, 120, 120, 70],
            "value_realized": [10.0, -2.0, 1.0, 3.0, 6.0, 4.0, 5.0, 2.0],
            "final_trust": [0.8, 0.2, 0.4, 0.5, 0.6, 0.7, 0.9, 0.3],
        }
    )


def test_describe_point_by_hand():
    res = describe_point(point_frame())
    # 8 alliances: 1 success, 4 failures (one without a reason), 1 restructured, 2 censored
    assert (res["alliances"], res["decided"], res["successes"]) == (8, 6, 1)
    assert (res["failures"], res["restructured"], res["censored"]) == (4, 1, 2)
    assert res["success_rate"] == pytest.approx(1 / 6, abs=1e-12)
    exp_low, exp_high = wilson_by_hand(1, 6)
    assert res["success_ci_low"] == pytest.approx(exp_low, abs=1e-9)
    assert res["success_ci_high"] == pytest.approx(exp_high, abs=1e-9)
    # decided durations 100, 30, 52, 104, 90, 70: mean 446 / 6 = 74.333; sorted 30 52 70 90 100 104
    # -> median (70 + 90) / 2 = 80
    assert res["mean_duration_weeks"] == pytest.approx(446 / 6, abs=1e-12)
    assert res["median_duration_weeks"] == 80.0
    # failures by reason: every sim.REASONS key present, zero when absent; the reasonless one in none
    assert res["failures_trust_collapse"] == 1
    assert res["failures_value_shortfall"] == 2
    assert res["failures_detected_opportunism"] == 0
    assert res["failures_strategic_drift"] == 0
    assert {k for k in res if k.startswith("failures_")} == {f"failures_{r}" for r in sim.REASONS}
    # all 8 rows: value (10 - 2 + 1 + 3 + 6 + 4 + 5 + 2) / 8 = 29 / 8; trust 4.4 / 8 = 0.55
    assert res["mean_value_realized"] == pytest.approx(29 / 8, abs=1e-12)
    assert res["mean_final_trust"] == pytest.approx(0.55, abs=1e-12)


def test_describe_point_missing_column():
    with pytest.raises(ValueError, match="final_trust"):
        describe_point(point_frame().drop(columns="final_trust"))


# --- integration with the model ----------------------------------------------------------------


def test_stats_on_a_model_run():
    model = sim.AllianceModel(
        rng=1, formation__n_alliances=40, firms__count=60, simulation__horizon_weeks=120
    ).run()
    out = model.outcomes()
    summary = model.summary()
    point = describe_point(out)
    assert point["alliances"] == summary["alliances"] == 40
    assert point["success_rate"] == summary["success_rate"]
    assert point["median_duration_weeks"] == summary["median_duration_weeks"]
    assert {r: point[f"failures_{r}"] for r in sim.REASONS} == summary["failures_by_reason"]

    ended = (out["outcome"] != "censored").to_numpy()
    km = kaplan_meier(out["duration_weeks"], ended)
    survival = km["survival"].to_numpy()
    assert km.loc[0, "time"] == 0 and survival[0] == 1.0
    assert np.all((survival >= 0) & (survival <= 1))
    assert np.all(np.diff(survival) <= 0)
    assert survival[-1] < 1  # some alliances did end
    table = hazard_by_period(out["duration_weeks"], ended, period_weeks=52)
    assert table["ended"].sum() == ended.sum()
    assert table["ended"].sum() + table["censored"].sum() == len(out)
