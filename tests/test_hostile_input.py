"""Hostile input: YAML alias bombs and duplicate keys, files that are not files, sizes no machine holds,
infinite coefficients, whole sections set with --set, and one error class however the CLI starts.

The memory-hungry cases run the real command in a subprocess under a 2 GiB address-space cap
(RLIMIT_AS) and must exit 2 within seconds; without the guards they run out of memory instead.
"""

from __future__ import annotations

import math
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from experiments.cli import main
from experiments.engine import guards
from experiments.engine.spec import SpecError, load_spec, parse_spec, resolve_spec
from sim import ScenarioError, load_scenario, parse_assignment
from sim.guards import check_scenario_fits
from sim.safe_yaml import MAX_EXPANDED_NODES, YamlError, load_yaml
from sim.scenario import build_scenario
from sim.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "baseline.yaml"
CLI = [sys.executable, "-m", "experiments.cli"]
CAP_BYTES = 2 * 2**30
CAPPED_SECONDS = 60  # includes starting Python and importing the model (a few seconds)


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """Nine nested anchors of nine aliases each: under 1 KB of YAML, 9**9 values expanded."""
    lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def bomb_at(where: str) -> str:
    """A scenario with the bomb at an unknown key, as a section or as a list value."""
    body = "\n".join("  " + line for line in alias_bomb().splitlines())
    if where == "unknown key":
        return f"name: bomb\nnonsense:\n{body}\n"
    if where == "section":
        return f"name: bomb\ngovernance:\n{body}\n"
    return f"name: bomb\nfirms:\n  alliance_function:\n{body}\n"  # a list where a value goes


def _cap_memory():
    resource.setrlimit(resource.RLIMIT_AS, (CAP_BYTES, CAP_BYTES))


def run_capped(*args: str, cwd: Path = ROOT) -> tuple[int, str, float]:
    """Run the CLI under the memory cap; (exit status, stderr, seconds)."""
    started = time.monotonic()
    done = subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        preexec_fn=_cap_memory,
        capture_output=True,
        text=True,
        timeout=CAPPED_SECONDS * 3,
    )
    return done.returncode, done.stderr, time.monotonic() - started


# --------------------------------------------------------------------------- YAML


def test_the_alias_bomb_would_expand_to_hundreds_of_millions_of_values():
    # what the old reader did with it: yaml.safe_load shares the nodes, _plain and repr expand them
    assert len(alias_bomb()) < 1024 and 9**9 > 1000 * MAX_EXPANDED_NODES
    with pytest.raises(YamlError, match="aliases"):
        load_yaml(alias_bomb())


@pytest.mark.parametrize("where", ["unknown key", "section", "list value"])
def test_an_alias_bomb_in_a_scenario_exits_2_within_seconds_under_a_memory_cap(tmp_path, where):
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb_at(where))
    status, err, seconds = run_capped("run", str(path), "--out", str(tmp_path / "out"))
    assert status == 2, err
    assert "alias" in err and "Traceback" not in err and len(err) < 1000
    assert seconds < CAPPED_SECONDS


def test_an_alias_bomb_in_a_spec_and_in_a_set_value_is_refused(tmp_path):
    spec = tmp_path / "spec.yaml"
    body = "\n".join("  " + line for line in alias_bomb().splitlines())
    spec.write_text(f"name: s\nscenario: {BASELINE}\nfactors:\n{body}\n")
    status, err, seconds = run_capped("sweep", str(spec), "--out", str(tmp_path / "out"))
    assert status == 2 and "alias" in err and seconds < CAPPED_SECONDS, err
    flow = ", ".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9))
    with pytest.raises(ScenarioError, match="alias"):
        parse_assignment("name={a0: &a0 [x, x, x, x, x, x, x, x, x], " + flow + "}")


def test_a_few_small_aliases_are_fine():
    data = load_yaml("base: &b {meeting_mode: virtual}\ngovernance:\n  <<: *b\n  charter: true\n")
    assert data["governance"] == {"meeting_mode": "virtual", "charter": True}


def test_duplicate_keys_are_refused_with_both_lines(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text(
        "name: dup\ngovernance:\n  charter: true\nfirms:\n  count: 50\ngovernance:\n  charter: false\n"
    )
    with pytest.raises(ScenarioError, match=r"duplicate key 'governance' at line 6.*first at line 2"):
        load_scenario(path)
    with pytest.raises(ScenarioError, match="duplicate key"):
        parse_assignment("governance={charter: true, charter: false}")
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"name: s\nscenario: {BASELINE}\nreplications: 2\nreplications: 3\n")
    with pytest.raises(SpecError, match="duplicate key 'replications'"):
        load_spec(spec)


