"""Sensitivity analysis: the SALib wrapper on Ishigami's function through the engine's designs, the
`alliance-sim sensitivity` command end to end on a tiny scenario, its files, determinism, resume,
and every error path."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from SALib.test_functions import Ishigami

from experiments import cli
from experiments.engine.designs import salib_problem, sample_design
from experiments.engine.spec import DesignSpec, ExperimentSpec, FactorSpec
from experiments.present.figures.indices import indices_figure
from experiments.studies.sensitivity import (
    COLUMNS,
    INDICES_CSV,
    SensitivityError,
    analyze_indices,
    indices_table,
    load_sensitivity,
    point_means,
    sensitivity,
)

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted((REPO / "configs" / "sensitivity").glob("*.yaml"))

# --------------------------------------------------------------------------- Ishigami

#: Ishigami's function with a = 7, b = 0.1 (SALib's defaults): analytic indices.
ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)
ISHIGAMI_S2_X1_X3 = 0.2437
ISHIGAMI_NAMES = ("x1", "x2", "x3")
#: N base points of the Sobol design: 1024 * (2 * 3 + 2) = 8192 evaluations. At this size the
#: scrambled Sobol' estimates land within about 0.02 of the analytic values (SALib's bootstrap
#: intervals are about 0.05 wide), so these tolerances leave room without hiding a wrong wrapper.
SOBOL_N = 1024
FIRST_TOTAL_TOLERANCE = 0.04
SECOND_ORDER_TOLERANCE = 0.05
MORRIS_TRAJECTORIES = 500


def ishigami_design(kind: str, samples: int, seed: int = 3) -> tuple[dict, pd.DataFrame]:
    """SALib's problem and the engine's design points for Ishigami's three inputs on [-pi, pi]."""
    factors = {name: FactorSpec(range=[-math.pi, math.pi]) for name in ISHIGAMI_NAMES}
    base = {name: 0.0 for name in ISHIGAMI_NAMES}
    spec = ExperimentSpec(
        name="ishigami",
        scenario="-",
        factors=factors,
        design=DesignSpec(kind=kind, samples=samples),
        seed=seed,
    )
    return salib_problem(factors, base), sample_design(spec, base)


def ishigami_outputs(points: pd.DataFrame) -> np.ndarray:
    """Ishigami's function at the design's values (the columns a scenario would receive)."""
    return Ishigami.evaluate(points[list(ISHIGAMI_NAMES)].to_numpy(dtype=float))


def value(indices: pd.DataFrame, parameter: str, index: str, column: str = "value") -> float:
    row = indices[(indices["parameter"] == parameter) & (indices["index"] == index)]
    assert len(row) == 1, f"{parameter} {index}: {len(row)} rows"
    return float(row[column].iloc[0])


@pytest.fixture(scope="module")
def ishigami_sobol():
    problem, points = ishigami_design("sobol", SOBOL_N)
    indices = analyze_indices(problem, points, ishigami_outputs(points), "sobol", seed=1)
    return problem, points, indices


def test_the_engine_sobol_design_is_saltellis_layout(ishigami_sobol):
    _, points, _ = ishigami_sobol
    assert len(points) == SOBOL_N * (2 * 3 + 2)
    assert points["point_id"].tolist() == list(range(len(points)))
    assert points[list(ISHIGAMI_NAMES)].to_numpy() == pytest.approx(
        points[[f"u:{n}" for n in ISHIGAMI_NAMES]]
    )


def test_sobol_indices_of_ishigami_match_the_analytic_values(ishigami_sobol):
    _, _, indices = ishigami_sobol
    for name, s1, st in zip(ISHIGAMI_NAMES, ISHIGAMI_S1, ISHIGAMI_ST):
        assert value(indices, name, "S1") == pytest.approx(s1, abs=FIRST_TOTAL_TOLERANCE), name
        assert value(indices, name, "ST") == pytest.approx(st, abs=FIRST_TOTAL_TOLERANCE), name
    assert value(indices, "x1 x x3", "S2") == pytest.approx(ISHIGAMI_S2_X1_X3, abs=SECOND_ORDER_TOLERANCE)
    assert value(indices, "x1 x x2", "S2") == pytest.approx(0.0, abs=SECOND_ORDER_TOLERANCE)
    assert value(indices, "x2 x x3", "S2") == pytest.approx(0.0, abs=SECOND_ORDER_TOLERANCE)


