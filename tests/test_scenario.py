"""Scenario schema and loading: every documented bad-input path gives one clear ScenarioError."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sim import Scenario, ScenarioError, build_scenario, load_scenario, parse_assignment
from sim.scenario import kwargs_to_overrides, scenario_to_yaml, set_dotted

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
#: folders of specs, not scenarios
SPEC_FOLDERS = {"experiments", "stress", "sensitivity", "validation", "calibration", "discovery"}
SCENARIOS = sorted(
    p for p in CONFIGS.glob("**/*.yaml") if not SPEC_FOLDERS & set(p.relative_to(CONFIGS).parts)
)


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_shipped_scenario_validates(path):
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    assert scenario.name == yaml.safe_load(path.read_text())["name"]


def test_defaults_are_the_baseline_and_round_trip_through_yaml(tmp_path):
    scenario = Scenario()
    again = load_scenario(write(tmp_path, scenario_to_yaml(scenario)))
    assert again == scenario


def test_overrides_apply_by_dotted_path():
    s = build_scenario({}, {"governance.meeting_interval_weeks": 2, "firms.incentives.formal": 0.9})
    assert s.governance.meeting_interval_weeks == 2
    assert s.firms.incentives.formal == 0.9
    assert s.firms.incentives.informal == Scenario().firms.incentives.informal


def test_kwargs_use_double_underscores():
    assert kwargs_to_overrides({"governance__meeting_mode": "virtual"}) == {
        "governance.meeting_mode": "virtual"
    }


def test_unknown_key_in_yaml_names_it_suggests_and_lists_allowed(tmp_path):
    path = write(tmp_path, "governance:\n  meeting_intervall_weeks: 2\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    msg = str(err.value)
    assert "governance.meeting_intervall_weeks" in msg
    assert "did you mean 'governance.meeting_interval_weeks'" in msg
    assert "review_interval_weeks" in msg  # the allowed keys are listed
    assert str(path) in msg


def test_unknown_top_level_section(tmp_path):
    with pytest.raises(ScenarioError, match="unknown key 'governence'.*did you mean 'governance'"):
        load_scenario(write(tmp_path, "governence: {}\n"))


def test_unknown_override_key():
    with pytest.raises(ScenarioError, match="unknown key 'firms.cuont'.*did you mean 'firms.count'"):
        build_scenario({}, {"firms.cuont": 3})


def test_override_into_a_value_is_refused():
    with pytest.raises(ScenarioError, match="is a value, not a section"):
        build_scenario({}, {"governance.role_clarity.x": 1})


def test_wrong_type_names_key_and_value(tmp_path):
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, "governance:\n  meeting_interval_weeks: often\n"))
    msg = str(err.value)
    assert "governance.meeting_interval_weeks" in msg and "'often'" in msg and "integer" in msg


def test_out_of_range_names_the_bound():
    with pytest.raises(ScenarioError) as err:
        build_scenario({"governance": {"role_clarity": 1.5}})
    msg = str(err.value)
    assert "governance.role_clarity" in msg and "less than or equal to 1" in msg and "1.5" in msg


def test_bad_choice_lists_allowed_values():
    with pytest.raises(ScenarioError) as err:
        build_scenario({}, {"governance.meeting_mode": "telepathy"})
    msg = str(err.value)
    for allowed in ("in_person", "virtual", "mixed", "telepathy"):
        assert allowed in msg


def test_alliance_function_accepts_type_or_shares():
    assert (
        build_scenario({}, {"firms.alliance_function": "center_of_excellence"}).firms.alliance_function
        == "center_of_excellence"
    )
    mix = {"none": 0.5, "central_function": 0.5}
    assert build_scenario({}, {"firms.alliance_function": mix}).firms.alliance_function == mix


def test_alliance_function_shares_must_add_up():
    with pytest.raises(ScenarioError, match="add up to 1"):
        build_scenario({}, {"firms.alliance_function": {"none": 0.5, "central_function": 0.2}})


def test_alliance_function_unknown_type_lists_types():
    with pytest.raises(ScenarioError) as err:
        build_scenario({}, {"firms.alliance_function": "alliance_office"})
    assert "community_of_practice" in str(err.value)


def test_term_bounds_must_be_ordered():
    with pytest.raises(ScenarioError, match=r"max \(50\) must be >= min \(100\)"):
        build_scenario({}, {"formation.term_weeks": {"min": 100, "max": 50}})


def test_cohort_needs_enough_partner_seats():
    with pytest.raises(ScenarioError, match="partner seats"):
        build_scenario(
            {},
            {
                "formation.n_alliances": 100,
                "firms.count": 10,
                "formation.max_alliances_per_firm": 1,
            },
        )


def test_missing_file():
    with pytest.raises(ScenarioError, match="scenario file not found: .*nope.yaml"):
        load_scenario("nope.yaml")


def test_folder_is_not_a_scenario(tmp_path):
    with pytest.raises(ScenarioError, match="is a folder"):
        load_scenario(tmp_path)


def test_malformed_yaml_gives_line(tmp_path):
    path = write(tmp_path, "governance:\n  meeting_interval_weeks: [2\nfirms: {}\n")
    with pytest.raises(ScenarioError, match=r"malformed YAML at line \d+"):
        load_scenario(path)


def test_yaml_that_is_not_a_mapping(tmp_path):
    with pytest.raises(ScenarioError, match="a scenario is a YAML mapping.*got a list"):
        load_scenario(write(tmp_path, "- a\n- b\n"))


def test_empty_file_is_the_baseline(tmp_path):
    assert load_scenario(write(tmp_path, "")) == Scenario()


def test_yaml_tags_are_not_executed(tmp_path):
    path = write(tmp_path, "name: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ScenarioError, match="malformed YAML"):
        load_scenario(path)


@pytest.mark.parametrize(
    "text, key, value",
    [
        ("governance.meeting_interval_weeks=2", "governance.meeting_interval_weeks", 2),
        ("governance.steering_committee=true", "governance.steering_committee", True),
        ("governance.meeting_mode=virtual", "governance.meeting_mode", "virtual"),
        (
            "firms.alliance_function={none: 0.5, central_function: 0.5}",
            "firms.alliance_function",
            {"none": 0.5, "central_function": 0.5},
        ),
        ("name=a=b", "name", "a=b"),
    ],
)
def test_parse_assignment(text, key, value):
    assert parse_assignment(text) == (key, value)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("governance", "expected KEY=VALUE"),
        ("=3", "key before '=' is empty"),
        ("name=[1", "not valid YAML"),
    ],
)
def test_parse_assignment_errors(text, fragment):
    with pytest.raises(ScenarioError, match=fragment):
        parse_assignment(text)


def test_set_dotted_creates_sections():
    data: dict = {}
    set_dotted(data, "firms.incentives.formal", 0.7)
    assert data == {"firms": {"incentives": {"formal": 0.7}}}


def test_empty_path_segment_is_refused():
    with pytest.raises(ScenarioError, match="bad key"):
        set_dotted({}, "firms..count", 3)


@pytest.mark.parametrize(
    "key, value",
    [
        ("simulation.horizon_weeks", True),
        ("governance.role_clarity", True),
        ("governance.meeting_interval_weeks", "2"),
        ("governance.steering_committee", 1),
    ],
)
def test_no_silent_coercion(key, value):
    with pytest.raises(ScenarioError, match=key.replace(".", r"\.")):
        build_scenario({}, {key: value})


def test_override_errors_are_labelled_as_set_not_as_the_file(tmp_path):
    path = write(tmp_path, "governance: {role_clarity: 0.5}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path, {"governance.role_clarity": 2})
    assert str(err.value).startswith("--set governance.role_clarity:")
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, "governance: {role_clarity: 3}\n", "bad.yaml"))
    assert str(err.value).startswith(f"{tmp_path / 'bad.yaml'}: governance.role_clarity:")


@pytest.mark.parametrize("name", ["../up", "a/b", "", "-dash", "x" * 101])
def test_names_are_safe_folder_names(name):
    with pytest.raises(ScenarioError, match="letters, digits"):
        build_scenario({"name": name})
