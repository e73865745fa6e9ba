"""Paired counterfactuals (`alliance-sim compare`): the paired interval against a hand computation,
the flips against the outcomes, a scenario compared with itself, a lever's known direction, the
files written, resuming, and every documented error path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from experiments.cli import main
from experiments.studies.compare import COMPARISON_COLUMNS, FLIP_COLUMNS, METRICS, compare
from experiments.studies.sweep import load_outcomes, load_runs
from sim import REASONS

TINY = {
    "name": "tiny",
    # terms short enough to end within the horizon (the baseline's are years longer)
    "formation": {"n_alliances": 30, "term_weeks": {"distribution": "uniform", "min": 60, "max": 140}},
    "firms": {"count": 45},
    "simulation": {"horizon_weeks": 156},
}
REPLICATIONS = 5
SEED = 3
LEVER = "governance.risk_clinic=periodic"


@pytest.fixture(scope="module")
def tiny_yaml(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path


@pytest.fixture(scope="module")
def compared(tiny_yaml, tmp_path_factory) -> Path:
    """A comparison folder made by the command line: tiny scenario, periodic risk clinics."""
    folder = tmp_path_factory.mktemp("compare") / "out"
    status = main(
        ["compare", str(tiny_yaml), "--set", LEVER, "--replications", str(REPLICATIONS),
         "--seed", str(SEED), "--workers", "1", "--out", str(folder), "--quiet"]
    )  # fmt: skip
    assert status == 0
    return folder


def per_replication(runs: pd.DataFrame, point: int, values: pd.Series) -> np.ndarray:
    rows = runs["point_id"] == point
    return values[rows].to_numpy(dtype=float)[np.argsort(runs.loc[rows, "replication"].to_numpy())]


def test_comparison_csv_has_exactly_the_columns_and_every_metric(compared):
    table = pd.read_csv(compared / "comparison.csv")
    assert tuple(table.columns) == COMPARISON_COLUMNS
    assert list(table["metric"]) == list(METRICS)
    assert table["metric"].iloc[0] == "success_rate"
    assert tuple(pd.read_csv(compared / "flips.csv").columns) == FLIP_COLUMNS
    for name in ("comparison.png", "comparison.svg", "manifest.json", "runs"):
        assert (compared / name).exists(), name


@pytest.mark.parametrize("metric", ["success_rate", "mean_final_trust", "failure_rate_value_shortfall"])
def test_paired_interval_matches_a_hand_computed_t_interval(compared, metric):
    runs = load_runs(compared)
    assert len(runs) == 2 * REPLICATIONS
    if metric.startswith("failure_rate_"):
        values = runs[f"failures_{metric.removeprefix('failure_rate_')}"] / runs["decided"]
    else:
        values = runs[metric]
    base, alt = per_replication(runs, 0, values), per_replication(runs, 1, values)
    diff = alt - base
    n = len(diff)
    mean = diff.mean()
    half = stats.t.ppf(0.975, n - 1) * diff.std(ddof=1) / np.sqrt(n)
    row = pd.read_csv(compared / "comparison.csv").set_index("metric").loc[metric]
    assert row["baseline"] == pytest.approx(base.mean(), abs=1e-12)
    assert row["alternative"] == pytest.approx(alt.mean(), abs=1e-12)
    assert row["difference"] == pytest.approx(mean, abs=1e-12)
    assert row["ci_low"] == pytest.approx(mean - half, abs=1e-12)
    assert row["ci_high"] == pytest.approx(mean + half, abs=1e-12)


def test_flips_count_the_alliances_whose_outcome_changed(compared):
    outcomes = load_outcomes(compared, columns=["point_id", "replication", "alliance_id", "outcome"])
    wide = outcomes.pivot(index=["replication", "alliance_id"], columns="point_id", values="outcome")
    changed = wide[wide[0] != wide[1]]
    flips = pd.read_csv(compared / "flips.csv")
    assert flips["alliances"].sum() == len(changed)
    gained = int((changed[1] == "success").sum())
    assert flips.loc[flips["alternative_outcome"] == "success", "alliances"].sum() == gained
    assert (flips["baseline_outcome"] != flips["alternative_outcome"]).all()
    assert flips["per_replication"].to_numpy() == pytest.approx(flips["alliances"].to_numpy() / REPLICATIONS)


def test_rerunning_the_same_command_reuses_the_folder_and_writes_the_same_bytes(compared, tiny_yaml):
    before = (compared / "comparison.csv").read_bytes()
    status = main(
        ["compare", str(tiny_yaml), "--set", LEVER, "--replications", str(REPLICATIONS),
         "--seed", str(SEED), "--workers", "1", "--out", str(compared), "--quiet"]
    )  # fmt: skip
    assert status == 0
    assert (compared / "comparison.csv").read_bytes() == before
    assert len(load_runs(compared)) == 2 * REPLICATIONS


def test_the_command_prints_a_table_with_the_success_rate_first(tiny_yaml, tmp_path, capsys):
    status = main(
        ["compare", str(tiny_yaml), "--set", LEVER, "--replications", "2", "--workers", "1",
         "--out", str(tmp_path / "out")]
    )  # fmt: skip
    assert status == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("metric") and "95% interval" in lines[1]
    assert lines[2].startswith("Success rate")
    assert any(line.startswith("Alliances whose outcome changed") for line in lines)


def test_a_scenario_compared_with_itself_differs_by_nothing(tiny_yaml):
    table = compare(tiny_yaml, {"governance.risk_clinic": "none"}, replications=3, seed=SEED, workers=1)
    assert np.allclose(table["difference"], 0.0)
    assert np.allclose(table[["ci_low", "ci_high"]], 0.0)
    assert np.allclose(table["baseline"], table["alternative"])
    assert table.attrs["flips"].empty


def test_an_alliance_function_raises_the_success_rate(tiny_yaml):
    # docs/VALIDATION.md: firms with a dedicated alliance function succeed more often (about 63% vs 50%)
    table = compare(
        tiny_yaml, {"firms.alliance_function": "central_function"}, replications=8, seed=SEED, workers=1
    ).set_index("metric")
    assert table.loc["success_rate", "difference"] > 0
    assert table.loc["success_rate", "ci_low"] > 0
    flips = table.attrs["flips"]
    became = flips.loc[flips["alternative_outcome"] == "success", "alliances"].sum()
    stopped = flips.loc[flips["baseline_outcome"] == "success", "alliances"].sum()
    assert became > stopped


def test_failure_rates_by_reason_are_shares_of_decided_alliances(compared):
    table = pd.read_csv(compared / "comparison.csv").set_index("metric")
    for reason in REASONS:
        for arm in ("baseline", "alternative"):
            assert 0.0 <= table.loc[f"failure_rate_{reason}", arm] <= 1.0


# --------------------------------------------------------------------------- errors


def error_of(capsys, argv: list[str]) -> str:
    status = main(argv)
    captured = capsys.readouterr()
    assert status == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("alliance-sim: error: "), captured.err
    assert "Traceback" not in captured.err
    return lines[0]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("governance.nope=3", "unknown key 'governance.nope'"),
        ("governance.risk_clinic=often", "'none', 'launch' or 'periodic'"),
        ("name=other", "do not change the simulation"),
        ("governance.risk_clinic", "expected KEY=VALUE"),
    ],
)
def test_a_bad_change_is_refused_with_the_schema_message(tiny_yaml, tmp_path, capsys, change, expected):
    message = error_of(capsys, ["compare", str(tiny_yaml), "--set", change, "--out", str(tmp_path / "o")])
    assert expected in message
    assert not (tmp_path / "o").exists()


def test_a_missing_scenario_file_is_refused(tmp_path, capsys):
    message = error_of(capsys, ["compare", str(tmp_path / "none.yaml"), "--set", LEVER])
    assert "not found" in message and "none.yaml" in message


def test_no_change_is_refused(tiny_yaml, capsys):
    assert "at least one change" in error_of(capsys, ["compare", str(tiny_yaml)])


@pytest.mark.parametrize(("option", "value"), [("--replications", "1"), ("--workers", "0"), ("--seed", "-1")])
def test_bad_numbers_are_refused(tiny_yaml, capsys, option, value):
    message = error_of(capsys, ["compare", str(tiny_yaml), "--set", LEVER, option, value])
    assert option in message


def test_a_folder_of_another_comparison_is_refused(compared, tiny_yaml, capsys):
    message = error_of(
        capsys,
        ["compare", str(tiny_yaml), "--set", "governance.risk_clinic=launch", "--replications", "2",
         "--workers", "1", "--out", str(compared)],
    )  # fmt: skip
    assert str(compared) in message


def test_the_table_is_the_same_whatever_the_worker_count(tiny_yaml, tmp_path):
    tables = []
    for workers in (1, 2):
        folder = tmp_path / f"workers{workers}"
        compare(tiny_yaml, {"governance.risk_clinic": "periodic"}, replications=2, seed=SEED,
                out=folder, workers=workers, figure=False)  # fmt: skip
        tables.append(((folder / "comparison.csv").read_bytes(), (folder / "flips.csv").read_bytes()))
    assert tables[0] == tables[1]


def without_study(folder: Path) -> dict:
    """Make `folder`'s manifest look as it did before manifests recorded their study."""
    import json

    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.pop("study"), manifest.pop("title")
    path.write_text(json.dumps(manifest))
    return manifest