def test_sobol_intervals_are_half_widths_that_cover_the_analytic_values(ishigami_sobol):
    _, _, indices = ishigami_sobol
    truth = {(n, "S1"): v for n, v in zip(ISHIGAMI_NAMES, ISHIGAMI_S1)}
    truth |= {(n, "ST"): v for n, v in zip(ISHIGAMI_NAMES, ISHIGAMI_ST)}
    truth |= {("x1 x x3", "S2"): ISHIGAMI_S2_X1_X3, ("x1 x x2", "S2"): 0.0, ("x2 x x3", "S2"): 0.0}
    for (parameter, index), expected in truth.items():
        estimate, ci = value(indices, parameter, index), value(indices, parameter, index, "ci")
        assert 0 < ci < 0.2
        assert estimate - ci <= expected <= estimate + ci, (parameter, index)


def test_the_table_lists_s1_st_then_the_pairs(ishigami_sobol):
    _, _, indices = ishigami_sobol
    assert list(indices.columns) == list(COLUMNS)
    assert indices["index"].tolist() == ["S1"] * 3 + ["ST"] * 3 + ["S2"] * 3
    assert indices["parameter"].tolist() == [
        *ISHIGAMI_NAMES,
        *ISHIGAMI_NAMES,
        "x1 x x2",
        "x1 x x3",
        "x2 x x3",
    ]
    assert set(indices["method"]) == {"sobol"}


def test_rows_in_any_order_give_the_same_indices_but_misaligned_outputs_do_not(ishigami_sobol):
    problem, points, indices = ishigami_sobol
    outputs = ishigami_outputs(points)
    shuffle = np.random.default_rng(0).permutation(len(points))
    shuffled = analyze_indices(problem, points.iloc[shuffle], outputs[shuffle], "sobol", seed=1)
    pd.testing.assert_frame_equal(shuffled, indices)
    misaligned = analyze_indices(problem, points, outputs[shuffle], "sobol", seed=1)
    assert abs(value(misaligned, "x2", "S1") - ISHIGAMI_S1[1]) > 0.3  # scrambled outputs explain nothing


def test_without_second_order_there_are_no_pairs():
    problem, _ = ishigami_design("sobol", 64)
    factors = {name: FactorSpec(range=[-math.pi, math.pi]) for name in ISHIGAMI_NAMES}
    spec = ExperimentSpec(
        name="ishigami", scenario="-", factors=factors,
        design=DesignSpec(kind="sobol", samples=64, second_order=False), seed=3,
    )  # fmt: skip
    points = sample_design(spec, {name: 0.0 for name in ISHIGAMI_NAMES})
    assert len(points) == 64 * (3 + 2)
    indices = analyze_indices(problem, points, ishigami_outputs(points), "sobol", second_order=False)
    assert indices["index"].tolist() == ["S1"] * 3 + ["ST"] * 3


def test_morris_ranks_x1_and_x2_above_x3():
    problem, points = ishigami_design("morris", MORRIS_TRAJECTORIES)
    indices = analyze_indices(problem, points, ishigami_outputs(points), "morris", seed=1)
    assert indices["index"].tolist() == ["mu"] * 3 + ["mu_star"] * 3 + ["sigma"] * 3
    mu_star = {name: value(indices, name, "mu_star") for name in ISHIGAMI_NAMES}
    assert min(mu_star["x1"], mu_star["x2"]) > mu_star["x3"] > 0
    assert value(indices, "x1", "mu_star", "ci") > 0
    assert math.isnan(value(indices, "x1", "sigma", "ci"))  # SALib gives no interval for sigma
    # On 4 levels (-pi, -pi/3, pi/3, pi) a step of x2 is 2/3 of its range, from -pi to pi/3 or from
    # -pi/3 to pi, and 7 sin^2(x2) changes by 7 * 0.75 either way, whatever x1 and x3 are.
    assert mu_star["x2"] == pytest.approx(7 * 0.75 / (2 / 3))


