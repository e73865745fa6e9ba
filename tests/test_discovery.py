"""Scenario discovery: PRIM recovers a planted failure region through `find_failure_boxes`, int64
columns work, rules read in the schema's units, a small run end to end, and every error path."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from experiments import cli
from experiments.engine.spec import SpecError
from experiments.studies.discover import (
    BOX_COLUMNS,
    BOXES_CSV,
    REPORT_MD,
    SAMPLES_CSV,
    FailureBox,
    PrimSettings,
    choose_from_trajectory,
    describe_dimension,
    discover,
    find_failure_boxes,
    load_discovery_spec,
    rule_text,
)

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "configs" / "discovery" / "alliance_function.yaml"
PLANTED_SAMPLES = 600
NOISE = 0.03  # share of samples whose label is flipped
LIMIT_TOLERANCE = 0.05
TINY = {
    "name": "tiny",
    "formation": {"n_alliances": 30, "term_weeks": {"min": 52, "max": 104}},
    "firms": {"count": 50},
    "simulation": {"horizon_weeks": 208},
}


def planted(seed: int = 4, n: int = PLANTED_SAMPLES) -> tuple[pd.DataFrame, np.ndarray]:
    """Uniform x1, x2, x3 on [0, 1]; failure iff x1 > 0.7 and x2 < 0.3, with 3% of labels flipped."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({name: rng.uniform(size=n) for name in ("x1", "x2", "x3")})
    failed = ((x["x1"] > 0.7) & (x["x2"] < 0.3)).to_numpy() ^ (rng.uniform(size=n) < NOISE)
    return x, failed


# --------------------------------------------------------------------------- PRIM on planted data


@pytest.fixture(scope="module")
def planted_boxes():
    x, failed = planted()
    return find_failure_boxes(x, failed)


def test_prim_recovers_the_planted_failure_region(planted_boxes):
    first = planted_boxes.iloc[0]
    assert first["low:x1"] == pytest.approx(0.7, abs=LIMIT_TOLERANCE)
    assert first["high:x2"] == pytest.approx(0.3, abs=LIMIT_TOLERANCE)
    # one-sided: x1 is open above, x2 open below; x3 plays no part and stays unrestricted
    assert math.isnan(first["high:x1"]) and math.isnan(first["low:x2"])
    assert math.isnan(first["low:x3"]) and math.isnan(first["high:x3"])
    assert first["n_restricted"] == 2
    assert first["density"] >= 0.85
    assert first["coverage"] >= 0.7
    assert "x1 >" in first["rule"] and "x2 <" in first["rule"] and "x3" not in first["rule"]
    assert first["rule"].startswith(f"fails in {first['density']:.0%} of samples when ")


def test_the_table_has_the_report_columns_first(planted_boxes):
    assert list(planted_boxes.columns[: len(BOX_COLUMNS)]) == list(BOX_COLUMNS)
    assert planted_boxes["box"].tolist() == list(range(1, len(planted_boxes) + 1))
    # every later box must reach the density a further box needs
    assert (planted_boxes["density"].iloc[1:] >= PrimSettings().min_density).all()


def test_int64_columns_work_and_the_input_is_left_as_it_was():
    rng = np.random.default_rng(9)
    n = PLANTED_SAMPLES
    x = pd.DataFrame({"level": rng.integers(0, 10, n), "x2": rng.uniform(size=n), "x3": rng.uniform(size=n)})
    failed = ((x["level"] >= 7) & (x["x2"] < 0.3)).to_numpy() ^ (rng.uniform(size=n) < NOISE)
    assert x["level"].dtype == np.int64
    boxes = find_failure_boxes(x, failed)
    assert x["level"].dtype == np.int64
    first = boxes.iloc[0]
    assert 6 <= first["low:level"] <= 7 and math.isnan(first["high:level"])
    assert first["high:x2"] == pytest.approx(0.3, abs=LIMIT_TOLERANCE)
    assert math.isnan(first["low:x3"]) and math.isnan(first["high:x3"])