def test_numbers_are_read_as_yaml_1_2_reads_them():
    data = load_yaml("a: 1e308\nb: 1E-3\nc: -2.5e3\nd: 10\ne: 0.5\nf: .inf\ng: 1e3x\n")
    assert data == {"a": 1e308, "b": 1e-3, "c": -2500.0, "d": 10, "e": 0.5, "f": math.inf, "g": "1e3x"}
    assert isinstance(data["d"], int)
    assert parse_assignment("coefficients.value.value_scale=1e1") == ("coefficients.value.value_scale", 10.0)
    scenario = load_scenario(BASELINE, {"coefficients.value.value_scale": load_yaml("2e1")})
    assert scenario.coefficients.value.value_scale == 20.0
    with pytest.raises(ScenarioError, match="less than or equal to"):  # a number, not 'not a float'
        build_scenario({}, dict([parse_assignment("coefficients.trust.erosion_to_growth=1e308")]))


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/urandom", "folder", "fifo", "large"])
def test_only_regular_files_of_bounded_size_are_read(tmp_path, special):
    if special == "folder":
        path = tmp_path
    elif special == "fifo":
        path = tmp_path / "pipe.yaml"
        os.mkfifo(path)
    elif special == "large":
        path = tmp_path / "large.yaml"
        path.write_text("# padding\n" * 600_000)
    else:
        path = Path(special)
        if not path.exists():
            pytest.skip(f"{special} does not exist here")
    outcome: dict = {}

    def read():
        try:
            load_scenario(path)
        except ScenarioError as exc:
            outcome["error"] = str(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), f"reading {special} hangs"
    assert "error" in outcome and len(outcome["error"]) < 300
    spec = tmp_path / "spec_dir" / "spec.yaml"
    spec.parent.mkdir(exist_ok=True)
    spec.write_text(
        yaml.safe_dump(
            {"name": "s", "scenario": str(path), "factors": {"governance.charter": {"levels": [True]}}}
        )
    )
    with pytest.raises(SpecError):
        load_spec(spec)


def test_an_error_message_never_holds_a_huge_input():
    with pytest.raises(ScenarioError) as info:
        build_scenario({"governance": {"role_clarity": list(range(5000))}})
    assert len(str(info.value)) < 600


# --------------------------------------------------------------------------- sizes


def test_a_population_no_machine_holds_exits_2_within_seconds_under_a_memory_cap(tmp_path):
    status, err, seconds = run_capped(
        "run", str(BASELINE), "--set", "firms.count=1000000", "--set", "managers.per_firm=1000",
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert status == 2 and seconds < CAPPED_SECONDS, err
    assert "GiB" in err and "1,000,000,000 manager rows" in err and "2.00 GiB" in err


def test_the_scenario_guard_counts_managers_and_alliances():
    big = build_scenario({}, {"firms.count": 1_000_000, "managers.per_firm": 10})
    check_scenario_fits(big, limit=8 * 2**30)  # 10 million managers fit in 8 GiB
    with pytest.raises(ValueError, match="manager rows"):
        check_scenario_fits(big, limit=2**30)
    ongoing = {
        "formation.mode": "ongoing",
        "formation.rate_per_week": 10_000.0,
        "simulation.horizon_weeks": 10_400,
    }
    with pytest.raises(ValueError, match="alliances"):
        check_scenario_fits(build_scenario({}, {**ongoing, "firms.count": 1_000_000}), limit=16 * 2**30)


def grid_spec(factors: int) -> dict:
    return {
        "name": "huge",
        "scenario": str(BASELINE),
        "factors": {f"governance.f{i}": {"levels": [1, 2]} for i in range(factors)},
    }


def test_a_grid_of_2_to_the_35_points_is_refused_before_it_is_enumerated(tmp_path):
    spec = parse_spec(grid_spec(35))
    assert guards.design_points(spec) == 2**35
    started = time.monotonic()
    with pytest.raises(SpecError, match="34,359,738,368 design points"):
        resolve_spec(spec, BASELINE)
    assert time.monotonic() - started < 5
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(grid_spec(35)))
    status, err, seconds = run_capped("sweep", str(path), "--out", str(tmp_path / "out"))
    assert status == 2 and "design points" in err and seconds < CAPPED_SECONDS, err


@pytest.mark.parametrize(
    "design, points",
    [
        ({"kind": "lhs", "samples": 1_000_000}, 1_000_000),
        ({"kind": "sobol", "samples": 2**19}, 2**19 * 6),
        ({"kind": "morris", "samples": 1_000_000}, 3_000_000),
    ],
)
def test_a_sampled_design_too_large_is_refused_before_sampling(tmp_path, design, points):
    data = {
        "name": "big",
        "scenario": str(BASELINE),
        "factors": {
            "governance.role_clarity": {"range": [0.0, 1.0]},
            "firms.training": {"range": [0.0, 1.0]},
        },
        "design": design,
    }
    spec = parse_spec(data)
    assert guards.design_points(spec) == points
    with pytest.raises(SpecError, match="design points"):
        guards.check_experiment_fits(spec, limit=2 * 2**30)
    if design["kind"] == "lhs":
        path = tmp_path / "lhs.yaml"
        path.write_text(yaml.safe_dump(data))
        status, err, seconds = run_capped("sweep", str(path), "--out", str(tmp_path / "out"))
        assert status == 2 and "1,000,000 design points" in err and seconds < CAPPED_SECONDS, err