def test_a_linear_function_has_first_order_indices_in_proportion_to_its_variance():
    problem, points = ishigami_design("sobol", 256)
    x = points[list(ISHIGAMI_NAMES)].to_numpy()
    outputs = 3.0 * x[:, 0] + 1.0 * x[:, 1]  # variances 9 : 1 : 0
    indices = analyze_indices(problem, points, outputs, "sobol")
    assert value(indices, "x1", "S1") == pytest.approx(0.9, abs=0.02)
    assert value(indices, "x2", "S1") == pytest.approx(0.1, abs=0.02)
    assert value(indices, "x3", "ST") == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    "outputs, method, message",
    [
        (np.zeros(10), "sobol", "10 outputs for"),
        (np.full(64 * 8, np.nan), "sobol", "not finite"),
        (np.full(64 * 8, 0.5), "sobol", "every output is 0.5: there is no variance"),
        (np.zeros(64 * 8), "fast", "method must be one of"),
    ],
)
def test_analysis_refuses_outputs_that_do_not_fit(outputs, method, message):
    problem, points = ishigami_design("sobol", 64)
    with pytest.raises(ValueError, match=message):
        analyze_indices(problem, points, outputs, method)


def test_morris_needs_the_problem_space_columns():
    problem, points = ishigami_design("morris", 4)
    with pytest.raises(ValueError, match="u:x1"):
        analyze_indices(problem, points.drop(columns=["u:x1"]), np.arange(len(points)), "morris")


# --------------------------------------------------------------------------- per-point means


def test_point_means_average_the_replications_and_skip_missing_values():
    runs = pd.DataFrame(
        {
            "point_id": [0, 0, 0, 1, 1],
            "status": ["ok", "ok", "failed", "ok", "ok"],
            "success_rate": [0.5, 0.7, 0.0, np.nan, 0.25],
        }
    )
    assert point_means(runs, "success_rate", 2).tolist() == [0.6, 0.25]
    with pytest.raises(SensitivityError, match="1 design points .* point 2"):
        point_means(runs, "success_rate", 3)


# --------------------------------------------------------------------------- the command on the model

#: 20 alliances of 30-80 weeks among 40 firms, 80 weeks: most of them decided, and quick.
TINY = {
    "name": "tiny",
    "formation": {"n_alliances": 20, "term_weeks": {"min": 30, "max": 80}},
    "firms": {"count": 40},
    "simulation": {"horizon_weeks": 80},
    "output": {"events": False},
}
TINY_PARAMETERS = {
    "firms.leadership_consistency": {"range": [0.2, 0.85]},
    "governance.meeting_interval_weeks": {"range": [1, 13]},
}
#: Sobol with N = 2 over 2 parameters: 2 * (2 * 2 + 2) = 12 points; Morris: 2 * (2 + 1) = 6.
TINY_SOBOL_POINTS, TINY_MORRIS_POINTS = 12, 6