def test_no_failure_gives_no_box():
    x, _ = planted(n=50)
    boxes = find_failure_boxes(x, np.zeros(50, dtype=bool))
    assert boxes.empty and list(boxes.columns[: len(BOX_COLUMNS)]) == list(BOX_COLUMNS)


def test_failing_everywhere_is_one_unrestricted_box():
    x, _ = planted(n=50)
    boxes = find_failure_boxes(x, np.ones(50, dtype=bool))
    assert len(boxes) == 1
    assert boxes.loc[0, "n_restricted"] == 0 and boxes.loc[0, "coverage"] == 1.0
    assert boxes.loc[0, "rule"] == "fails in 100% of samples anywhere in the sampled ranges"


@pytest.mark.parametrize(
    ("conditions", "failed", "words"),
    [
        (pd.DataFrame({"a": [0.1, 0.2]}), np.array([True]), "one value per row"),
        (pd.DataFrame({"a": ["x", "y"]}), np.array([True, False]), "not numeric: a"),
        (pd.DataFrame({"a": [0.1, np.nan]}), np.array([True, False]), "finite"),
        (pd.DataFrame({"a": [0.1, 0.2]}), np.array([0.5, 1.0]), "booleans"),
    ],
    ids=["length", "text-column", "nan", "not-boolean"],
)
def test_inputs_prim_cannot_use_are_refused(conditions, failed, words):
    with pytest.raises(ValueError, match=words):
        find_failure_boxes(conditions, failed)


def test_the_chosen_box_maximises_coverage_times_density():
    trajectory = pd.DataFrame(
        {
            "coverage": [1.0, 0.9, 0.8, 0.5],
            "density": [0.2, 0.6, 0.75, 1.0],
            "res_dim": [0, 1, 2, 2],
        }
    )
    # products 0.2, 0.54, 0.6, 0.5
    assert choose_from_trajectory(trajectory) == 2
    tie = pd.DataFrame({"coverage": [1.0, 0.5], "density": [0.5, 1.0], "res_dim": [0, 1]})
    assert choose_from_trajectory(tie) == 0  # a tie goes to the larger box


# --------------------------------------------------------------------------- rules in the schema's units


def test_rules_read_in_the_units_of_the_schema():
    turnover = describe_dimension("managers.turnover_per_year", "turnover")
    culture = describe_dimension("firms.culture_dispersion", "cultural distance")
    assert turnover.value(0.25) == "25% a year" and turnover.percent and turnover.per_year
    assert "probability that a manager leaves" in turnover.description
    box = FailureBox(
        limits={"firms.culture_dispersion": (0.6, math.nan), "managers.turnover_per_year": (0.25, math.nan)},
        coverage=0.5,
        density=0.78,
        mass=0.1,
        n_samples=50,
        n_failed=39,
        quasi_p={},
        trajectory=pd.DataFrame(),
    )
    dims = {d.path: d for d in (turnover, culture)}
    assert (
        rule_text(box, dims)
        == "fails in 78% of samples when cultural distance > 0.60 and turnover > 25% a year"
    )


def test_dimensions_take_their_labels_and_units_from_the_schema():
    shocks = describe_dimension("environment.shock_rate_per_year")
    assert shocks.label == "shock rate" and shocks.value(1.2) == "1.20 a year" and not shocks.percent
    assert shocks.axis_label == "shock rate (per year)"
    trait = describe_dimension("firms.opportunism_propensity.mean")
    assert trait.label == "opportunism propensity" and "inclination to exploit" in trait.description
    share = describe_dimension("firms.opportunistic_share")
    assert share.value(0.2) == "20%" and share.axis_label == "opportunistic share (share)"
    interval = describe_dimension("governance.meeting_interval_weeks")
    assert interval.value(13) == "13 weeks" and interval.label == "meeting interval"
    assert describe_dimension("firms.culture_dispersion").axis_label == "culture dispersion (0 to 1)"


# --------------------------------------------------------------------------- a small run


