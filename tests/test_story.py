"""Stories (`alliance-sim story`): an unchanged scenario never parts, a lever parts the worlds no
earlier than it can act, --pick flipped picks an alliance whose outcome changes, the files are
deterministic, and every documented error path exits 2 with one message."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from experiments.cli import main
from experiments.studies.story import TIMELINE_COLUMNS, StoryError, aligned_timeline, format_story, story
from sim import AllianceModel, load_scenario

TINY = {
    "name": "tiny",
    # terms short enough to end within the horizon (the baseline's are years longer)
    "formation": {"n_alliances": 30, "term_weeks": {"distribution": "uniform", "min": 60, "max": 140}},
    "firms": {"count": 45},
    "simulation": {"horizon_weeks": 156},
}
SEED = 1
#: Baseline meetings are every 4 weeks from week 4; with 8 weeks the first one is at week 8, so
#: week 4 is the first week the change can act on.
MEETING_CHANGE = {"governance.meeting_interval_weeks": 8}
FIRST_WEEK_IT_CAN_ACT = 4


@pytest.fixture(scope="module")
def tiny_yaml(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path


def test_an_unchanged_scenario_tells_the_same_story_twice(tiny_yaml):
    tale = story(tiny_yaml, {"governance.risk_clinic": "none"}, alliance=3, seed=SEED)
    assert tale.parting_week is None
    pd.testing.assert_frame_equal(tale.baseline, tale.alternative)
    pd.testing.assert_series_equal(tale.trust["baseline"], tale.trust["alternative"], check_names=False)
    assert tale.baseline_end == tale.alternative_end and not tale.flipped
    timeline = aligned_timeline(tale)
    assert tuple(timeline.columns) == TIMELINE_COLUMNS
    assert timeline["same"].all() and (timeline["baseline"] == timeline["alternative"]).all()
    assert "never part" in format_story(tale)


def test_a_change_parts_the_worlds_no_earlier_than_it_can_act(tiny_yaml):
    tale = story(tiny_yaml, MEETING_CHANGE, alliance=1, seed=SEED)
    assert tale.parting_week is not None and tale.parting_week >= FIRST_WEEK_IT_CAN_ACT
    before = [
        t[t["week"] < tale.parting_week].reset_index(drop=True) for t in (tale.baseline, tale.alternative)
    ]
    pd.testing.assert_frame_equal(*before)
    at = [set(t.loc[t["week"] == tale.parting_week, "event"]) for t in (tale.baseline, tale.alternative)]
    assert at[0] != at[1] or not tale.baseline[tale.baseline["week"] == tale.parting_week].equals(
        tale.alternative[tale.alternative["week"] == tale.parting_week]
    )
    text = format_story(tale)
    assert f"the worlds part here, in week {tale.parting_week}" in text


def test_the_first_meeting_is_where_a_meeting_change_parts_the_worlds(tiny_yaml):
    tale = story(tiny_yaml, MEETING_CHANGE, alliance=1, seed=SEED)
    meetings = tale.baseline[tale.baseline["event"].str.startswith("meeting")]
    assert tale.parting_week == int(meetings["week"].min()) == FIRST_WEEK_IT_CAN_ACT


def test_pick_flipped_picks_the_lowest_alliance_whose_outcome_changes(tiny_yaml):
    changes = {"firms.alliance_function": "central_function"}
    tale = story(tiny_yaml, changes, pick="flipped", seed=SEED)
    assert tale.flipped and tale.baseline_end.outcome != tale.alternative_end.outcome
    base = load_scenario(tiny_yaml)
    worlds = [
        AllianceModel(base, rng=SEED).run(),
        AllianceModel(base, rng=SEED, firms__alliance_function="central_function").run(),
    ]
    a, b = (w.outcomes().set_index("alliance_id")["outcome"] for w in worlds)
    differing = sorted(a.index[a != b])
    assert tale.alliance == differing[0]
    assert tale.baseline_end.outcome == a[tale.alliance] and tale.alternative_end.outcome == b[tale.alliance]


def test_the_ending_is_the_last_event_of_each_timeline(tiny_yaml):
    tale = story(tiny_yaml, MEETING_CHANGE, alliance=2, seed=SEED)
    worlds = (
        ("baseline", tale.baseline, tale.baseline_end),
        ("alternative", tale.alternative, tale.alternative_end),
    )
    for world, timeline, end in worlds:
        if end.outcome != "censored":
            assert timeline["event"].iloc[-1] == "ended"
            assert timeline["week"].iloc[-1] == end.week
        trust = tale.trust.set_index("week")[world]
        assert trust.loc[end.week + 1 :].isna().all()
        assert trust.loc[: end.week].notna().all()


def test_the_same_seed_writes_the_same_bytes(tiny_yaml, tmp_path):
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        argv = ["story", str(tiny_yaml), "--set", "firms.alliance_function=central_function", "--pick",
                "flipped", "--seed", str(SEED), "--out", str(out), "--quiet"]  # fmt: skip
        assert main(argv) == 0
    for name in ("story.csv", "story.png", "story.svg"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    manifest = (outs[0] / "manifest.json").read_text()
    assert '"seed": 1' in manifest and "firms.alliance_function" in manifest


def test_the_command_prints_both_columns_and_the_endings(tiny_yaml, tmp_path, capsys):
    argv = ["story", str(tiny_yaml), "--set", "governance.meeting_interval_weeks=8", "--alliance", "1",
            "--seed", str(SEED), "--out", str(tmp_path / "s")]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "baseline against governance.meeting_interval_weeks=8" in out.splitlines()[0]
    header = next(line for line in out.splitlines() if line.strip().startswith("week"))
    assert "baseline" in header and "alternative" in header
    assert "How it ends: baseline:" in out and ">>>" in out
    table = pd.read_csv(tmp_path / "s" / "story.csv")
    assert tuple(table.columns) == TIMELINE_COLUMNS and table["week"].is_monotonic_increasing


# --------------------------------------------------------------------------- errors


def error_of(capsys, argv: list[str]) -> str:
    status = main(argv)
    captured = capsys.readouterr()
    assert status == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("alliance-sim: error: "), captured.err
    return lines[0]


def test_an_alliance_out_of_range_names_the_allowed_range(tiny_yaml, capsys):
    message = error_of(
        capsys, ["story", str(tiny_yaml), "--set", "governance.risk_clinic=launch", "--alliance", "30"]
    )
    assert "--alliance 30 is out of range" in message and "0 to 29" in message


def test_pick_flipped_with_nothing_flipping_suggests_what_to_try(tiny_yaml, capsys):
    message = error_of(
        capsys, ["story", str(tiny_yaml), "--set", "governance.risk_clinic=none", "--pick", "flipped"]
    )
    assert "no alliance changes outcome" in message and "--seed" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("governance.nope=1", "unknown key 'governance.nope'"),
        ("governance.meeting_interval_weeks=0", "greater than"),
    ],
)
def test_a_bad_change_is_refused(tiny_yaml, capsys, change, expected):
    assert expected in error_of(capsys, ["story", str(tiny_yaml), "--set", change, "--alliance", "0"])


def test_a_missing_scenario_file_is_refused(tmp_path, capsys):
    message = error_of(
        capsys,
        ["story", str(tmp_path / "gone.yaml"), "--set", "governance.risk_clinic=launch", "--alliance", "0"],
    )
    assert "gone.yaml" in message


def test_alliance_and_pick_are_mutually_exclusive_and_one_is_needed(tiny_yaml):
    base = ["story", str(tiny_yaml), "--set", "governance.risk_clinic=launch"]
    for extra in ([], ["--alliance", "1", "--pick", "flipped"]):
        with pytest.raises(SystemExit) as exited:
            main(base + extra)
        assert exited.value.code == 2
    with pytest.raises(StoryError, match="--alliance ID or choose one with --pick"):
        story(tiny_yaml, {"governance.risk_clinic": "launch"}, seed=SEED)