def test_a_comparison_written_before_manifests_recorded_their_study_resumes(tiny_yaml, tmp_path, capsys):
    import json

    from experiments.engine.store import folder_study
    from experiments.report import build_report

    folder = tmp_path / "old"
    args = [
        "compare",
        str(tiny_yaml),
        "--set",
        LEVER,
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--out",
        str(folder),
    ]
    assert main([*args, "--replications", "2", "--quiet"]) == 0
    old = without_study(folder)
    assert old["kind"] == "sweep" and folder_study(folder) == "compare"  # told by its comparison.csv
    assert "Paired comparison report" in build_report(folder)
    # `run` into it is refused, naming what it holds; the comparison itself extends it
    assert main(["run", str(tiny_yaml), "--out", str(folder), "--quiet"]) == 2
    assert "holds the results of a comparison" in capsys.readouterr().err
    assert main([*args, "--replications", "3", "--quiet"]) == 0
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["study"] == "compare" and manifest["replications"] == 3
    assert len(load_runs(folder)) == 2 * 3


def test_an_interrupted_old_engine_folder_is_told_by_its_command(tmp_path):
    from experiments.engine.store import claim, study_of

    manifest = {
        "kind": "sweep",
        "name": "validation",
        "invocations": [{"command": ["alliance-sim", "validate"]}],
    }
    assert study_of(manifest) == "validate"
    assert (
        study_of({"kind": "sweep", "invocations": [{"command": ["alliance-sim", "sweep", "x.yaml"]}]})
        == "sweep"
    )
    assert study_of({"kind": "sweep"}, folder=tmp_path) == "sweep"
    (tmp_path / "manifest.json").write_text(__import__("json").dumps(manifest))
    assert claim(tmp_path, "validate", "a validation") == manifest
    with pytest.raises(Exception, match="holds the results of a validation"):
        claim(tmp_path, "stress", "a stress test")