def write_spec(folder: Path, **changes) -> Path:
    """A tiny sensitivity spec (and its scenario) in `folder`; `changes` replace keys, None drops one."""
    (folder / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    data = {
        "name": "tiny_sensitivity",
        "scenario": "tiny.yaml",
        "parameters": TINY_PARAMETERS,
        "methods": ["sobol", "morris"],
        "samples": 2,
        "replications": 1,
        "seed": 5,
    }
    data.update(changes)
    data = {key: v for key, v in data.items() if v is not None}
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run(capsys, *args: str) -> tuple[int, str, str]:
    status = cli.main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_usage_error(status: int, out: str, err: str, *words: str) -> None:
    """Exit 2, one `alliance-sim: error:` line naming every word, no traceback, no output."""
    assert status == 2
    assert out == ""
    assert err.startswith("alliance-sim: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in err, f"{word!r} missing from {err!r}"


@pytest.fixture(scope="module")
def tiny_result(tmp_path_factory):
    """The tiny analysis run once through the command line: (spec, folder, stdout)."""
    folder = tmp_path_factory.mktemp("tiny")
    spec = write_spec(folder)
    out = folder / "out"
    status = cli.main(["sensitivity", str(spec), "--workers", "1", "--out", str(out)])
    assert status == 0
    return spec, out


def test_the_command_writes_indices_figures_manifest_and_engine_folders(tiny_result):
    _, out = tiny_result
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["indices.csv", "indices.png", "indices.svg", "manifest.json", "sobol", "morris"]
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "sensitivity" and manifest["finished"]
    assert manifest["methods"]["sobol"]["points"] == TINY_SOBOL_POINTS
    assert manifest["methods"]["morris"]["points"] == TINY_MORRIS_POINTS
    assert manifest["spec"]["parameters"]["firms.leadership_consistency"] == {
        "levels": None,
        "range": [0.2, 0.85],
    }
    assert manifest["invocations"][0]["packages"]["SALib"]
    for method, points in (("sobol", TINY_SOBOL_POINTS), ("morris", TINY_MORRIS_POINTS)):
        runs = pd.concat(pd.read_parquet(p) for p in sorted((out / method / "runs").glob("*.parquet")))
        assert len(runs) == points and (runs["status"] == "ok").all()


def test_indices_csv_has_exactly_the_documented_columns_and_rows(tiny_result):
    _, out = tiny_result
    indices = pd.read_csv(out / INDICES_CSV)
    assert list(indices.columns) == ["parameter", "method", "index", "value", "ci"]
    pair = "firms.leadership_consistency x governance.meeting_interval_weeks"
    expected = (
        [(p, "sobol", i) for i in ("S1", "ST") for p in TINY_PARAMETERS]
        + [(pair, "sobol", "S2")]
        + [(p, "morris", i) for i in ("mu", "mu_star", "sigma") for p in TINY_PARAMETERS]
    )
    assert list(indices[["parameter", "method", "index"]].itertuples(index=False, name=None)) == expected
    assert indices["value"].notna().all()
    assert indices.loc[indices["index"].isin(["mu", "sigma"]), "ci"].isna().all()
    assert (indices.loc[~indices["index"].isin(["mu", "sigma"]), "ci"] >= 0).all()


def test_the_indices_are_salibs_on_the_point_means_in_design_order(tiny_result):
    spec, out = tiny_result
    study = load_sensitivity(spec)
    runs = pd.concat(pd.read_parquet(p) for p in sorted((out / "morris" / "runs").glob("*.parquet")))
    means = runs.sort_values("point_id")["success_rate"].to_numpy()
    from SALib.analyze import morris

    points = study.experiments["morris"].points
    inputs = points[[f"u:{name}" for name in TINY_PARAMETERS]].to_numpy()
    direct = morris.analyze(study.problem, inputs, means, num_levels=4, num_resamples=10)
    indices = pd.read_csv(out / INDICES_CSV)
    for j, name in enumerate(TINY_PARAMETERS):
        assert value(indices, name, "mu_star") == pytest.approx(direct["mu_star"][j], rel=1e-5)
        assert value(indices, name, "sigma") == pytest.approx(direct["sigma"][j], rel=1e-5)


def test_the_same_seed_gives_the_same_bytes_and_a_rerun_resumes_without_new_runs(tiny_result, tmp_path):
    spec, out = tiny_result
    again = tmp_path / "again"
    assert cli.main(["sensitivity", str(spec), "--workers", "1", "--out", str(again), "--quiet"]) == 0
    assert (again / INDICES_CSV).read_bytes() == (out / INDICES_CSV).read_bytes()
    assert (again / "indices.png").read_bytes() == (out / "indices.png").read_bytes()
    rerun = ["sensitivity", str(spec), "--workers", "1", "--out", str(again), "--quiet", "--no-figures"]
    assert cli.main(rerun) == 0
    for method in ("sobol", "morris"):
        invocations = json.loads((again / method / "manifest.json").read_text())["invocations"]
        assert [i["runs_executed"] for i in invocations] == [
            TINY_SOBOL_POINTS if method == "sobol" else TINY_MORRIS_POINTS,
            0,
        ]
    assert (again / INDICES_CSV).read_bytes() == (out / INDICES_CSV).read_bytes()
    assert len(json.loads((again / "manifest.json").read_text())["invocations"]) == 2


def test_another_seed_gives_other_indices(tiny_result, tmp_path):
    _, out = tiny_result
    spec = write_spec(tmp_path, seed=6, methods=["morris"])
    assert (
        cli.main(["sensitivity", str(spec), "--workers", "1", "--out", str(tmp_path / "o"), "--quiet"]) == 0
    )
    mine = pd.read_csv(tmp_path / "o" / INDICES_CSV)
    theirs = pd.read_csv(out / INDICES_CSV)
    assert not np.allclose(mine["value"], theirs[theirs["method"] == "morris"]["value"])


def test_the_printed_table_names_every_parameter_and_the_interaction(capsys, tiny_result, tmp_path):
    spec, out = tiny_result
    status, stdout, _ = run(capsys, "sensitivity", str(spec), "--workers", "1", "--out", str(out))
    assert status == 0
    assert "Sobol (N = 2, 12 points x 1 replication) and Morris (2 trajectories, 6 points" in stdout
    assert "firms.leadership_consistency x governance.meeting_interval_weeks" in stdout
    assert "Interactions (Sobol S2" in stdout
    for name in TINY_PARAMETERS:
        assert name in stdout
    assert f"Written: {out / INDICES_CSV}" in stdout


def test_the_api_returns_the_indices_table(tiny_result):
    spec, out = tiny_result
    before = (out / INDICES_CSV).read_text()
    indices = sensitivity(spec, out, workers=1, progress=False, figures=False)  # resumes: no new runs
    assert list(indices.columns) == list(COLUMNS)
    assert indices.to_csv(index=False, float_format="%.6g") == before == (out / INDICES_CSV).read_text()
    assert json.loads((out / "manifest.json").read_text())["files"] == [INDICES_CSV]


@pytest.mark.slow
def test_two_workers_give_the_same_indices_as_one(tiny_result, tmp_path):
    spec, out = tiny_result
    assert (
        cli.main(["sensitivity", str(spec), "--workers", "2", "--out", str(tmp_path / "w2"), "--quiet"]) == 0
    )
    assert (tmp_path / "w2" / INDICES_CSV).read_bytes() == (out / INDICES_CSV).read_bytes()


def test_indices_table_sorts_by_total_index_and_stars_clear_interactions():
    indices = pd.DataFrame(
        [
            ("a", "sobol", "S1", 0.1, 0.05), ("b", "sobol", "S1", 0.5, 0.05),
            ("a", "sobol", "ST", 0.2, 0.05), ("b", "sobol", "ST", 0.6, 0.05),
            ("a x b", "sobol", "S2", 0.08, 0.05),
        ],
        columns=list(COLUMNS),
    )  # fmt: skip
    lines = indices_table(indices).splitlines()
    assert lines[1].startswith("b ") and lines[2].startswith("a ")
    assert "0.500 ± 0.050" in lines[1]
    assert lines[-1].startswith("a x b") and lines[-1].endswith("0.080 ± 0.050 *")


def test_the_figure_has_a_panel_per_kind_of_index(ishigami_sobol):
    _, _, sobol = ishigami_sobol
    problem, points = ishigami_design("morris", 20)
    morris = analyze_indices(problem, points, ishigami_outputs(points), "morris")
    both = pd.concat([sobol, morris], ignore_index=True)
    titles = [ax.get_title() for ax in indices_figure(both).axes if ax.get_title()]
    assert (
        titles[0] == "Sobol indices"
        and titles[1].startswith("Interactions")
        and titles[2].startswith("Morris")
    )
    assert [ax.get_title() for ax in indices_figure(morris).axes] == ["Morris elementary effects"]
    with pytest.raises(ValueError, match="no Sobol or Morris"):
        indices_figure(both.iloc[0:0])


# --------------------------------------------------------------------------- error paths


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"colour": "blue"}, ["colour"]),
        ({"samples": "many"}, ["samples"]),
        ({"samples": 3}, ["samples", "power of 2"]),
        ({"replications": 0}, ["replications", "greater than or equal to 1"]),
        ({"methods": ["sobol", "sobol"]}, ["methods", "each method once"]),
        ({"methods": ["fast"]}, ["methods", "sobol", "morris"]),
        ({"metric": "happiness"}, ["metric", "success_rate"]),
        ({"parameters": {"firms.leadership_consistency": {"range": [0.2, 0.85]}}}, ["at least 2"]),
        ({"parameters": {**TINY_PARAMETERS, "firms.training": {"range": [0.9, 0.1]}}}, ["low < high"]),
        ({"parameters": {**TINY_PARAMETERS, "firms.nonsense": {"range": [0.1, 0.9]}}}, ["firms.nonsense"]),
        ({"parameters": {**TINY_PARAMETERS, "managers.turnover_per_year": {"range": [0.1, 1.5]}}},
         ["managers.turnover_per_year", "less than or equal to 1"]),
        ({"overrides": {"firms.leadership_consistency": 0.5}}, ["overrides", "also a parameter"]),
        ({"scenario": "missing.yaml"}, ["missing.yaml", "not found"]),
        ({"name": None}, ["name"]),
    ],
)  # fmt: skip
def test_a_bad_spec_gets_one_message_and_exit_2(capsys, tmp_path, changes, words):
    spec = write_spec(tmp_path, **changes)
    status, out, err = run(capsys, "sensitivity", str(spec), "--out", str(tmp_path / "out"))
    assert_usage_error(status, out, err, *words)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_missing_or_malformed_spec_file_gets_exit_2(capsys, tmp_path):
    assert_usage_error(*run(capsys, "sensitivity", str(tmp_path / "none.yaml")), "not found", "none.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    assert_usage_error(*run(capsys, "sensitivity", str(broken)), "malformed YAML", "line")
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    assert_usage_error(*run(capsys, "sensitivity", str(listed)), "YAML mapping")


@pytest.mark.parametrize(
    "args, words",
    [
        (["--samples", "3"], ["--samples", "power of 2"]),
        (["--samples", "0"], ["--samples", "at least 2"]),
        (["--replications", "0"], ["--replications", "at least 1"]),
        (["--workers", "0"], ["--workers", "positive"]),
        (["--set", "firms.leadership_consistency=0.5"], ["--set firms.leadership_consistency", "parameter"]),
        (["--set", "formation.n_alliances=-3"], ["formation.n_alliances"]),
        (["--set", "no_equals_sign"], ["KEY=VALUE"]),
    ],
)
def test_bad_options_get_one_message_and_exit_2(capsys, tmp_path, args, words):
    spec = write_spec(tmp_path)
    status, out, err = run(capsys, "sensitivity", str(spec), "--out", str(tmp_path / "out"), *args)
    assert_usage_error(status, out, err, *words)


def test_a_folder_of_something_else_is_refused(capsys, tmp_path, tiny_result):
    spec, out = tiny_result
    other = write_spec(tmp_path, seed=99)
    assert_usage_error(
        *run(capsys, "sensitivity", str(other), "--out", str(out)), "different spec", "tiny_sensitivity"
    )
    cluttered = tmp_path / "cluttered"
    cluttered.mkdir()
    (cluttered / "notes.txt").write_text("mine")
    assert_usage_error(*run(capsys, "sensitivity", str(spec), "--out", str(cluttered)), "not empty")
    sweep = out / "sobol"  # an engine folder (kind sweep)
    assert_usage_error(
        *run(capsys, "sensitivity", str(spec), "--out", str(sweep)), "sweep", "not of a sensitivity"
    )
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert_usage_error(*run(capsys, "sensitivity", str(spec), "--out", str(afile)), "existing file")


def test_help_names_the_files_and_the_options(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["sensitivity", "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    for word in ("--samples", "--workers", "--out", "--replications", "indices.csv", "power of 2"):
        assert word in text


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_the_shipped_specs_are_valid_and_pair_incentives_with_leadership(path):
    study = load_sensitivity(path)
    assert study.spec.second_order and "sobol" in study.spec.methods
    parameters = set(study.spec.parameters)
    assert {"firms.incentives.formal", "firms.leadership_consistency"} <= parameters
