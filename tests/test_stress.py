"""Stress tests of governance designs: regret, the ranking, the stress table, a small run end to end,
the shipped spec, and every error path of the spec and the command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments import cli
from experiments.analysis.stats import wilson_interval
from experiments.engine.spec import SpecError
from experiments.studies.stress import (
    RANKING_CSV,
    STRESS_COLUMNS,
    STRESS_CSV,
    load_stress_spec,
    rank_designs,
    regret,
    stress_table,
    stress_test,
)
from sim import load_scenario

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "configs" / "stress" / "governance.yaml"
#: A small base whose alliances mostly end within the horizon: a run takes a fraction of a second.
TINY = {
    "name": "tiny",
    "formation": {"n_alliances": 40, "term_weeks": {"min": 52, "max": 104}},
    "firms": {"count": 60},
    "simulation": {"horizon_weeks": 208},
}
STORM = {
    "firms.culture_dispersion": 1.0,
    "managers.turnover_per_year": 0.5,
    "environment.shock_rate_per_year": 2.0,
    "environment.shock_severity": 0.6,
    "firms.opportunistic_share": 0.3,
}


def write_spec(folder: Path, **changes) -> Path:
    """A small stress spec: two designs, normal conditions and a storm, 3 replications."""
    (folder / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    data = {
        "name": "tiny_stress",
        "scenario": "tiny.yaml",
        "designs": {
            "status_quo": {"levers": {}},
            "alliance_function": {"levers": {"firms.alliance_function": "central_function"}},
        },
        "scenarios": {
            "normal": {"conditions": {}},
            "storm": {"conditions": STORM},
        },
        "replications": 3,
        "seed": 5,
    }
    data.update(changes)
    path = folder / "stress.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    status = cli.main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_usage_error(status: int, out: str, err: str, *words: str) -> None:
    """Exit 2 with one `alliance-sim: error:` line naming every word, and no traceback."""
    assert status == 2
    assert out == ""
    assert err.startswith("alliance-sim: error: ") and "Traceback" not in err
    assert err.count("\n") == 1, err
    for word in words:
        assert word in err, f"{word!r} missing from {err!r}"


# --------------------------------------------------------------------------- regret and ranking


def table_of(rates: dict[str, dict[str, float]]) -> pd.DataFrame:
    """A stress table from {design: {scenario: rate}} (intervals left out: they play no part here)."""
    rows = [
        {"design": d, "scenario": s, "success_rate": r}
        for d, by_scenario in rates.items()
        for s, r in by_scenario.items()
    ]
    return pd.DataFrame(rows)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=1, max_value=6).flatmap(
        lambda designs: st.integers(min_value=1, max_value=5).flatmap(
            lambda scenarios: st.lists(
                st.floats(min_value=0, max_value=1, allow_nan=False),
                min_size=designs * scenarios,
                max_size=designs * scenarios,
            ).map(lambda rates: (designs, scenarios, rates))
        )
    )
)
def test_regret_is_zero_for_the_best_design_and_never_negative(shape):
    designs, scenarios, rates = shape
    table = pd.DataFrame(
        {
            "design": [f"d{i}" for i in range(designs) for _ in range(scenarios)],
            "scenario": [f"s{j}" for _ in range(designs) for j in range(scenarios)],
            "success_rate": rates,
        }
    )
    result = regret(table)
    assert (result >= 0).all()
    for _, group in table.assign(regret=result).groupby("scenario"):
        best = group["success_rate"] == group["success_rate"].max()
        assert (group.loc[best, "regret"] == 0.0).all()
        assert (group.loc[~best, "regret"] > 0).all()
        expected = group["success_rate"].max() - group["success_rate"]
        assert np.array_equal(group["regret"].to_numpy(), expected.to_numpy())


def test_ranking_by_worst_case_and_mean_regret_matches_a_hand_computation():
    # binary fractions, so the sums and means below are exact
    table = table_of(
        {
            "A": {"s1": 0.625, "s2": 0.25},
            "B": {"s1": 0.5, "s2": 0.375},
            "C": {"s1": 0.75, "s2": 0.0},
        }
    )
    # s1: best C -> regrets A 0.125, B 0.25, C 0; s2: best B -> A 0.125, B 0, C 0.375
    ranking = rank_designs(table).set_index("design")
    assert ranking["worst_case"].to_dict() == {"B": 0.375, "A": 0.25, "C": 0.0}
    assert ranking["worst_scenario"].to_dict() == {"A": "s2", "B": "s2", "C": "s2"}
    assert ranking["mean_regret"].to_dict() == {"A": 0.125, "B": 0.125, "C": 0.1875}
    assert ranking["max_regret"].to_dict() == {"A": 0.125, "B": 0.25, "C": 0.375}
    assert ranking["mean_success_rate"].to_dict() == {"A": 0.4375, "B": 0.4375, "C": 0.375}
    assert ranking["rank_worst_case"].to_dict() == {"B": 1, "A": 2, "C": 3}
    assert ranking["rank_mean_regret"].to_dict() == {"A": 1, "B": 1, "C": 3}  # a tie shares rank 1
    assert list(ranking.index) == ["B", "A", "C"]  # sorted by worst case first


def test_stress_table_pools_replications_and_takes_the_wilson_interval():
    cells = [("d1", "normal"), ("d1", "storm"), ("d2", "normal"), ("d2", "storm")]
    runs = pd.DataFrame(
        {
            "point_id": [0, 0, 1, 1, 2, 2, 3, 3],
            "replication": [0, 1] * 4,
            "status": ["ok"] * 7 + ["failed"],
            "successes": [6, 4, 2, 3, 7, 8, 1, 99],
            "decided": [10, 10, 10, 10, 10, 10, 10, 100],
        }
    )
    table = stress_table(runs, cells)
    assert list(table.columns) == list(STRESS_COLUMNS)
    assert table["success_rate"].tolist() == [0.5, 0.25, 0.75, 0.1]  # the failed run is left out
    low, high = wilson_interval(10, 20)
    assert (table.loc[0, "ci_low"], table.loc[0, "ci_high"]) == (low, high)
    assert table.loc[3, ["ci_low", "ci_high"]].tolist() == list(wilson_interval(1, 10))
    assert table["regret"].tolist() == [0.25, 0.0, 0.0, 0.25 - 0.1]


# --------------------------------------------------------------------------- a small run


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stress")
    spec = write_spec(folder)
    out = folder / "out"
    table = stress_test(spec, out=out, workers=1)
    return spec, out, table


def test_a_harsher_scenario_lowers_success_for_every_design(small_run):
    _, _, table = small_run
    by_cell = table.set_index(["design", "scenario"])
    for design in ("status_quo", "alliance_function"):
        normal, storm = by_cell.loc[(design, "normal")], by_cell.loc[(design, "storm")]
        assert storm["ci_high"] < normal["ci_low"], (design, normal, storm)


def test_the_run_writes_the_table_ranking_heatmap_and_provenance(small_run):
    _, out, table = small_run
    written = pd.read_csv(out / STRESS_CSV)
    assert list(written.columns) == list(STRESS_COLUMNS)
    assert len(written) == 4 and written[["design", "scenario"]].values.tolist() == [
        ["status_quo", "normal"],
        ["status_quo", "storm"],
        ["alliance_function", "normal"],
        ["alliance_function", "storm"],
    ]
    assert np.allclose(written["success_rate"], table["success_rate"])
    assert (written.groupby("scenario")["regret"].min() == 0).all()
    ranking = pd.read_csv(out / RANKING_CSV)
    assert set(ranking["design"]) == {"status_quo", "alliance_function"}
    for name in ("stress.png", "stress.svg", "manifest.json", "stress_spec.yaml"):
        assert (out / name).stat().st_size > 0, name
    resolved = yaml.safe_load((out / "stress_spec.yaml").read_text())
    assert resolved["cells"][1] == {"point_id": 1, "design": "status_quo", "scenario": "storm"}
    runs = pd.read_parquet(out / "runs")
    assert len(runs) == 4 * 3
    # common random numbers: replication r has the same seed in every cell
    assert runs.groupby("replication")["seed"].nunique().eq(1).all()


def test_same_spec_gives_the_same_bytes_and_a_rerun_resumes(small_run, tmp_path, capsys):
    spec, out, _ = small_run
    again = tmp_path / "again"
    status, printed, _ = run_cli(
        capsys, "stress", str(spec), "--workers", "1", "--out", str(again), "--quiet"
    )
    assert status == 0 and printed == ""
    for name in (STRESS_CSV, RANKING_CSV, "stress.png", "stress.svg"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name
    before = {p.name: p.stat().st_mtime_ns for p in (again / "runs").iterdir()}
    status, printed, _ = run_cli(capsys, "stress", str(spec), "--workers", "1", "--out", str(again))
    assert status == 0
    assert {p.name: p.stat().st_mtime_ns for p in (again / "runs").iterdir()} == before  # nothing rerun
    assert "Designs ranked by worst case" in printed and "alliance_function" in printed


# --------------------------------------------------------------------------- the shipped spec


def test_the_shipped_spec_names_every_stress_and_each_one_is_harsher():
    test = load_stress_spec(SHIPPED)
    assert {"status_quo", "light_touch", "alliance_function", "best_practice"} <= set(test.designs)
    base = load_scenario(REPO / "configs" / "baseline.yaml")
    conditions = test.scenarios
    assert conditions["normal"] == {}
    assert conditions["culture_clash"]["firms.culture_dispersion"] > base.firms.culture_dispersion
    assert conditions["manager_churn"]["managers.turnover_per_year"] > base.managers.turnover_per_year
    turbulence = conditions["market_turbulence"]
    assert turbulence["environment.shock_rate_per_year"] > base.environment.shock_rate_per_year
    assert turbulence["environment.shock_severity"] > base.environment.shock_severity
    assert conditions["opportunistic_partner"]["firms.opportunistic_share"] > base.firms.opportunistic_share
    together = {k: v for name in ("culture_clash", "manager_churn", "market_turbulence",
                                  "opportunistic_partner") for k, v in conditions[name].items()}  # fmt: skip
    assert conditions["perfect_storm"] == together
    assert len(test.arms()) == len(test.designs) * len(test.scenarios)


# --------------------------------------------------------------------------- errors


def test_missing_spec_file(capsys, tmp_path):
    missing = tmp_path / "nowhere.yaml"
    assert_usage_error(*run_cli(capsys, "stress", str(missing)), "stress spec file not found", str(missing))


def test_malformed_yaml(capsys, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\ndesigns: {a: {levers: {}\n")
    assert_usage_error(*run_cli(capsys, "stress", str(path)), "malformed YAML", "line 3")


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"replicates": 3}, ("unknown key 'replicates'", "did you mean 'replications'")),
        ({"designs": {"a": {"lever": {}}, "b": {"levers": {}}}}, ("designs.a.lever", "levers")),
        ({"replications": "many"}, ("replications", "integer", "'many'")),
        ({"replications": 0}, ("replications", "greater than or equal to 1")),
        ({"designs": {"only": {"levers": {}}}}, ("designs", "at least 2")),
        (
            {"designs": {"bad/name": {"levers": {}}, "b": {"levers": {"governance.charter": True}}}},
            ("bad/name",),
        ),
        (
            {"designs": {"a": {"levers": {}}, "b": {"levers": {"governance.meeting_intervall_weeks": 2}}}},
            ("designs.b", "unknown key 'governance.meeting_intervall_weeks'", "meeting_interval_weeks"),
        ),
        (
            {"designs": {"a": {"levers": {}}, "b": {"levers": {"governance.role_clarity": 1.5}}}},
            ("designs.b", "governance.role_clarity", "less than or equal to 1"),
        ),
        (
            {"designs": {"a": {"levers": {}}, "b": {"levers": {"output.events": True}}}},
            ("designs.b", "output.events", "cannot be changed"),
        ),
        (
            {"designs": {"a": {"levers": {}}, "b": {"levers": {}}}},
            ("designs a and b", "same levers"),
        ),
        (
            {"scenarios": {"storm": {"combine": ["churn"]}}},
            ("scenarios.storm.combine", "churn", "not a stress scenario"),
        ),
        (
            {"scenarios": {"x": {"conditions": {"firms.alliance_function": "none"}}}},
            (
                "firms.alliance_function",
                "lever of design alliance_function",
                "condition of stress scenario x",
            ),
        ),
        (
            {
                "scenarios": {
                    "a": {"conditions": {"managers.turnover_per_year": 0.3}},
                    "b": {"conditions": {"managers.turnover_per_year": 0.4}},
                    "ab": {"combine": ["a", "b"]},
                }
            },
            ("scenarios.ab combines a and b", "managers.turnover_per_year", "different values"),
        ),
        ({"scenario": "missing.yaml"}, ("scenario missing.yaml not found",)),
    ],
    ids=[
        "unknown-key",
        "unknown-key-in-a-design",
        "wrong-type",
        "out-of-range",
        "one-design",
        "bad-design-name",
        "unknown-lever-path",
        "lever-value-out-of-range",
        "lever-in-output",
        "two-identical-designs",
        "combine-unknown",
        "lever-and-condition",
        "combine-conflict",
        "base-scenario-missing",
    ],
)
def test_spec_errors_name_the_problem(capsys, tmp_path, changes, words):
    spec = write_spec(tmp_path, **changes)
    assert_usage_error(*run_cli(capsys, "stress", str(spec), "--out", str(tmp_path / "o")), *words)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--replications", "0"], ("--replications", "positive")),
        (["--workers", "0"], ("--workers", "positive")),
    ],
)
def test_bad_options(capsys, tmp_path, args, words):
    spec = write_spec(tmp_path)
    assert_usage_error(*run_cli(capsys, "stress", str(spec), *args, "--out", str(tmp_path / "o")), *words)


def test_a_folder_of_another_experiment_is_refused(capsys, tmp_path, small_run):
    _, out, _ = small_run
    other = write_spec(tmp_path, seed=6)
    assert_usage_error(
        *run_cli(capsys, "stress", str(other), "--workers", "1", "--out", str(out)), "different experiment"
    )


def test_the_python_api_raises_spec_error(tmp_path):
    spec = write_spec(tmp_path, replications=-1)
    with pytest.raises(SpecError, match="replications"):
        stress_test(spec, out=tmp_path / "o", workers=1)
