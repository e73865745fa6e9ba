"""The `alliance-sim` command line: result files, reproducibility, the summary and every error path."""

from __future__ import annotations

import json
import math
import re
import runpy
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pyarrow.parquet as pq
import pytest

from experiments import cli
from experiments.analysis.stats import wilson_interval
from experiments.engine import outputs
from experiments.engine.provenance import PACKAGES, git_state
from experiments.studies import run as run_study
from sim import AllianceModel, load_scenario

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "configs" / "baseline.yaml"
# A small scenario whose alliances end in successes, failures and censoring within 60 weeks
QUICK = {
    "formation.n_alliances": 20,
    "firms.count": 40,
    "simulation.horizon_weeks": 60,
    "formation.term_weeks.distribution": "uniform",
    "formation.term_weeks.min": 30,
    "formation.term_weeks.max": 80,
}


def set_args(values: dict[str, object]) -> list[str]:
    """`--set KEY=VALUE` arguments for each item of `values`."""
    return [arg for key, value in values.items() for arg in ("--set", f"{key}={value}")]


QUICK_SETS = set_args(QUICK)
TABLES = ("outcomes.parquet", "timeseries.parquet", "events.parquet")


def run(capsys, *args: str) -> tuple[int, str, str]:
    """`alliance-sim ARGS` in-process: (exit status, stdout, stderr)."""
    status = cli.main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def run_quick(capsys, out: Path, *args: str) -> tuple[int, str, str]:
    """`alliance-sim run` of the quick baseline into `out`."""
    return run(capsys, "run", str(BASELINE), *QUICK_SETS, "--out", str(out), *args)


def table_bytes(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in TABLES}


def assert_usage_error(status: int, out: str, err: str, *words: str) -> None:
    """Exit 2, one `alliance-sim: error:` message naming every word, no traceback, no output."""
    assert status == 2
    assert out == ""
    assert err.startswith("alliance-sim: error: ") and err.count("\n") == 1
    assert "Traceback" not in err
    for word in words:
        assert word in err, f"{word!r} missing from {err!r}"


# --------------------------------------------------------------------------- results


def test_run_writes_readable_tables_scenario_and_manifest(capsys, tmp_path):
    out = tmp_path / "new" / "folder"
    status, _, err = run_quick(capsys, out, "--seed", "3")
    assert (status, err) == (0, "")
    assert sorted(p.name for p in out.iterdir()) == sorted(outputs.FILES)  # no temporary files

    model = AllianceModel(load_scenario(BASELINE, QUICK), rng=3).run()
    outcomes = pd.read_parquet(out / "outcomes.parquet")
    expected = model.outcomes()
    assert list(outcomes.columns) == list(expected.columns)
    assert [list(ids) for ids in outcomes["partner_ids"]] == expected["partner_ids"].tolist()
    assert all(isinstance(i, int) for ids in outcomes["partner_ids"] for i in ids.tolist())
    pd.testing.assert_frame_equal(
        outcomes.drop(columns="partner_ids"), expected.drop(columns="partner_ids"), check_dtype=False
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "timeseries.parquet"), model.timeseries(), check_dtype=False
    )
    events = pd.read_parquet(out / "events.parquet")
    pd.testing.assert_frame_equal(events, model.events(), check_dtype=False)
    assert set(events["event"]) >= {"formed", "ended"}

    assert load_scenario(out / "scenario.yaml") == model.config
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3
    assert manifest["scenario"] == model.config.model_dump(mode="json")
    assert manifest["scenario"]["firms"]["count"] == 40
    assert manifest["summary"]["alliances"] == 20
    assert manifest["summary"]["success"] == int((outcomes["outcome"] == "success").sum())
    assert manifest["command"][:2] == ["alliance-sim", "run"] and "--seed" in manifest["command"]
    assert set(manifest["packages"]) == set(PACKAGES) and manifest["packages"]["pandas"] == pd.__version__
    assert datetime.fromisoformat(manifest["created"]).utcoffset().total_seconds() == 0
    assert manifest["git_commit"] is None or re.fullmatch(r"[0-9a-f]{40}", manifest["git_commit"])


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> dict[str, Path]:
    """Result folders of the quick scenario, written with --quiet: seed 0 twice and seed 1."""
    root = tmp_path_factory.mktemp("seeded")
    folders = {}
    for name, seed in (("0", "0"), ("0 again", "0"), ("1", "1")):
        folders[name] = root / name
        args = ["run", str(BASELINE), *QUICK_SETS, "--seed", seed, "--out", str(folders[name]), "--quiet"]
        assert cli.main(args) == 0
    return folders


def test_same_seed_gives_identical_files_and_another_seed_does_not(seeded):
    first, again, other = (table_bytes(seeded[name]) for name in ("0", "0 again", "1"))
    assert first == again
    assert all(first[name] != other[name] for name in TABLES)
    manifests = [json.loads((seeded[name] / "manifest.json").read_text()) for name in ("0", "0 again")]
    for manifest in manifests:
        del manifest["created"], manifest["command"]  # the command names a different --out
    assert manifests[0] == manifests[1]