def write_spec(folder: Path, **changes) -> Path:
    """A small discovery: 12 samples of turnover and opportunism, one replication each."""
    (folder / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    data = {
        "name": "tiny_discovery",
        "scenario": "tiny.yaml",
        "design": {"name": "alliance_function", "levers": {"firms.alliance_function": "central_function"}},
        "uncertainties": {
            "managers.turnover_per_year": {"range": [0.05, 0.5], "label": "manager turnover"},
            "firms.opportunistic_share": {"range": [0.0, 0.4]},
            "governance.meeting_interval_weeks": {"range": [2, 13]},
        },
        "samples": 12,
        "replications": 1,
        "seed": 3,
        "failure_threshold": 0.55,
    }
    data.update(changes)
    path = folder / "discovery.yaml"
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


@pytest.fixture(scope="module")
def small_discovery(tmp_path_factory):
    folder = tmp_path_factory.mktemp("discovery")
    spec = write_spec(folder)
    out = folder / "out"
    boxes = discover(spec, out=out, workers=1)
    return spec, out, boxes


def test_a_small_discovery_writes_its_report(small_discovery):
    _, out, boxes = small_discovery
    written = pd.read_csv(out / BOXES_CSV)
    assert list(written.columns) == list(BOX_COLUMNS)
    assert len(written) == len(boxes)
    samples = pd.read_csv(out / SAMPLES_CSV)
    assert len(samples) == 12
    assert samples["failed"].tolist() == (samples["success_rate"] < 0.55).tolist()
    # a Latin hypercube: one sample in each twelfth of every range
    strata = np.floor((samples["managers.turnover_per_year"] - 0.05) / (0.45 / 12)).astype(int)
    assert sorted(strata) == list(range(12))
    # an integer scenario value is sampled as whole weeks
    assert (samples["governance.meeting_interval_weeks"] % 1 == 0).all()
    report = (out / REPORT_MD).read_text()
    assert "manager turnover" in report and "probability that a manager leaves" in report
    assert f"{int(samples['failed'].sum())} of 12 failed" in report
    for name in ("discovery_box.png", "discovery_box.svg", "manifest.json"):
        assert (out / name).stat().st_size > 0, name
    resolved = yaml.safe_load((out / "discovery_spec.yaml").read_text())
    assert resolved["spec"]["failure_threshold"] == 0.55 and resolved["spec"]["samples"] == 12
    assert resolved["dimensions"]["managers.turnover_per_year"]["label"] == "manager turnover"
    if len(boxes):
        assert (out / "discovery_peeling.png").stat().st_size > 0


def test_a_rerun_gives_the_same_bytes_without_running_again(small_discovery, capsys):
    spec, out, _ = small_discovery
    before = {
        name: (out / name).read_bytes() for name in (BOXES_CSV, SAMPLES_CSV, REPORT_MD, "discovery_box.png")
    }
    runs = {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()}
    status, printed, _ = run_cli(capsys, "discover", str(spec), "--workers", "1", "--out", str(out))
    assert status == 0 and "samples fail" in printed
    assert {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()} == runs
    assert {name: (out / name).read_bytes() for name in before} == before


def test_the_shipped_spec_samples_every_kind_of_uncertainty():
    found = load_discovery_spec(SHIPPED)
    paths = set(found.spec.uncertainties)
    assert {
        "firms.culture_dispersion",
        "managers.turnover_per_year",
        "environment.shock_rate_per_year",
    } <= paths
    assert "environment.shock_severity" in paths
    assert any("opportun" in path for path in paths)
    assert found.experiment.n_points == found.spec.samples
    assert found.experiment.base.firms.alliance_function == "central_function"


# --------------------------------------------------------------------------- errors


def test_missing_spec_file(capsys, tmp_path):
    missing = tmp_path / "nowhere.yaml"
    assert_usage_error(*run_cli(capsys, "discover", str(missing)), "discovery spec file not found")


def test_malformed_yaml(capsys, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\nuncertainties: [\n")
    assert_usage_error(*run_cli(capsys, "discover", str(path)), "malformed YAML")


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"thresold": 0.5}, ("unknown key 'thresold'", "failure_threshold")),
        ({"failure_threshold": "half"}, ("failure_threshold", "number", "'half'")),
        ({"failure_threshold": 1.5}, ("failure_threshold", "less than 1")),
        ({"samples": 3}, ("samples", "greater than or equal to 10")),
        (
            {
                "uncertainties": {
                    "firms.culture_dispersion": {"range": [0.9, 0.2]},
                    "firms.count": {"range": [60, 90]},
                }
            },
            ("range must be [low, high] with low < high",),
        ),
        (
            {
                "uncertainties": {
                    "firms.culture_dispersion": {"range": [0.2, 0.9], "levels": [1]},
                    "firms.count": {"range": [60, 90]},
                }
            },
            ("levels",),
        ),
        (
            {
                "uncertainties": {
                    "firms.culture_dispersal": {"range": [0.2, 0.9]},
                    "firms.count": {"range": [60, 90]},
                }
            },
            ("uncertainties", "unknown key 'firms.culture_dispersal'", "culture_dispersion"),
        ),
        (
            {
                "uncertainties": {
                    "governance.meeting_mode": {"range": [0, 1]},
                    "firms.count": {"range": [60, 90]},
                }
            },
            ("governance.meeting_mode", "needs levels, not a range"),
        ),
        (
            {
                "uncertainties": {
                    "firms.culture_dispersion": {"range": [0.2, 1.5]},
                    "firms.count": {"range": [60, 90]},
                }
            },
            ("firms.culture_dispersion", "less than or equal to 1"),
        ),
        (
            {"design": {"levers": {"governance.role_clarity": 2}}},
            ("design.levers", "governance.role_clarity"),
        ),
        (
            {"design": {"levers": {"managers.turnover_per_year": 0.1}}},
            ("managers.turnover_per_year", "both a lever of the design and an uncertain condition"),
        ),
        ({"design": {"levers": {"firms.alliance_function": ["none"]}}}, ("must be one value",)),
        (
            {
                "uncertainties": {
                    "output.timeseries_interval_weeks": {"range": [1, 4]},
                    "firms.count": {"range": [60, 90]},
                }
            },
            ("output.timeseries_interval_weeks", "cannot be a lever or an uncertainty"),
        ),
        ({"scenario": "missing.yaml"}, ("scenario missing.yaml not found",)),
    ],
    ids=[
        "unknown-key",
        "wrong-type",
        "threshold-out-of-range",
        "too-few-samples",
        "empty-range",
        "levels-not-allowed",
        "unknown-path",
        "range-on-a-word",
        "range-beyond-the-schema",
        "lever-out-of-range",
        "lever-and-uncertainty",
        "lever-not-one-value",
        "output-is-no-condition",
        "base-scenario-missing",
    ],
)
def test_spec_errors_name_the_problem(capsys, tmp_path, changes, words):
    spec = write_spec(tmp_path, **changes)
    assert_usage_error(*run_cli(capsys, "discover", str(spec), "--out", str(tmp_path / "o")), *words)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("option", ["--samples", "--replications", "--workers"])
def test_bad_options(capsys, tmp_path, option):
    spec = write_spec(tmp_path)
    assert_usage_error(
        *run_cli(capsys, "discover", str(spec), option, "0", "--out", str(tmp_path / "o")), option, "positive"
    )


def test_a_folder_of_another_discovery_is_refused(capsys, small_discovery):
    spec, out, _ = small_discovery
    assert_usage_error(
        *run_cli(capsys, "discover", str(spec), "--samples", "20", "--workers", "1", "--out", str(out)),
        "different experiment",
    )


def test_the_python_api_raises_spec_error(tmp_path):
    with pytest.raises(SpecError, match="failure_threshold"):
        discover(write_spec(tmp_path, failure_threshold=0), out=tmp_path / "o", workers=1)
