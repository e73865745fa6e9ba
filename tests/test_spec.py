"""Experiment specs, designs and seeds: validation messages, design points, seed layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from SALib.sample import morris as salib_morris
from SALib.sample import sobol as salib_sobol

from experiments.engine.designs import design_seed, salib_problem
from experiments.engine.spec import SpecError, load_spec, parse_spec, run_id
from sim.randomness import seed_entropy

BASELINE = Path(__file__).resolve().parents[1] / "configs" / "baseline.yaml"
SHIPPED = sorted((Path(__file__).resolve().parents[1] / "configs" / "experiments").glob("*.yaml"))


def spec_data(**changes) -> dict:
    data = {
        "name": "t",
        "scenario": str(BASELINE),
        "factors": {
            "governance.meeting_interval_weeks": {"levels": [2, 4, 8]},
            "governance.meeting_mode": {"levels": ["in_person", "virtual"]},
        },
        "replications": 3,
        "seed": 7,
    }
    data.update(changes)
    return data


def write_spec(tmp_path: Path, data: dict | str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def load(tmp_path, **changes):
    return load_spec(write_spec(tmp_path, spec_data(**changes)))


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"replicatons": 3}, "unknown key 'replicatons' (did you mean 'replications'?)"),
        ({"replications": 0}, "replications: Input should be greater than or equal to 1"),
        ({"replications": "3"}, "replications: Input should be a valid integer"),
        ({"seed": -1}, "seed: Input should be greater than or equal to 0"),
        (
            {"design": {"kind": "factorial"}},
            "design.kind: Input should be 'grid', 'points', 'lhs', 'sobol' or 'morris'",
        ),
        ({"design": {"kind": "lhs"}}, "a lhs design needs samples: N"),
        ({"design": {"kind": "grid", "samples": 4}}, "samples is for lhs, sobol and morris designs"),
        ({"design": {"kind": "sobol", "samples": 100}}, "needs samples a power of 2"),
        (
            {"design": {"kind": "grid", "sample": 4}},
            "unknown key 'design.sample' (did you mean 'design.samples'?)",
        ),
        ({"factors": {}}, "factors: Dictionary should have at least 1 item"),
        ({"factors": {"governance.role_clarity": {"levels": [0.2], "range": [0, 1]}}}, "not both or neither"),
        (
            {
                "factors": {"governance.role_clarity": {"range": [1, 0]}},
                "design": {"kind": "lhs", "samples": 4},
            },
            "low < high",
        ),
        (
            {"factors": {"governance.role_clarity": {"levels": [0.2, 0.2]}}, "reference": None},
            "levels must be distinct",
        ),
        (
            {"factors": {"governance.role_clarity": {"range": [0, 1]}}},
            "a grid design needs levels for every factor",
        ),
        (
            {"factors": {"governance.role_clarity": {"levls": [0.2]}}},
            "unknown key 'factors.governance.role_clarity.levls' "
            "(did you mean 'factors.governance.role_clarity.levels'?)",
        ),
        (
            {"reference": {"governance.meeting_interval_weeks": 4}},
            "reference must give a value for every factor",
        ),
        ({"name": "a/b"}, "a name has 1 to 100 letters"),
    ],
)
def test_spec_errors_name_the_key_and_what_is_allowed(tmp_path, changes, expected):
    with pytest.raises(SpecError) as err:
        load(tmp_path, **changes)
    assert expected in str(err.value)


@pytest.mark.parametrize(
    "factors, expected",
    [
        (
            {"governance.meeting_intervall_weeks": {"levels": [2]}},
            "unknown key 'governance.meeting_intervall_weeks' "
            "(did you mean 'governance.meeting_interval_weeks'?)",
        ),
        (
            {"governance.meeting_mode": {"levels": ["weekly"]}},
            "design point (governance.meeting_mode='weekly') is not a valid scenario",
        ),
        ({"governance.meeting_interval_weeks": {"levels": [2.5]}}, "governance.meeting_interval_weeks"),
        ({"name": {"levels": ["x"]}}, "'name' cannot be a factor"),
        ({"output.events": {"levels": [True]}}, "'output.events' cannot be a factor"),
    ],
)
def test_factors_must_be_scenario_values_with_valid_levels(tmp_path, factors, expected):
    with pytest.raises(SpecError) as err:
        load(tmp_path, factors=factors, reference=None)
    assert expected in str(err.value)


def test_a_range_on_a_text_value_is_refused(tmp_path):
    with pytest.raises(
        SpecError, match="governance.meeting_mode is a str in the scenario, so it needs levels"
    ):
        load(
            tmp_path,
            factors={"governance.meeting_mode": {"range": [0, 1]}},
            design={"kind": "lhs", "samples": 4},
        )


def test_reference_must_be_a_design_point(tmp_path):
    with pytest.raises(SpecError, match="is not a design point"):
        load(
            tmp_path, reference={"governance.meeting_interval_weeks": 3, "governance.meeting_mode": "virtual"}
        )
    experiment = load(
        tmp_path, reference={"governance.meeting_interval_weeks": 4, "governance.meeting_mode": "virtual"}
    )
    row = experiment.points.loc[experiment.reference_point]
    assert (row["governance.meeting_interval_weeks"], row["governance.meeting_mode"]) == (4, "virtual")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("name: [unclosed", "malformed YAML at line 1"),
        ("- a\n- b\n", "an experiment spec is a YAML mapping of keys"),
        (
            "name: t\nscenario: nowhere.yaml\nfactors: {governance.role_clarity: {levels: [0.1]}}\n",
            "base scenario: scenario file not found",
        ),
    ],
)
def test_bad_files(tmp_path, text, expected):
    with pytest.raises(SpecError, match=expected):
        load_spec(write_spec(tmp_path, text))


def test_missing_spec_file(tmp_path):
    with pytest.raises(SpecError, match="experiment spec file not found"):
        load_spec(tmp_path / "none.yaml")


def test_scenario_path_is_relative_to_the_spec(tmp_path):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "base.yaml").write_text(
        "name: mine\nformation: {n_alliances: 20}\nfirms: {count: 30}\n"
    )
    path = write_spec(tmp_path, spec_data(scenario="scenarios/base.yaml"))
    experiment = load_spec(path)
    assert experiment.base.name == "mine" and experiment.base.formation.n_alliances == 20


def test_overrides_apply_to_the_base_and_may_not_name_a_factor(tmp_path):
    path = write_spec(tmp_path, spec_data())
    experiment = load_spec(path, scenario_overrides={"formation.n_alliances": 50})
    assert all(s.formation.n_alliances == 50 for s in experiment.scenarios)
    with pytest.raises(SpecError, match="--set governance.meeting_mode names a factor"):
        load_spec(path, scenario_overrides={"governance.meeting_mode": "mixed"})
    with pytest.raises(SpecError, match="base scenario: --set formation.n_alliances"):
        load_spec(path, scenario_overrides={"formation.n_alliances": -5})
    with pytest.raises(SpecError, match="--replications must be a positive integer"):
        load_spec(path, replications=0)


def test_keep_sets_the_scenario_outputs(tmp_path):
    experiment = load(tmp_path, keep={"outcomes": True, "timeseries_every_weeks": 13, "events": True})
    assert experiment.base.output.events is True
    assert experiment.base.output.timeseries_interval_weeks == 13
    experiment = load(tmp_path, keep={"events": False})
    assert all(s.output.events is False for s in experiment.scenarios)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_experiment_specs_load(path):
    experiment = load_spec(path)
    assert experiment.n_points >= 2
    assert experiment.spec.replications >= 10


# --------------------------------------------------------------------------- designs


def test_grid_is_the_full_factorial_first_factor_slowest(tmp_path):
    experiment = load(tmp_path)
    assert experiment.n_points == 6
    assert experiment.points["governance.meeting_interval_weeks"].tolist() == [2, 2, 4, 4, 8, 8]
    assert experiment.points["governance.meeting_mode"].tolist() == ["in_person", "virtual"] * 3
    assert experiment.points["point_id"].tolist() == list(range(6))
    for scenario, (_, row) in zip(experiment.scenarios, experiment.points.iterrows()):
        assert scenario.governance.meeting_interval_weeks == row["governance.meeting_interval_weeks"]
        assert scenario.governance.meeting_mode == row["governance.meeting_mode"]


def test_float_levels_given_as_integers_become_floats(tmp_path):
    experiment = load(tmp_path, factors={"governance.role_clarity": {"levels": [0, 1]}})
    assert experiment.points["governance.role_clarity"].tolist() == [0.0, 1.0]
    assert isinstance(experiment.scenarios[1].governance.role_clarity, float)


SAMPLED = {
    "governance.role_clarity": {"range": [0.1, 0.9]},
    "governance.meeting_interval_weeks": {"range": [1, 13]},
    "governance.meeting_mode": {"levels": ["in_person", "mixed", "virtual"]},
}


def test_latin_hypercube_has_one_point_per_stratum(tmp_path):
    n = 12
    experiment = load(tmp_path, factors=SAMPLED, design={"kind": "lhs", "samples": n})
    points = experiment.points
    assert len(points) == n
    clarity = points["u:governance.role_clarity"].to_numpy()
    strata = np.floor((clarity - 0.1) / 0.8 * n).astype(int)
    assert sorted(strata) == list(range(n))
    intervals = points["governance.meeting_interval_weeks"]
    assert intervals.between(1, 13).all() and intervals.map(type).eq(int).all()
    assert set(points["governance.meeting_mode"]) == {"in_person", "mixed", "virtual"}
    # every level appears in proportion: 12 strata over 3 levels -> 4 each
    assert points["governance.meeting_mode"].value_counts().tolist() == [4, 4, 4]


def test_sampled_designs_depend_on_the_seed_only(tmp_path):
    a = load(tmp_path, factors=SAMPLED, design={"kind": "lhs", "samples": 8})
    b = load(tmp_path, factors=SAMPLED, design={"kind": "lhs", "samples": 8})
    c = load(tmp_path, factors=SAMPLED, design={"kind": "lhs", "samples": 8}, seed=8)
    assert a.points.equals(b.points)
    assert not a.points["u:governance.role_clarity"].equals(c.points["u:governance.role_clarity"])


@pytest.mark.parametrize("second_order, per_base", [(True, 2 * 3 + 2), (False, 3 + 2)])
def test_sobol_design_is_salibs_saltelli_matrix(tmp_path, second_order, per_base):
    design = {"kind": "sobol", "samples": 8, "second_order": second_order}
    experiment = load(tmp_path, factors=SAMPLED, design=design)
    assert len(experiment.points) == 8 * per_base
    problem = salib_problem(
        experiment.spec.factors,
        {
            "governance.role_clarity": 0.5,
            "governance.meeting_interval_weeks": 4,
            "governance.meeting_mode": "mixed",
        },
    )
    expected = salib_sobol.sample(problem, 8, calc_second_order=second_order, seed=design_seed(7))
    got = experiment.points[[f"u:{name}" for name in SAMPLED]].to_numpy()
    np.testing.assert_array_equal(got, expected)
    # levels are the floor of the coordinate in [0, 3)
    modes = ["in_person", "mixed", "virtual"]
    codes = np.floor(got[:, 2]).astype(int)
    assert experiment.points["governance.meeting_mode"].tolist() == [modes[i] for i in codes]


def test_morris_design_is_salibs_trajectories(tmp_path):
    design = {"kind": "morris", "samples": 5, "morris_levels": 4}
    experiment = load(tmp_path, factors=SAMPLED, design=design)
    assert len(experiment.points) == 5 * (3 + 1)
    problem = salib_problem(
        experiment.spec.factors,
        {
            "governance.role_clarity": 0.5,
            "governance.meeting_interval_weeks": 4,
            "governance.meeting_mode": "mixed",
        },
    )
    expected = salib_morris.sample(problem, 5, num_levels=4, seed=design_seed(7))
    np.testing.assert_array_equal(experiment.points[[f"u:{name}" for name in SAMPLED]].to_numpy(), expected)
    # consecutive points of a trajectory differ in exactly one coordinate
    matrix = expected.reshape(5, 4, 3)
    changed = (np.diff(matrix, axis=1) != 0).sum(axis=2)
    assert (changed == 1).all()


def test_a_reference_needs_a_grid():
    data = spec_data(
        factors=SAMPLED, design={"kind": "lhs", "samples": 4}, reference={name: 1 for name in SAMPLED}
    )
    with pytest.raises(SpecError, match="a reference point needs a grid or points design"):
        parse_spec(data)


def test_points_design_lists_arms_one_by_one(tmp_path):
    factors = {
        "governance.meeting_interval_weeks": {"levels": [4, 4, 2]},
        "governance.risk_clinic": {"levels": ["none", "periodic", "none"]},
    }
    reference = {"governance.meeting_interval_weeks": 4, "governance.risk_clinic": "periodic"}
    experiment = load(tmp_path, factors=factors, design={"kind": "points"}, reference=reference)
    assert experiment.points["governance.meeting_interval_weeks"].tolist() == [4, 4, 2]
    assert experiment.points["governance.risk_clinic"].tolist() == ["none", "periodic", "none"]
    assert experiment.reference_point == 1
    uneven = {
        "governance.meeting_interval_weeks": {"levels": [4, 2]},
        "governance.risk_clinic": {"levels": ["none"]},
    }
    with pytest.raises(SpecError, match="same number of levels for every factor"):
        load(tmp_path, factors=uneven, design={"kind": "points"}, reference=None)
    with pytest.raises(
        SpecError,
        match=r"\(experiment spec\): levels must be distinct; repeated levels in governance.meeting_interval",
    ):
        load(tmp_path, factors=factors, reference=None)


# --------------------------------------------------------------------------- seeds


def test_common_random_numbers_give_every_point_the_same_replication_seeds(tmp_path):
    experiment = load(tmp_path)
    children = np.random.SeedSequence(7).spawn(3)
    for replication in range(3):
        seeds = {experiment.run_seed(point, replication) for point in range(experiment.n_points)}
        assert seeds == {seed_entropy(children[replication])}
    assert len({experiment.run_seed(0, r) for r in range(3)}) == 3


def test_without_common_random_numbers_every_run_has_its_own_seed(tmp_path):
    experiment = load(tmp_path, common_random_numbers=False)
    seeds = [experiment.run_seed(p, r) for p in range(experiment.n_points) for r in range(3)]
    assert len(set(seeds)) == len(seeds)
    expected = seed_entropy(np.random.SeedSequence(7).spawn(6)[4].spawn(3)[2])
    assert experiment.run_seed(4, 2) == expected


def test_more_replications_keep_the_seeds_of_the_first_ones(tmp_path):
    path = write_spec(tmp_path, spec_data())
    few, many = load_spec(path, replications=3), load_spec(path, replications=10)
    assert [few.run_seed(1, r) for r in range(3)] == [many.run_seed(1, r) for r in range(3)]
    assert few.fingerprint() == many.fingerprint()


def test_fingerprint_changes_with_anything_that_changes_results(tmp_path):
    base = load(tmp_path).fingerprint()
    assert load(tmp_path, seed=8).fingerprint() != base
    assert load(tmp_path, common_random_numbers=False).fingerprint() != base
    assert load(tmp_path, keep={"events": True}).fingerprint() != base
    assert load(tmp_path, description="words only").fingerprint() == base
    path = write_spec(tmp_path, spec_data())
    assert load_spec(path, scenario_overrides={"formation.n_alliances": 50}).fingerprint() != base


def test_runs_are_replication_major_and_ids_sort_by_point(tmp_path):
    experiment = load(tmp_path)
    runs = list(experiment.runs())
    assert runs[:6] == [(p, 0) for p in range(6)] and len(runs) == 18
    assert run_id(12, 3) == "p000012-r00003"
    assert sorted(run_id(p, r) for p, r in runs) == [run_id(p, r) for p in range(6) for r in range(3)]