def test_default_seed_is_zero_and_default_folder_is_results_slash_name(capsys, tmp_path, monkeypatch, seeded):
    monkeypatch.chdir(tmp_path)
    status, _, _ = run(capsys, "run", str(BASELINE), *QUICK_SETS, "--set", "name=tiny", "--quiet")
    assert status == 0
    folder = tmp_path / "results" / "tiny"
    assert json.loads((folder / "manifest.json").read_text())["seed"] == 0
    assert table_bytes(folder) == table_bytes(seeded["0"])


def test_rerun_into_a_used_folder_replaces_the_earlier_run(capsys, tmp_path, seeded):
    assert run_quick(capsys, tmp_path, "--seed", "0", "--set", "name=other", "--quiet")[0] == 0
    assert run_quick(capsys, tmp_path, "--seed", "1", "--quiet")[0] == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert (manifest["seed"], manifest["scenario"]["name"]) == (1, "baseline")
    assert table_bytes(tmp_path) == table_bytes(seeded["1"])


def test_a_failed_write_keeps_the_old_file_whole_and_leaves_no_manifest(capsys, tmp_path, monkeypatch):
    assert run_quick(capsys, tmp_path, "--quiet")[0] == 0
    before = (tmp_path / "outcomes.parquet").read_bytes()

    def crash(table, handle):
        handle.write(b"PAR1 half a file")
        raise RuntimeError("simulated crash while writing")

    monkeypatch.setattr(outputs.pq, "write_table", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_quick(capsys, tmp_path, "--seed", "9", "--quiet")
    assert (tmp_path / "outcomes.parquet").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(set(outputs.FILES) - {"manifest.json"})


def test_run_with_no_alliance_keeps_the_table_schema(capsys, tmp_path):
    nothing_forms = {
        "formation.mode": "ongoing",
        "formation.rate_per_week": 0,
        "simulation.horizon_weeks": 10,
    }
    status, stdout, _ = run(capsys, "run", str(BASELINE), "--out", str(tmp_path), *set_args(nothing_forms))
    assert status == 0
    assert "Alliances formed: 0" in stdout and "Success rate: n/a" in stdout
    schema = pq.read_schema(tmp_path / "outcomes.parquet")
    assert str(schema.field("partner_ids").type) == "list<element: int64>"
    assert str(schema.field("outcome").type) == "string"
    assert json.loads((tmp_path / "manifest.json").read_text())["summary"]["success_rate"] is None


# --------------------------------------------------------------------------- summary


def test_summary_reports_rate_interval_counts_reasons_duration_and_folder(capsys, tmp_path):
    status, stdout, err = run_quick(capsys, tmp_path, "--seed", "0")
    assert (status, err) == (0, "")
    summary = json.loads((tmp_path / "manifest.json").read_text())["summary"]
    decided = summary["success"] + summary["failure"] + summary["restructured"]
    assert 0 < summary["success"] < decided, "QUICK should give both successes and failures"
    low, high = wilson_interval(summary["success"], decided)
    rate = summary["success"] / decided
    assert f"Success rate: {rate:.1%} (95% CI {low:.1%}–{high:.1%}) of {decided} decided alliances" in stdout
    assert "Scenario: baseline (seed 0), 60 weeks simulated" in stdout
    assert f"{summary['success']} success, {summary['failure']} failure" in stdout
    assert f"{summary['censored']} censored" in stdout
    value_shortfall = summary["failures_by_reason"]["value_shortfall"]
    assert re.search(
        rf"value_shortfall\s+{value_shortfall}\s+\({value_shortfall / summary['failure']:.1%}\)", stdout
    )
    median = summary["median_duration_weeks"]
    assert f"{median:g} weeks ({median / run_study.WEEKS_PER_YEAR:.1f} years)" in stdout
    assert f"Results in {tmp_path}" in stdout


def test_report_says_when_a_run_stopped_before_the_horizon():
    scenario = load_scenario(BASELINE, {"simulation.horizon_weeks": 300})
    early, full = (SimpleNamespace(config=scenario, week=week) for week in (205, 300))
    assert run_study.weeks_simulated(early) == "205 of 300 weeks simulated (every alliance had ended)"
    assert run_study.weeks_simulated(full) == "300 weeks simulated"


def test_quiet_prints_nothing(capsys, tmp_path):
    assert run_quick(capsys, tmp_path, "--quiet") == (0, "", "")
    assert (tmp_path / "manifest.json").is_file()


def test_wilson_interval_matches_the_formula_and_is_nan_without_trials():
    k, n, z = 47, 100, 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert wilson_interval(k, n) == pytest.approx((centre - half, centre + half), abs=1e-12)
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_git_state_is_none_outside_a_checkout(tmp_path):
    assert git_state(tmp_path) == (None, None)


# --------------------------------------------------------------------------- errors


def test_missing_scenario_file(capsys, tmp_path):
    missing = tmp_path / "nowhere.yaml"
    assert_usage_error(*run(capsys, "run", str(missing)), "not found", str(missing))


def test_malformed_yaml(capsys, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\ngovernance: {meeting_interval_weeks: 2\n")
    assert_usage_error(
        *run(capsys, "run", str(path), "--out", str(tmp_path / "o")), "malformed YAML", "line 3"
    )
    assert not (tmp_path / "o").exists()


def test_unknown_key_in_yaml(capsys, tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text("governance:\n  meeting_intervall_weeks: 2\n")
    assert_usage_error(
        *run(capsys, "run", str(path)),
        "unknown key 'governance.meeting_intervall_weeks'",
        "did you mean 'governance.meeting_interval_weeks'",
        "review_interval_weeks",
    )


def test_unknown_key_via_set(capsys):
    assert_usage_error(
        *run(capsys, "run", str(BASELINE), "--set", "governence.role_clarity=0.5"),
        "unknown key 'governence'",
        "did you mean 'governance'",
        "formation",
    )


@pytest.mark.parametrize(
    ("assignment", "words"),
    [
        (
            "governance.meeting_interval_weeks=often",
            ("governance.meeting_interval_weeks", "integer", "'often'"),
        ),
        (
            "governance.meeting_mode=telepathy",
            ("governance.meeting_mode", "'in_person'", "'virtual'", "'mixed'"),
        ),
        ("governance.role_clarity=1.5", ("governance.role_clarity", "less than or equal to 1", "1.5")),
        ("simulation.horizon_weeks=0", ("simulation.horizon_weeks", "greater than or equal to 1")),
    ],
    ids=["wrong-type", "not-an-allowed-value", "above-range", "below-range"],
)
def test_invalid_value_names_key_and_what_is_allowed(capsys, tmp_path, assignment, words):
    assert_usage_error(
        *run(capsys, "run", str(BASELINE), "--set", assignment, "--out", str(tmp_path / "o")), *words
    )
    assert not (tmp_path / "o").exists()


def test_wrong_type_in_yaml(capsys, tmp_path):
    path = tmp_path / "typed.yaml"
    path.write_text("governance:\n  steering_committee: sometimes\n")
    assert_usage_error(*run(capsys, "run", str(path)), "governance.steering_committee", "bool", "sometimes")


def test_set_without_equals(capsys):
    assert_usage_error(
        *run(capsys, "run", str(BASELINE), "--set", "governance.role_clarity"),
        "bad --set 'governance.role_clarity'",
        "KEY=VALUE",
    )


def test_negative_seed(capsys):
    assert_usage_error(*run(capsys, "run", str(BASELINE), "--seed", "-4"), "--seed", "non-negative", "-4")


def test_out_is_an_existing_file(capsys, tmp_path):
    target = tmp_path / "taken.txt"
    target.write_text("keep me")
    assert_usage_error(
        *run(capsys, "run", str(BASELINE), *QUICK_SETS, "--out", str(target)),
        str(target),
        "is an existing file",
    )
    assert target.read_text() == "keep me"


def test_out_below_a_file_cannot_be_created(capsys, tmp_path):
    (tmp_path / "file").write_text("")
    folder = tmp_path / "file" / "results"
    assert_usage_error(
        *run(capsys, "run", str(BASELINE), *QUICK_SETS, "--out", str(folder)),
        "cannot create the output folder",
        str(folder),
    )


def test_unwritable_result_file_is_reported(capsys, tmp_path):
    (tmp_path / "events.parquet").mkdir()  # a folder where a result file must go
    assert_usage_error(*run_quick(capsys, tmp_path), "cannot write the results", "events.parquet")
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())


def test_scenario_name_that_would_leave_results_is_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_usage_error(
        *run(capsys, "run", str(BASELINE), *QUICK_SETS, "--set", "name=../escape"),
        "--set name",
        "'../escape'",
        "letters, digits",
    )
    assert list(tmp_path.iterdir()) == []


def test_argparse_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", str(BASELINE), "--seed", "many"])
    assert exit_info.value.code == 2
    assert "invalid int value: 'many'" in capsys.readouterr().err


# --------------------------------------------------------------------------- installed command


def installed_command() -> str:
    script = Path(sys.executable).with_name("alliance-sim")
    assert script.is_file(), f"{script} missing: install the project (make setup)"
    return str(script)


def test_installed_command_runs_in_a_fresh_process(tmp_path):
    done = subprocess.run(
        [installed_command(), "run", str(BASELINE), *QUICK_SETS, "--seed", "1", "--out", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert "Success rate: " in done.stdout and "Results in out:" in done.stdout
    assert pd.read_parquet(tmp_path / "out" / "outcomes.parquet").shape[0] == 20
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["command"][0] == "alliance-sim"


def test_python_dash_m_runs_main_on_sys_argv(capsys, monkeypatch):
    monkeypatch.delitem(sys.modules, "experiments.cli")  # run_module executes a fresh copy
    monkeypatch.setattr(sys, "argv", ["cli.py", "run", str(BASELINE), "--seed", "-1"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("experiments.cli", run_name="__main__")
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == "alliance-sim: error: --seed must be a non-negative integer, got -1\n"


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert re.fullmatch(r"alliance-sim \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)
