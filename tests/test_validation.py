"""Tests of experiments.studies.validate: each check on runs built by hand (so the verdict is known),
the arms experiment's layout, and a quick end-to-end `alliance-sim validate`.

The full validation (200 replications per arm) is `alliance-sim validate`; its result is in
docs/VALIDATION.md. The slow test at the end runs it and requires every target to pass.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments import load_outcomes, load_runs
from experiments.analysis.stats import wilson_interval
from experiments.cli import main
from experiments.engine.arms import arms_experiment
from experiments.studies.validate import (
    ARMS,
    TARGETS,
    default_base_scenario,
    direction,
    evaluate,
    inverted_u,
    premature_failure_hazard,
    rate_in_band,
    rate_in_band_and_above,
    report_markdown,
)

QUICK = [
    "--set",
    "formation.n_alliances=40",
    "--set",
    "firms.count=60",
    "--set",
    "simulation.horizon_weeks=156",
]


def fake_runs(arms: dict[str, list[tuple[int, int]]]) -> tuple[pd.DataFrame, dict[str, int]]:
    """A runs table: arm name -> per-replication (successes, decided)."""
    rows = []
    for point, per_replication in enumerate(arms.values()):
        for replication, (successes, decided) in enumerate(per_replication):
            rows.append(
                {
                    "point_id": point,
                    "replication": replication,
                    "status": "ok",
                    "successes": successes,
                    "decided": decided,
                    "success_rate": successes / decided,
                }
            )
    return pd.DataFrame(rows), {name: point for point, name in enumerate(arms)}


# --- level checks ------------------------------------------------------------------------------


def test_rate_in_band_pools_replications_and_uses_the_band_inclusively():
    runs, arms = fake_runs({"baseline": [(40, 100), (50, 100)]})  # pooled 90 / 200 = 0.45
    measured = rate_in_band("baseline", 0.45, 0.55)(runs, None, arms)
    assert measured.value == pytest.approx(0.45)
    assert (measured.ci_low, measured.ci_high) == pytest.approx(wilson_interval(90, 200))
    assert measured.passed
    assert not rate_in_band("baseline", 0.46, 0.55)(runs, None, arms).passed


def test_a_failed_run_does_not_count():
    runs, arms = fake_runs({"baseline": [(50, 100), (0, 100)]})
    runs.loc[1, "status"] = "failed"
    assert rate_in_band("baseline", 0.45, 0.55)(runs, None, arms).value == pytest.approx(0.5)


def test_level_and_difference_need_both():
    # in the band and paired difference +0.13 every replication: passes
    good, arms = fake_runs(
        {"base": [(50, 100), (49, 100), (51, 100)], "fn": [(63, 100), (62, 100), (64, 100)]}
    )
    assert rate_in_band_and_above("fn", "base", 0.58, 0.68)(good, None, arms).passed
    # in the band but no better than the reference in one replication out of three: the paired
    # differences (+0.13, +0.13, -0.03) have an interval that reaches below zero
    mixed, arms = fake_runs(
        {"base": [(50, 100), (49, 100), (63, 100)], "fn": [(63, 100), (62, 100), (60, 100)]}
    )
    measured = rate_in_band_and_above("fn", "base", 0.58, 0.68)(mixed, None, arms)
    assert 0.58 <= measured.value <= 0.68
    assert not measured.passed
    assert "paired difference" in measured.note


# --- direction checks --------------------------------------------------------------------------


def test_direction_passes_only_when_the_interval_is_on_the_claimed_side():
    runs, arms = fake_runs({"a": [(50, 100), (40, 100), (45, 100)], "b": [(60, 100), (52, 100), (55, 100)]})
    # b - a = (0.10, 0.12, 0.10): mean 0.1067, interval clear of zero
    up = direction(["b"], ["a"], +1)(runs, None, arms)
    assert up.value == pytest.approx(0.32 / 3)
    assert up.ci_low > 0 and up.passed
    assert not direction(["b"], ["a"], -1)(runs, None, arms).passed
    assert direction(["a"], ["b"], -1)(runs, None, arms).passed


def test_difference_in_differences_of_incentives():
    # (high, consistent) - (low, consistent) - [(high, inconsistent) - (low, inconsistent)]
    runs, arms = fake_runs(
        {
            "hc": [(70, 100), (68, 100), (72, 100)],
            "lc": [(50, 100), (50, 100), (50, 100)],
            "hi": [(52, 100), (51, 100), (53, 100)],
            "li": [(50, 100), (49, 100), (50, 100)],
        }
    )
    measured = direction(["hc", "li"], ["lc", "hi"], +1)(runs, None, arms)
    # per replication: 0.20 - 0.02 = 0.18, 0.18 - 0.02 = 0.16, 0.22 - 0.03 = 0.19
    assert measured.value == pytest.approx((0.18 + 0.16 + 0.19) / 3)
    assert measured.passed


# --- the hazard's shape ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hazard, expected",
    [
        ([0.01, 0.05, 0.10, 0.04, 0.02], (True, 2)),
        ([0.01, 0.02, 0.03, 0.04, 0.05], (False, 4)),  # rising only
        ([0.05, 0.04, 0.03, 0.02, 0.01], (False, 0)),  # falling only
        ([0.04, 0.05, 0.05, 0.04], (False, 1)),  # too flat: peak < 1.5 x ends
        ([0.0, 0.0, 0.0], (False, 0)),
        ([0.01, np.nan, 0.05, 0.0], (True, 2)),  # nobody at risk counts as zero hazard
    ],
)
def test_inverted_u(hazard, expected):
    assert inverted_u(np.array(hazard)) == expected


def test_premature_failure_hazard_counts_only_failures_before_the_planned_term():
    outcomes = pd.DataFrame(
        {
            "outcome": ["failure", "failure", "success", "failure", "censored"],
            "duration_weeks": [10, 30, 52, 52, 40],
            "planned_term_weeks": [52, 52, 52, 52, 52],
        }
    )
    table = premature_failure_hazard(outcomes, period_weeks=26)
    assert list(table["start"]) == [0, 26]
    # first half year: 5 at risk, 1 premature failure (week 10), nobody censored
    assert table["hazard"].iloc[0] == pytest.approx(1 / 5)
    # second: 4 at risk; the week-30 failure counts; the success and the failure at the term
    # (not premature) and the alliance still running at 40 are censored: 1 / (4 - 3/2)
    assert table["ended"].iloc[1] == 1 and table["censored"].iloc[1] == 3
    assert table["hazard"].iloc[1] == pytest.approx(1 / 2.5)


# --- the experiment ----------------------------------------------------------------------------


def test_arms_experiment_has_one_point_per_arm_on_common_random_numbers():
    arms = {
        "base": {},
        "weekly": {"governance.meeting_interval_weeks": 1},
        "fn": {"firms.alliance_function": "central_function"},
    }
    experiment = arms_experiment("t", default_base_scenario(), arms, replications=3, seed=5)
    points = experiment.points
    assert list(points["governance.meeting_interval_weeks"]) == [4, 1, 4]  # 4 is the baseline's
    assert list(points["firms.alliance_function"]) == ["none", "none", "central_function"]
    assert experiment.reference_point == 0
    assert experiment.run_seed(0, 2) == experiment.run_seed(1, 2) == experiment.run_seed(2, 2)
    assert experiment.run_seed(0, 1) != experiment.run_seed(0, 2)
    assert experiment.scenarios[1].governance.meeting_interval_weeks == 1
    assert experiment.scenarios[2].governance.meeting_interval_weeks == 4


def fake_outcomes(arms: dict[str, int], replications: int = 2, per_run: int = 120) -> pd.DataFrame:
    """Outcomes of every arm with every column the targets read (a fixed random cohort)."""
    rng = np.random.default_rng(3)
    frames = []
    for point in arms.values():
        for replication in range(replications):
            n = per_run
            kinds = ["success", "failure", "restructured", "censored"]
            outcome = rng.choice(kinds, n, p=[0.45, 0.4, 0.1, 0.05])
            frames.append(
                pd.DataFrame(
                    {
                        "point_id": point,
                        "replication": replication,
                        "outcome": outcome,
                        "reason": np.where(
                            outcome == "failure", rng.choice(["trust_collapse", "value_shortfall"], n), None
                        ),
                        "duration_weeks": rng.integers(10, 600, n),
                        "planned_term_weeks": 600,
                        "restructures": rng.integers(0, 2, n),
                        "final_trust": rng.random(n),
                        "cultural_distance": rng.random(n),
                        "top_down": rng.random(n) < 0.3,
                        "kind": rng.choice(["vertical", "horizontal"], n),
                        "n_partners": 2,
                        "complementarity": rng.random(n),
                        "perceived_complementarity": rng.random(n),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def test_every_target_names_arms_that_exist():
    runs, arms = fake_runs({name: [(50, 100), (52, 100)] for name in ARMS})
    report = evaluate(runs, fake_outcomes(arms), arms)
    assert len(report) == len(TARGETS)
    assert set(report["unit"]) == {"rate", "difference", "hazard", "share", "years", "number"}
    assert report["measured"].notna().all()
    text = report_markdown(report, 2)
    assert text.count("\n| ") == len(TARGETS) and "targets pass" in text


# --- the command -------------------------------------------------------------------------------


def test_validate_command_quick(tmp_path, capsys):
    folder = tmp_path / "validation"
    argv = ["validate", "--replications", "2", "--out", str(folder), "--workers", "1", "--quiet", *QUICK]
    status = main(argv)
    printed = capsys.readouterr().out
    report = pd.read_csv(folder / "validation.csv")
    assert len(report) == len(TARGETS)
    assert status == (0 if report["passed"].all() else 1)
    assert f"{int(report['passed'].sum())} of {len(TARGETS)} targets pass" in printed
    for name in ("baseline success rate", "termination hazard", "proactive leaders", "magnitude: "):
        assert name in printed
    # the report is the evaluation of what is on disk
    runs = load_runs(folder)
    assert len(runs) == 2 * len(ARMS) and (runs["status"] == "ok").all()
    outcomes = load_outcomes(folder)
    again = evaluate(runs, outcomes, {name: point for point, name in enumerate(ARMS)})
    assert np.allclose(again["measured"], report["measured"], equal_nan=True)
    # a rerun resumes: nothing is run again
    before = {p: p.stat().st_mtime_ns for p in (folder / "runs").iterdir()}
    assert main(argv) == status
    assert {p: p.stat().st_mtime_ns for p in (folder / "runs").iterdir()} == before


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--replications", "1"], "--replications must be at least 2"),
        (["--workers", "0"], "--workers must be a positive integer"),
        (["--scenario", "nowhere.yaml"], "no such file"),
        (["--set", "governance.meeting_interval_weeks=-1"], "governance.meeting_interval_weeks"),
        (["--set", "firms.nonsense=1"], "nonsense"),
    ],
)
def test_validate_bad_input_exits_2_with_one_message(tmp_path, capsys, extra, message):
    assert main(["validate", "--out", str(tmp_path / "v"), "--quiet", *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("alliance-sim: error:") and message in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_full_validation_passes(tmp_path):
    """The real thing: 200 replications per arm, every target must pass (about 3 min on 2 cores)."""
    assert main(["validate", "--out", str(tmp_path / "validation"), "--quiet"]) == 0