def test_the_engine_s_own_experiments_fit_easily():
    spec = load_spec(ROOT / "configs" / "experiments" / "meeting_frequency.yaml").spec
    guards.check_experiment_fits(spec, limit=2**30)


@pytest.mark.parametrize(
    "args",
    [
        ["sweep", "configs/experiments/meeting_frequency.yaml", "--replications", "1000000000000"],
        ["validate", "--replications", "1000000000000"],
        ["calibrate", "configs/calibration/baseline.yaml", "--max-evaluations", "1000000000000"],
        [
            "compare",
            "configs/baseline.yaml",
            "--set",
            "governance.charter=true",
            "--replications",
            "10000000",
        ],
        ["stress", "configs/stress/governance.yaml", "--replications", "1000000000000"],
        ["discover", "configs/discovery/alliance_function.yaml", "--samples", "1000000000000"],
        ["sensitivity", "configs/sensitivity/incentives_leadership.yaml", "--samples", "1099511627776"],
    ],
)
def test_every_count_flag_is_bounded_like_its_spec_field(args, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    started = time.monotonic()
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "must be an integer from" in err and err.count("\n") == 1
    assert time.monotonic() - started < 10
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- finite, bounded floats


def float_fields(cls: type[BaseModel], prefix: str = ""):
    for name, field in cls.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from float_fields(annotation, f"{prefix}{name}.")
        elif annotation is float:
            yield f"{prefix}{name}", field


def test_every_float_of_the_schema_is_bounded_and_finite():
    fields = dict(float_fields(Scenario))
    assert len(fields) > 100
    unbounded = [
        path for path, field in fields.items() if not any(getattr(m, "le", None) for m in field.metadata)
    ]
    assert unbounded == []
    for path in ("coefficients.trust.erosion_to_growth", "coefficients.friction.base_issues_per_week"):
        for value in (math.inf, math.nan):
            with pytest.raises(ScenarioError, match="finite number"):
                build_scenario({}, {path: value})


@pytest.mark.parametrize(
    "assignment",
    ["coefficients.trust.erosion_to_growth=.inf", "coefficients.friction.base_issues_per_week=.inf"],
)
def test_an_infinite_coefficient_exits_2_with_a_message(assignment, tmp_path, capsys):
    assert main(["run", str(BASELINE), "--set", assignment, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert assignment.split("=")[0] in err and "finite number" in err


def test_every_default_and_every_shipped_config_stays_valid():
    Scenario()
    for path in sorted((ROOT / "configs").rglob("*.yaml")):
        data = load_yaml(path.read_text())
        assert isinstance(data, dict)
        if "scenario" not in data and "factors" not in data and "designs" not in data:
            load_scenario(path)


def test_every_float_at_its_bounds_gives_a_finite_run():
    from sim import AllianceModel

    small = {"firms.count": 40, "formation.n_alliances": 20, "simulation.horizon_weeks": 104}
    for path, field in float_fields(Scenario):
        high = next(m.le for m in field.metadata if getattr(m, "le", None) is not None)
        for value in (float(high), 0.0):
            try:
                scenario = build_scenario({}, {**small, path: value})
            except ScenarioError:
                continue  # 0 below a gt=0 bound, or a share that must add up
            outcomes = AllianceModel(scenario, rng=1).run().outcomes()
            numbers = outcomes.select_dtypes("number").to_numpy(dtype=float)
            assert not (numbers == math.inf).any() and not (numbers == -math.inf).any(), (path, value)
            assert not outcomes["final_trust"].isna().any(), (path, value)


# --------------------------------------------------------------------------- --set of a section


def test_setting_a_whole_section_merges_into_it(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\ngovernance:\n  charter: true\n  meeting_interval_weeks: 2\n")
    scenario = load_scenario(path, dict([parse_assignment("governance={meeting_mode: virtual}")]))
    assert scenario.governance.meeting_mode == "virtual"
    assert scenario.governance.charter is True and scenario.governance.meeting_interval_weeks == 2
    nested = load_scenario(path, dict([parse_assignment("coefficients={trust: {initial_mean: 0.5}}")]))
    assert nested.coefficients.trust.initial_mean == 0.5
    assert nested.coefficients.trust.erosion_to_growth == Scenario().coefficients.trust.erosion_to_growth
    shares = {"firms.alliance_function": {"none": 0.5, "central_function": 0.5}}
    replaced = build_scenario({"firms": {"alliance_function": {"none": 1.0}}}, shares)
    assert replaced.firms.alliance_function == {"none": 0.5, "central_function": 0.5}  # a value, replaced


# --------------------------------------------------------------------------- one error class


def test_python_dash_m_experiments_cli_prints_one_line_and_exits_2(tmp_path):
    done = subprocess.run(
        [*CLI, "report", str(tmp_path / "missing")], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
