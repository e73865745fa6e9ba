"""Tests of experiments.studies.calibrate: the spec's checks, the scaling, the objective over every
validation target on measurements known by hand, the measure over every arm, and a small search end
to end (resumed, extended, and refused in another's folder)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from experiments.analysis.patterns import ARMS, OUTCOME_COLUMNS
from experiments.cli import main
from experiments.engine.spec import SpecError
from experiments.engine.sweep import load_outcomes, load_runs
from experiments.studies.calibrate import (
    ARM_POINTS,
    EVALUATIONS_CSV,
    RESULT_JSON,
    SPEC_FILE,
    load_calibration,
    measure,
    objective,
    target_column,
    target_columns,
)
from experiments.studies.validation_targets import TARGETS, Measured, Target

BASELINE = Path(__file__).resolve().parents[1] / "configs" / "baseline.yaml"
SHIPPED = BASELINE.parent / "calibration" / "baseline.yaml"
COORDINATION = "coefficients.value.expectation_coordination"
TRUST = "coefficients.reviews.trust_reference"
SPEC = {
    "name": "small",
    "scenario": "small.yaml",
    "parameters": {
        COORDINATION: {"low": 0.2, "high": 0.4, "start": 0.28},
        TRUST: {"low": 0.45, "high": 0.7},
    },
    "replications": 2,
    "seed": 3,
    "max_evaluations": 3,
}


def write_spec(folder: Path, **changes) -> Path:
    """A calibration spec on a small version of the baseline (40 alliances, three years), the sizes
    of tests/test_validation.py's QUICK settings."""
    scenario = yaml.safe_load(BASELINE.read_text())
    scenario["formation"]["n_alliances"] = 40
    scenario["firms"]["count"] = 60
    scenario["simulation"]["horizon_weeks"] = 156
    (folder / "small.yaml").write_text(yaml.safe_dump(scenario))
    spec = {**SPEC, **changes}
    path = folder / "calibration.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


