"""Tests of experiments.studies.calibrate: the spec's checks, the objective on values known by hand, the
scaling, and a small search end to end (resumed, extended, and refused in another's folder)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from experiments.cli import main
from experiments.engine.spec import SpecError
from experiments.studies.calibrate import (
    EVALUATIONS_CSV,
    RESULT_JSON,
    SPEC_FILE,
    load_calibration,
    measure,
    objective,
)

BASELINE = Path(__file__).resolve().parents[1] / "configs" / "baseline.yaml"
SPEC = {
    "name": "small",
    "scenario": "small.yaml",
    "parameters": {
        "coefficients.reviews.objective_share": {"low": 0.8, "high": 1.0, "start": 0.9},
        "coefficients.learning.function_base_capability": {"low": 0.0, "high": 0.6},
    },
    "replications": 2,
    "seed": 3,
    "max_evaluations": 3,
}


def write_spec(folder: Path, **changes) -> Path:
    """A calibration spec on a small version of the baseline (40 alliances, three years)."""
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
        (
            {"parameters": {"coefficients.reviews.objective_share": {"low": 0.9, "high": 0.8}}},
            "low must be below high",
        ),
        (
            {
                "parameters": {
                    "coefficients.reviews.objective_share": {"low": 0.8, "high": 0.9, "start": 0.95}
                }
            },
            "start must lie in",
        ),
        ({"parameters": {"coefficients.reviews.nonsense": {"low": 0, "high": 1}}}, "nonsense"),
        ({"parameters": {"coefficients.reviews.objective_share": {"low": 0.8, "high": 1.5}}}, "high ends"),
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


def test_scaling_round_trips_and_clips(tmp_path):
    calibration = load_calibration(write_spec(tmp_path))
    values = calibration.to_values([0.5, 0.25])
    assert values == {
        "coefficients.reviews.objective_share": 0.9,
        "coefficients.learning.function_base_capability": 0.15,
    }
    assert np.allclose(calibration.to_unit(values), [0.5, 0.25])
    assert calibration.to_values([1.7, -0.2]) == {
        "coefficients.reviews.objective_share": 1.0,
        "coefficients.learning.function_base_capability": 0.0,
    }


# --- the objective -----------------------------------------------------------------------------


def patterns(baseline=0.50, function=0.63, diff_low=0.05, hazard=True) -> dict:
    return {
        "baseline_rate": baseline,
        "central_function_rate": function,
        "difference_ci_low": diff_low,
        "hazard_inverted_u": hazard,
    }


def test_objective_on_target_is_zero_and_accepted():
    assert objective(patterns()) == (pytest.approx(0.0), True)


def test_objective_is_one_at_the_edge_of_a_band():
    # (0.55 - 0.50) / 0.05 = 1 for the baseline, 0 for the function
    value, accepted = objective(patterns(baseline=0.55))
    assert value == pytest.approx(1.0) and accepted


def test_objective_outside_a_band_is_rejected():
    # (0.44 - 0.50) / 0.05 = -1.2 -> 1.44; (0.60 - 0.63) / 0.05 = -0.6 -> 0.36
    value, accepted = objective(patterns(baseline=0.44, function=0.60))
    assert value == pytest.approx(1.44 + 0.36) and not accepted


@pytest.mark.parametrize("missed", [{"diff_low": -0.01}, {"hazard": False}])
def test_a_missed_pattern_costs_one_and_rejects(missed):
    value, accepted = objective(patterns(**missed))
    assert value == pytest.approx(1.0) and not accepted


def test_nothing_decided_is_infinitely_bad():
    value, accepted = objective(patterns(baseline=float("nan")))
    assert math.isinf(value) and not accepted


def test_measure_reads_both_arms_and_the_hazard():
    runs = pd.DataFrame(
        {
            "point_id": [0, 0, 1, 1],
            "replication": [0, 1, 0, 1],
            "status": "ok",
            "successes": [50, 40, 60, 56],
            "decided": [100, 100, 100, 100],
        }
    ).assign(success_rate=lambda f: f["successes"] / f["decided"])
    outcomes = pd.DataFrame(
        {
            "point_id": 0,
            "outcome": ["success", "failure", "failure", "failure", "success"],
            "duration_weeks": [104, 10, 60, 70, 104],
            "planned_term_weeks": 104,
        }
    )
    row = measure(runs, outcomes)
    assert row["baseline_rate"] == pytest.approx(0.45)
    assert row["central_function_rate"] == pytest.approx(0.58)
    assert row["difference"] == pytest.approx(0.13)  # paired: +0.10 and +0.16
    assert row["hazard_inverted_u"]  # half-years: 1/5, 2/4, 0/2 -> peak in the middle


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
    printed = capsys.readouterr().out
    assert "coefficients.reviews.objective_share =" in printed and "evaluations in" in printed
    # the first evaluation is the start; each candidate has its own results folder of 2 arms x 2
    assert best["seconds"] >= 0 and table["evaluation"].tolist() == [1, 2, 3]
    assert table.loc[0, "coefficients.reviews.objective_share"] == pytest.approx(0.9)
    run_files = sorted((out / "evaluations").glob("*/runs/*.parquet"))
    assert len(run_files) == 3 * 4
    stamps = {p: p.stat().st_mtime_ns for p in run_files}
    # the same command again replays the search from disk: no run is repeated, same answer
    assert main(argv) == status
    again = json.loads((out / RESULT_JSON).read_text())
    assert again["fitted"] == report["fitted"]
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