# --- the spec ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"budget": 3}, "budget"),
        ({"replications": 1}, "replications"),
        ({"parameters": {}}, "parameters"),
        ({"parameters": {COORDINATION: {"low": 0.4, "high": 0.2}}}, "low must be below high"),
        ({"parameters": {COORDINATION: {"low": 0.2, "high": 0.3, "start": 0.35}}}, "start must lie in"),
        ({"parameters": {"coefficients.reviews.nonsense": {"low": 0, "high": 1}}}, "nonsense"),
        ({"parameters": {COORDINATION: {"low": 0.2, "high": 1.5}}}, "high ends"),
        ({"scenario": "missing.yaml"}, "not found"),
    ],
)
def test_bad_specs_are_refused_with_one_message(tmp_path, capsys, changes, message):
    path = write_spec(tmp_path, **changes)
    with pytest.raises(SpecError, match=message.replace("(", r"\(")):
        load_calibration(path)
    assert main(["calibrate", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("alliance-sim: error:") and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_malformed_yaml_is_refused(tmp_path, capsys):
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n")
    assert main(["calibrate", str(path), "--quiet"]) == 2
    assert "alliance-sim: error:" in capsys.readouterr().err


def test_the_shipped_spec_loads_and_starts_at_the_defaults():
    from sim import load_scenario

    calibration = load_calibration(SHIPPED)
    defaults = load_scenario(calibration.base).model_dump(mode="python")
    assert len(calibration.names) == 4
    for name, parameter in calibration.spec.parameters.items():
        default = defaults
        for part in name.split("."):
            default = default[part]
        assert parameter.start == pytest.approx(default), name
        assert parameter.low < default < parameter.high


def test_the_fingerprint_reads_the_scenario_values_not_its_comments(tmp_path):
    path = write_spec(tmp_path)
    before = load_calibration(path).fingerprint()
    scenario = tmp_path / "small.yaml"
    scenario.write_text("# a new comment\n" + scenario.read_text())
    assert load_calibration(path).fingerprint() == before
    scenario.write_text(scenario.read_text().replace("n_alliances: 40", "n_alliances: 41"))
    assert load_calibration(path).fingerprint() != before


def test_scaling_round_trips_and_clips(tmp_path):
    calibration = load_calibration(write_spec(tmp_path))
    values = calibration.to_values([0.5, 0.2])
    assert values == {COORDINATION: 0.3, TRUST: 0.5}
    assert np.allclose(calibration.to_unit(values), [0.5, 0.2])
    assert calibration.to_values([1.7, -0.2]) == {COORDINATION: 0.4, TRUST: 0.45}


# --- the column names --------------------------------------------------------------------------


def test_every_target_has_a_short_distinct_column():
    columns = target_columns()
    assert list(columns) == [t.name for t in TARGETS]
    assert len(set(columns.values())) == len(TARGETS)
    for column in columns.values():
        assert re.fullmatch(r"[a-z0-9_]+", column) and len(column) <= 40, column
    assert target_column("magnitude: a periodic risk clinic") == "m_periodic_risk_clinic"
    assert target_column("a periodic risk clinic") == "periodic_risk_clinic"
    assert target_column("magnitude: incentives 0.1 -> 0.7 (with x)") == "m_incentives_01_07_x"


def test_a_repeated_column_is_numbered():
    twins = [t for t in TARGETS if t.name == "a periodic risk clinic"] * 2
    assert list(target_columns(twins).values()) == ["periodic_risk_clinic"]  # one name, one key
    other = Target("periodic risk clinic", "", "", "", twins[0].check)
    assert list(target_columns([twins[0], other]).values()) == [
        "periodic_risk_clinic",
        "periodic_risk_clinic_2",
    ]


# --- the objective -----------------------------------------------------------------------------


def in_band(target: Target) -> Measured:
    """A measurement that passes `target`, in the middle of its band when it has one."""
    if target.limits is None:
        return Measured(0.05, 0.01, 0.09, True)
    low, high = target.limits
    return Measured((low + high) / 2, low, high, True)


def measured_with(**changed: Measured) -> list[tuple[Target, Measured]]:
    """Every target passing, except those named (by column) with the measurement given."""
    columns = target_columns()
    unknown = set(changed) - set(columns.values())
    assert not unknown
    return [(t, changed.get(columns[t.name], in_band(t))) for t in TARGETS]


def test_every_target_in_band_with_centred_levels_costs_nothing_and_is_accepted():
    assert objective(measured_with()) == (pytest.approx(0.0), True)


def test_a_level_at_the_edge_of_its_band_costs_one():
    value, accepted = objective(measured_with(baseline_success_rate=Measured(0.55, 0.52, 0.58, True)))
    assert value == pytest.approx(1.0) and accepted
    # the other level, half-way to its edge: (0.605 - 0.63) / 0.05 = -0.5 -> 0.25
    value, accepted = objective(
        measured_with(success_dedicated_alliance_function=Measured(0.605, 0.58, 0.63, True))
    )
    assert value == pytest.approx(0.25) and accepted


def test_a_magnitude_in_its_band_costs_nothing_off_centre():
    value, accepted = objective(measured_with(m_periodic_risk_clinic=Measured(0.14, 0.1, 0.18, True)))
    assert value == pytest.approx(0.0) and accepted


def test_a_magnitude_outside_its_band_is_rejected_and_costs_its_squared_excess():
    # a risk clinic's band is 0 to +15 pts, so a half-band is 7.5 pts
    def cost(excess_half_bands):
        measured = Measured(0.15 + excess_half_bands * 0.075, 0.1, 0.3, False)
        return objective(measured_with(m_periodic_risk_clinic=measured))

    (one, rejected_one), (two, rejected_two) = cost(1.0), cost(2.0)
    assert not rejected_one and not rejected_two
    assert one >= 1.0
    assert two - one == pytest.approx(4.0 - 1.0)  # squared: 2^2 - 1^2


def test_a_failed_direction_costs_one_and_rejects():
    value, accepted = objective(measured_with(periodic_risk_clinic=Measured(0.02, -0.01, 0.05, False)))
    assert value == pytest.approx(1.0) and not accepted


def test_failures_add_up():
    value, accepted = objective(
        measured_with(
            periodic_risk_clinic=Measured(0.02, -0.01, 0.05, False),
            termination_hazard_over_alliance=Measured(0.1, 0.09, 0.08, False),
            baseline_success_rate=Measured(0.45, 0.42, 0.48, True),
        )
    )
    assert value == pytest.approx(3.0) and not accepted


def test_nothing_measured_is_rejected_but_finite():
    nan = float("nan")
    value, accepted = objective(
        measured_with(
            baseline_success_rate=Measured(nan, nan, nan, False),
            periodic_risk_clinic=Measured(nan, nan, nan, False),
        )
    )
    assert math.isfinite(value) and value >= 2.0 and not accepted
    assert objective([]) == (0.0, False)


# --- measuring every arm -----------------------------------------------------------------------


def fake_arms(shift: dict[str, int] | None = None, replications: int = 3):
    """Runs and outcomes of every validation arm: arm i succeeds in 40 + i alliances of 100 (plus
    `shift` for the arms named), in every replication, with random but fixed cohorts."""
    rng = np.random.default_rng(5)
    runs, outcomes = [], []
    for arm, point in ARM_POINTS.items():
        for replication in range(replications):
            successes = 40 + point + replication + (shift or {}).get(arm, 0)
            runs.append(
                {
                    "point_id": point,
                    "replication": replication,
                    "status": "ok",
                    "successes": successes,
                    "decided": 100,
                    "success_rate": successes / 100,
                }
            )
            n = 60
            outcome = rng.choice(
                ["success", "failure", "restructured", "censored"], n, p=[0.45, 0.4, 0.05, 0.1]
            )
            outcomes.append(
                pd.DataFrame(
                    {
                        "point_id": point,
                        "replication": replication,
                        "outcome": outcome,
                        "reason": np.where(
                            outcome == "failure",
                            rng.choice(["value_shortfall", "trust_collapse", "detected_opportunism"], n),
                            "",
                        ),
                        "duration_weeks": rng.integers(10, 600, n),
                        "planned_term_weeks": 520,
                        "restructures": rng.integers(0, 2, n),
                        "final_trust": rng.uniform(0, 1, n),
                        "cultural_distance": rng.uniform(0, 2, n),
                        "top_down": rng.random(n) < 0.3,
                        "kind": rng.choice(["horizontal", "vertical"], n),
                        "n_partners": rng.choice([2, 3], n),
                        "complementarity": rng.uniform(0, 1, n),
                        "perceived_complementarity": rng.uniform(0, 1, n),
                    }
                )
            )
    return pd.DataFrame(runs), pd.concat(outcomes, ignore_index=True)


def test_measure_reads_every_target_and_the_levels():
    runs, outcomes = fake_arms()
    assert set(OUTCOME_COLUMNS) <= set(outcomes.columns)
    row = measure(runs, outcomes)
    point = ARM_POINTS
    # arm i succeeds in 40 + i + r of 100 in replication r: pooled (40 + i + 1) / 100
    assert row["baseline_rate"] == pytest.approx(0.41)
    assert row["central_function_rate"] == pytest.approx((41 + point["central_function"]) / 100)
    assert row["baseline_ci_low"] < 0.41 < row["baseline_ci_high"]
    assert row["targets_total"] == len(TARGETS)
    columns = target_columns()
    assert set(columns.values()) <= set(row)
    assert row["m_periodic_risk_clinic"] == pytest.approx(point["risk_clinic"] / 100)
    assert row["best_shipped_design_best"] == pytest.approx((41 + point["best_practice"]) / 100)
    failing = row["failing"].split()
    assert row["targets_passed"] == len(TARGETS) - len(failing)
    assert set(failing) <= set(columns.values())
    value, accepted = objective([(t, t.check(runs, outcomes, point)) for t in TARGETS])
    assert row["objective"] == pytest.approx(value) and row["accepted"] == accepted


@pytest.mark.parametrize("arm", list(ARMS))
def test_measure_reads_every_arm(arm):
    runs, outcomes = fake_arms()
    columns = target_columns().values()
    before = measure(runs, outcomes)
    after = measure(*fake_arms({arm: 7}))
    changed = [c for c in columns if not np.isclose(before[c], after[c], equal_nan=True)]
    assert changed, f"no target reads arm {arm}"


# --- end to end --------------------------------------------------------------------------------


def test_calibrate_runs_resumes_and_extends(tmp_path, capsys):
    spec = write_spec(tmp_path)
    out = tmp_path / "out"
    argv = ["calibrate", str(spec), "--out", str(out), "--workers", "1", "--quiet"]
    status = main(argv)
    report = json.loads((out / RESULT_JSON).read_text())
    assert status == (0 if report["accepted"] else 1)
    table = pd.read_csv(out / EVALUATIONS_CSV)
    assert len(table) == report["evaluations"] == 3
    best = table.loc[table["evaluation"] == report["best_evaluation"]].iloc[0]
    for name, value in report["fitted"].items():
        assert best[name] == pytest.approx(value)
        assert SPEC["parameters"][name]["low"] <= value <= SPEC["parameters"][name]["high"]
    assert report["environment"]["python"] and report["spec"]["name"] == "small"
    # evaluations.csv: the candidate, the verdict, the levels and every target's measured value
    for column in ("objective", "accepted", "targets_passed", "targets_total", "baseline_rate",
                   "baseline_ci_low", "central_function_rate", "central_function_ci_high"):  # fmt: skip
        assert column in table.columns
    assert set(target_columns().values()) <= set(table.columns)
    assert (table["targets_total"] == len(TARGETS)).all()
    # calibration.json: every target at the best candidate, measured, band and passed
    assert [r["target"] for r in report["targets"]] == [t.name for t in TARGETS]
    assert sum(r["passed"] for r in report["targets"]) == report["targets_passed"] == best["targets_passed"]
    assert report["objective"] == pytest.approx(best["objective"])
    assert report["accepted"] == all(r["passed"] for r in report["targets"])
    for record in report["targets"]:
        assert {"measured", "ci_low", "ci_high", "band", "limits", "passed"} <= set(record)
    printed = capsys.readouterr().out
    assert f"{COORDINATION} =" in printed and "evaluations in" in printed
    assert f"{report['targets_passed']} of {len(TARGETS)} targets pass" in printed
    # the first evaluation is the start; each candidate runs every arm x 2 replications
    assert best["seconds"] >= 0 and table["evaluation"].tolist() == [1, 2, 3]
    assert table.loc[0, COORDINATION] == pytest.approx(0.28)
    run_files = sorted((out / "evaluations").glob("*/runs/*.parquet"))
    assert len(run_files) == 3 * len(ARMS) * 2
    # the objective is the one the runs on disk give
    first = out / table.loc[0, "folder"]
    runs = load_runs(first)
    assert sorted(runs["point_id"].unique()) == list(range(len(ARMS)))
    again_row = measure(runs, load_outcomes(first, OUTCOME_COLUMNS))
    assert again_row["objective"] == pytest.approx(table.loc[0, "objective"])
    stamps = {p: p.stat().st_mtime_ns for p in run_files}
    # the same command again replays the search from disk: no run is repeated, same answer
    assert main(argv) == status
    again = json.loads((out / RESULT_JSON).read_text())
    assert again["fitted"] == report["fitted"] and again["targets"] == report["targets"]
    assert {p: p.stat().st_mtime_ns for p in run_files} == stamps
    # a larger budget carries on from there
    assert main([*argv, "--max-evaluations", "5"]) in (0, 1)
    more = pd.read_csv(out / EVALUATIONS_CSV)
    assert 3 < len(more) <= 5
    assert more.head(3)["objective"].tolist() == pytest.approx(table["objective"].tolist())


def test_another_calibration_cannot_use_the_folder(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / SPEC_FILE).write_text(json.dumps({"fingerprint": "someone-else", "name": "other"}))
    spec = write_spec(tmp_path)
    assert main(["calibrate", str(spec), "--out", str(out), "--quiet"]) == 2
    assert "holds another calibration ('other')" in capsys.readouterr().err
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine")
    assert main(["calibrate", str(spec), "--out", str(stranger), "--quiet"]) == 2
    assert "not a calibration folder" in capsys.readouterr().err
    assert (stranger / "notes.txt").read_text() == "mine"


def test_bad_command_line_values(tmp_path, capsys):
    spec = write_spec(tmp_path)
    for extra, message in (
        (["--workers", "0"], "--workers"),
        (["--max-evaluations", "0"], "--max-evaluations"),
    ):
        assert main(["calibrate", str(spec), "--quiet", *extra]) == 2
        assert message in capsys.readouterr().err
