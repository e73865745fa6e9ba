"""The HTML report of a result folder, and the trust-trajectory figure it draws.

A real single run and a real small sweep are made here with tiny scenarios; the folders of the
other kinds (compare, story, stress, discovery, sensitivity, validation) are fabricated with the
CSV columns their modules document, so these tests do not depend on those modules.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.figure import Figure

from experiments import cli, run_sweep
from experiments.analysis.stats import wilson_interval
from experiments.present.figures.trajectories import (
    alliance_trust,
    band_name,
    trust_bands,
    trust_trajectories,
)
from experiments.report import REPORT_HTML, ReportError, build_report, detect_kind, write_report

HOSTILE = '<script>alert("owned")</script> & <img src=x onerror=alert(1)>'
TINY = {"formation": {"n_alliances": 20}, "firms": {"count": 30}, "simulation": {"horizon_weeks": 104}}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EMBEDDED_PNG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


# --------------------------------------------------------------------------- helpers


def cli_main(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """`alliance-sim ARGS` in-process."""
    status = cli.main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_self_contained(page: str) -> None:
    """No reference to anything outside the page: no URL, no external script, style or image."""
    assert "http://" not in page and "https://" not in page
    assert "<link" not in page and "<script" not in page
    sources = re.findall(r'src="([^"]*)"', page)
    assert all(source.startswith("data:image/png;base64,") for source in sources)


def embedded_images(page: str) -> list[bytes]:
    return [base64.b64decode(data) for data in EMBEDDED_PNG.findall(page)]


def small_png() -> bytes:
    figure = Figure(figsize=(1, 1))
    figure.add_subplot().plot([0, 1], [0, 1])
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={})
    return buffer.getvalue()


def fabricated(folder: Path, files: dict[str, pd.DataFrame], manifest: dict | None = None) -> Path:
    """A result folder holding `files` as CSV, a manifest and one figure."""
    folder.mkdir()
    for name, frame in files.items():
        frame.to_csv(folder / name, index=False)
    if manifest is not None:
        (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "figure.png").write_bytes(small_png())
    return folder


def engine_manifest(name: str, replications: int = 20) -> dict:
    return {
        "kind": "sweep",
        "name": name,
        "replications": replications,
        "seeds": {"experiment_seed": 4242, "common_random_numbers": True},
        "invocations": [
            {
                "command": ["alliance-sim", "compare", "x.yaml"],
                "started": "2026-01-02T03:04:05+00:00",
                "python": "3.13.0",
                "packages": {"mesa": "3.5.1"},
                "git_commit": "abc123def",
                "git_dirty": False,
            }
        ],
    }


# --------------------------------------------------------------------------- real folders


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """A real single run of a tiny scenario whose description is hostile HTML."""
    base = tmp_path_factory.mktemp("run")
    scenario = base / "tiny.yaml"
    scenario.write_text(yaml.safe_dump({"name": "tiny", "description": HOSTILE, **TINY}))
    out = base / "out"
    assert cli.main(["run", str(scenario), "--seed", "5", "--out", str(out), "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory):
    """A real small sweep: meeting every 2 or 8 weeks, 2 replications, a time series kept."""
    base = tmp_path_factory.mktemp("sweep")
    (base / "tiny.yaml").write_text(yaml.safe_dump({"name": "tiny", **TINY}))
    spec = {
        "name": "tiny_report",
        "scenario": "tiny.yaml",
        "factors": {"governance.meeting_interval_weeks": {"levels": [2, 8]}},
        "replications": 2,
        "seed": 3,
        "reference": {"governance.meeting_interval_weeks": 8},
        "keep": {"outcomes": True, "timeseries_every_weeks": 13, "events": False},
    }
    (base / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    out = base / "out"
    run_sweep(base / "spec.yaml", out, workers=1, progress=False)
    return out


def test_run_report_shows_the_runs_numbers_figure_and_provenance(run_folder):
    page = write_report(run_folder).read_text(encoding="utf-8")
    manifest = json.loads((run_folder / "manifest.json").read_text())
    summary = manifest["summary"]
    decided = summary["success"] + summary["failure"] + summary["restructured"]
    low, high = wilson_interval(summary["success"], decided)
    assert f"{summary['success'] / decided:.1%} (95% Wilson interval {low:.1%} to {high:.1%})" in page
    assert f"{summary['alliances']} alliances formed" in page
    assert detect_kind(run_folder) == "run"
    images = embedded_images(page)
    assert len(images) == 1 and images[0].startswith(PNG_SIGNATURE)  # trust over time, from the events
    assert "across active alliances" in page
    assert manifest["created"] in page and f"mesa {manifest['packages']['mesa']}" in page
    assert (manifest["git_commit"] or "not recorded") in page
    assert_self_contained(page)


def test_a_hostile_scenario_description_is_escaped(run_folder):
    page = build_report(run_folder)
    assert HOSTILE not in page and "<img src=x" not in page
    assert html.escape(HOSTILE, quote=True) in page


def test_sweep_report_names_the_best_point_against_the_reference(sweep_folder):
    page = write_report(sweep_folder).read_text(encoding="utf-8")
    summary = pd.read_csv(sweep_folder / "summary.csv")
    for row in summary.itertuples():
        assert f"{row.success_rate:.1%} ({row.success_ci_low:.1%} to {row.success_ci_high:.1%})" in page
    best = summary.sort_values("success_rate", ascending=False).iloc[0]
    reference = summary[summary["reference"]].iloc[0]
    assert (
        f"to {best['success_rate']:.1%} "
        f"(meeting interval weeks = {best['governance.meeting_interval_weeks']})" in page
    )
    if best["point_id"] != reference["point_id"]:
        overlap = best["success_ci_low"] <= reference["success_ci_high"]
        assert ("intervals overlap." if overlap else "intervals do not overlap.") in page
        assert f"{100 * best['diff_success_rate']:+.1f} points" in page
    # success rate by the factor (no figures/ yet) and trust trajectories from the time series
    assert len(embedded_images(page)) == 2
    assert "across replications" in page
    assert "<dt>seeds: experiment seed</dt><dd>3</dd>" in page
    assert "<dt>factor governance.meeting_interval_weeks</dt><dd>levels 2, 8</dd>" in page
    assert_self_contained(page)


def test_the_same_folder_gives_the_same_bytes(sweep_folder, run_folder):
    for folder in (sweep_folder, run_folder):
        first = write_report(folder).read_bytes()
        second = write_report(folder).read_bytes()  # the first report.html is not read back in
        assert first == second


# --------------------------------------------------------------------------- fabricated kinds


def test_compare_report_reads_the_paired_difference(tmp_path):
    table = pd.DataFrame(
        {
            "metric": ["success_rate", "mean_duration_weeks", "mean_final_trust"],
            "baseline": [0.5, 120.0, 0.6],
            "alternative": [0.63, 131.0, 0.61],
            "difference": [0.13, 11.0, 0.01],
            "ci_low": [0.11, 2.5, -0.02],
            "ci_high": [0.15, 19.5, 0.04],
        }
    )
    folder = fabricated(tmp_path / "cmp", {"comparison.csv": table}, engine_manifest(HOSTILE))
    page = write_report(folder).read_text(encoding="utf-8")
    assert detect_kind(folder) == "compare"
    assert "Success rate rose from 50.0% to 63.0% (+13.0 points (95% CI +11.0 to +15.0))" in page
    assert "the interval excludes zero" in page
    assert "mean duration weeks 120 to 131 (+11 (95% CI +2.5 to +19.5))" in page  # the other clear change
    assert "mean final trust 0.6" not in page  # its interval includes zero: not listed as a change
    assert embedded_images(page) == [(folder / "figure.png").read_bytes()]
    assert HOSTILE not in page and html.escape(HOSTILE) in page
    assert "abc123def" in page and "4242" in page and "mesa 3.5.1" in page
    assert_self_contained(page)


def test_compare_report_says_when_the_interval_includes_zero(tmp_path):
    table = pd.DataFrame(
        {"metric": ["success_rate"], "baseline": [0.5], "alternative": [0.48], "difference": [-0.02],
         "ci_low": [-0.06], "ci_high": [0.02]}
    )  # fmt: skip
    folder = fabricated(tmp_path / "cmp", {"comparison.csv": table}, engine_manifest("same", 30))
    page = build_report(folder)
    assert "Success rate fell from 50.0% to 48.0% (-2.0 points (95% CI -6.0 to +2.0))" in page
    assert "at 30 replications the change cannot be told apart from noise" in page


def test_stress_report_names_the_max_min_design(tmp_path):
    table = pd.DataFrame(
        {
            "design": ["steady", "steady", HOSTILE, HOSTILE],
            "scenario": ["normal", "churn", "normal", "churn"],
            "success_rate": [0.60, 0.50, 0.70, 0.40],
            "ci_low": [0.55, 0.45, 0.65, 0.35],
            "ci_high": [0.65, 0.55, 0.75, 0.45],
            "regret": [0.10, 0.0, 0.0, 0.10],
        }
    )
    folder = fabricated(tmp_path / "stress", {"stress.csv": table}, engine_manifest("stress"))
    page = build_report(folder)
    # worst cases: steady 50%, the other 40%: steady is the max-min choice; mean regrets tie at 5 points
    assert "best in its worst case is steady: its lowest success rate, in churn, is 50.0%" in page
    assert "60.0% (55.0% to 65.0%)" in page and "smallest mean regret over the 2 scenarios" in page
    assert "<td>5.0 points</td>" in page
    assert HOSTILE not in page and html.escape(HOSTILE) in page


def test_discovery_report_states_the_first_box_as_a_rule(tmp_path):
    boxes = pd.DataFrame(
        {"box": [1, 2], "coverage": [0.8, 0.1], "density": [0.9, 0.6], "n_restricted": [2, 1],
         "rule": ["turnover > 0.3 and culture < 0.5", "meetings >= 13"]}
    )  # fmt: skip
    folder = fabricated(tmp_path / "disc", {"boxes.csv": boxes}, engine_manifest("disc"))
    (folder / "discovery.md").write_text("# Discovery\nTwo boxes.\n")
    page = build_report(folder)
    assert "PRIM found 2 boxes" in page
    assert "Box 1 (turnover &gt; 0.3 and culture &lt; 0.5) holds 80.0% of the failing samples" in page
    assert "90.0% of the samples inside it fail" in page and "Two boxes." in page


def test_sensitivity_report_ranks_parameters_by_total_index(tmp_path):
    rows = [
        ("a", "sobol", "S1", 0.10, 0.02), ("a", "sobol", "ST", 0.20, 0.03),
        ("b", "sobol", "S1", 0.50, 0.05), ("b", "sobol", "ST", 0.70, 0.06),
        ("a x b", "sobol", "S2", 0.08, 0.04),
        ("a", "morris", "mu_star", 0.9, 0.1), ("b", "morris", "mu_star", 0.3, 0.1),
        ("a", "morris", "mu", -0.85, np.nan), ("b", "morris", "mu", 0.25, np.nan),  # mu has no interval
    ]  # fmt: skip
    indices = pd.DataFrame(rows, columns=["parameter", "method", "index", "value", "ci"])
    manifest = {"kind": "sensitivity", "name": "levers", "spec": {"seed": 9, "methods": ["sobol", "morris"]}}
    folder = fabricated(tmp_path / "sens", {"indices.csv": indices}, manifest)
    page = build_report(folder)
    assert "Sobol: the most influential parameter is b (ST = 0.7 ± 0.06), then a (ST = 0.2)." in page
    assert "Morris: the most influential parameter is a (mu_star = 0.9 ± 0.1), then b" in page
    assert "<td>-0.85</td>" in page  # mu without an interval
    assert "a x b" in page and "0.08 ± 0.04" in page
    assert page.index("Sobol: the most") < page.index("Morris: the most")  # the file's order
    assert "sobol, morris" in page


def test_validation_report_counts_the_passing_targets(tmp_path):
    report = pd.DataFrame(
        {
            "target": ["baseline success", "alliance function helps"],
            "expected": ["about 50%", "help"],
            "band": ["40% to 60%", "paired difference > 0"],
            "measured": [0.52, -0.01],
            "ci_low": [0.48, -0.03],
            "ci_high": [0.56, 0.01],
            "unit": ["rate", "difference"],
            "passed": [True, False],
            "note": ["", ""],
            "source": ["Bamford 2003", "Kale 2002"],
        }
    )
    folder = fabricated(tmp_path / "val", {"validation.csv": report}, engine_manifest("validation"))
    page = build_report(folder)
    assert "1 of 2 targets pass." in page and "Failing: alliance function helps." in page
    assert "52.0% (48.0% to 56.0%)" in page and "-1.0 pts (-3.0 to +1.0)" in page and "FAIL" in page


def test_story_report_shows_the_timeline_and_the_parting_week(tmp_path):
    timeline = pd.DataFrame(
        {
            "week": [1, 5, 12],
            "baseline": ["meeting", "issue raised", "exit"],
            "alternative": ["meeting", "", HOSTILE],
        }
    )
    manifest = {"seed": 3, "parting_week": 12, "command": ["alliance-sim", "story", "x.yaml"]}
    folder = fabricated(tmp_path / "story", {"story.csv": timeline}, manifest)
    page = build_report(folder)
    assert "from week 1 to week 12" in page and "The two worlds part in week 12." in page
    assert "<td>issue raised</td>" in page and html.escape(HOSTILE) in page and HOSTILE not in page


def test_every_fabricated_kind_is_deterministic(tmp_path):
    table = pd.DataFrame(
        {"metric": ["success_rate"], "baseline": [0.5], "alternative": [0.6], "difference": [0.1],
         "ci_low": [0.05], "ci_high": [0.15]}
    )  # fmt: skip
    folder = fabricated(tmp_path / "cmp", {"comparison.csv": table}, engine_manifest("cmp"))
    assert write_report(folder).read_bytes() == write_report(folder).read_bytes()


def test_the_kinds_file_wins_over_the_engine_manifest(tmp_path):
    folder = fabricated(tmp_path / "both", {"stress.csv": pd.DataFrame()}, engine_manifest("x"))
    assert detect_kind(folder) == "stress"  # an engine folder with stress.csv is a stress test


# --------------------------------------------------------------------------- the command and its errors


def test_report_command_writes_the_page(monkeypatch, capsys, run_folder):
    status, out, err = cli_main(monkeypatch, capsys, "report", str(run_folder))
    assert status == 0 and err == ""
    assert str(run_folder / REPORT_HTML) in out and "single run report" in out


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda root: root / "missing", "result folder not found"),
        (lambda root: root, "is not a result folder alliance-sim can report on; expected a single run"),
        (lambda root: (root / "file.txt").write_text("x") and root / "file.txt", "is a file"),
    ],
    ids=["missing", "empty", "file"],
)
def test_a_folder_that_is_not_a_result_exits_2_with_one_message(
    monkeypatch, capsys, tmp_path, make, expected
):
    target = make(tmp_path)
    status, out, err = cli_main(monkeypatch, capsys, "report", str(target))
    assert status == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("alliance-sim: error:") and expected in lines[0]


def test_a_headline_file_without_its_columns_exits_2_naming_them(monkeypatch, capsys, tmp_path):
    folder = fabricated(
        tmp_path / "bad", {"comparison.csv": pd.DataFrame({"metric": ["x"], "baseline": [1]})}
    )
    status, _, err = cli_main(monkeypatch, capsys, "report", str(folder))
    assert status == 2
    assert "lacks the column(s) alternative, difference, ci_low, ci_high" in err
    with pytest.raises(ReportError, match="expected metric, baseline"):
        write_report(folder)
    assert not (folder / REPORT_HTML).exists()


def test_an_unreadable_manifest_exits_2(monkeypatch, capsys, tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "manifest.json").write_text("{not json")
    status, _, err = cli_main(monkeypatch, capsys, "report", str(folder))
    assert status == 2 and "cannot read" in err and "manifest.json" in err


# --------------------------------------------------------------------------- trust trajectories


def test_trust_bands_are_the_median_and_quartiles_per_week():
    frame = pd.DataFrame(
        {
            "point_id": [0, 0, 0, 0, 0, 1, 1],
            "week": [4, 4, 4, 4, 8, 4, 4],
            "mean_trust": [0.2, 0.4, 0.6, 0.8, np.nan, 0.5, 0.7],
        }
    )
    bands = trust_bands(frame, by="point_id")
    assert bands.columns.tolist() == ["point_id", "week", "median", "low", "high", "n"]
    assert len(bands) == 2  # week 8 of point 0 has no value: no row, not a zero
    first = bands.iloc[0]
    # linear interpolation over 0.2, 0.4, 0.6, 0.8: 25th percentile 0.35, 75th 0.65
    assert (first["median"], first["low"], first["high"], first["n"]) == pytest.approx((0.5, 0.35, 0.65, 4))
    ninety = trust_bands(frame, by="point_id", coverage=0.9).iloc[0]
    assert (ninety["low"], ninety["high"]) == pytest.approx((0.23, 0.77))
    assert band_name(0.5) == "interquartile range" and band_name(0.9) == "90% band"


@pytest.mark.parametrize("coverage", [0, 1, 1.5, -0.1])
def test_trust_bands_refuse_a_coverage_outside_0_and_1(coverage):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        trust_bands(pd.DataFrame({"week": [1], "mean_trust": [0.5]}), coverage=coverage)


def test_trust_bands_name_a_missing_column():
    with pytest.raises(ValueError, match="no column point_id"):
        trust_bands(pd.DataFrame({"week": [1], "mean_trust": [0.5]}), by="point_id")


def test_alliance_trust_keeps_only_the_trust_samples():
    events = pd.DataFrame(
        {"week": [1, 2, 2], "alliance_id": [7, 7, 8], "event": ["meeting", "trust", "trust"],
         "partner_id": [-1, -1, -1], "value": [np.nan, 0.4, 0.6]}
    )  # fmt: skip
    samples = alliance_trust(events)
    assert samples.to_dict("list") == {"week": [2, 2], "alliance_id": [7, 8], "trust": [0.4, 0.6]}
    assert alliance_trust(pd.DataFrame()).empty


def test_trust_trajectories_draw_one_line_and_band_per_group():
    frame = pd.DataFrame({"point_id": [0, 0, 1, 1], "week": [4, 8, 4, 8], "mean_trust": [0.3, 0.4, 0.6, 0.7]})
    figure = trust_trajectories(
        trust_bands(frame, by="point_id"), by="point_id", labels={0: "rare", 1: "often"}
    )
    ax = figure.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["rare", "often"]
    assert len(ax.collections) == 3  # two bands and the legend key of the band
    assert ax.get_ylim() == (0.0, 1.0) and "Week" in ax.get_xlabel() and "trust" in ax.get_ylabel()
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "interquartile range across replications" in legend


def test_trust_trajectories_of_nothing_say_so():
    figure = trust_trajectories(trust_bands(pd.DataFrame({"week": [], "mean_trust": []})))
    assert "no trust recorded" in figure.axes[0].texts[0].get_text()


def test_stress_report_says_when_one_design_is_best_everywhere(tmp_path):
    table = pd.DataFrame(
        {"design": ["a", "a", "b", "b"], "scenario": ["calm", "storm", "calm", "storm"],
         "success_rate": [0.8, 0.6, 0.5, 0.3], "ci_low": [0.7, 0.5, 0.4, 0.2],
         "ci_high": [0.9, 0.7, 0.6, 0.4], "regret": [0.0, 0.0, 0.3, 0.3]}
    )  # fmt: skip
    page = build_report(fabricated(tmp_path / "stress", {"stress.csv": table}, engine_manifest("s")))
    assert "a is the best design in every one of the 2 scenarios." in page
    assert "its lowest success rate, in storm, is 60.0%" in page and "<td>30.0 points</td>" in page


def test_a_report_after_extending_a_sweep_shows_figures_of_the_new_runs(tmp_path):
    """summarize at 2 replications, extend to 4, report: the figures are redrawn from the 4."""
    from experiments import summarize
    from experiments.engine.store import runs_changed

    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump({"name": "tiny", **TINY}))
    spec = {
        "name": "extended",
        "scenario": "tiny.yaml",
        "factors": {"governance.meeting_interval_weeks": {"levels": [2, 8]}},
        "replications": 2,
        "seed": 11,
        "keep": {"outcomes": True, "timeseries_every_weeks": 0, "events": False},
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    out = tmp_path / "out"
    run_sweep(tmp_path / "spec.yaml", out, workers=1, progress=False)
    summarize(out)
    figure = out / "figures" / "success_governance-meeting_interval_weeks.png"
    before = figure.read_bytes()
    run_sweep(tmp_path / "spec.yaml", out, workers=1, progress=False, replications=4)
    page = write_report(out).read_text(encoding="utf-8")
    summary = pd.read_csv(out / "summary.csv")
    assert summary["runs_ok"].sum() == 2 * 4  # the table shows the 4 replications
    for row in summary.itertuples():
        assert f"{row.success_rate:.1%} ({row.success_ci_low:.1%} to {row.success_ci_high:.1%})" in page
    # the figures were redrawn after the new runs, from them, and the page embeds those
    assert figure.stat().st_mtime_ns >= (out / "summary.csv").stat().st_mtime_ns >= runs_changed(out)
    assert figure.read_bytes() != before
    images = embedded_images(page)
    assert figure.read_bytes() in images and before not in images
    assert write_report(out).read_bytes() == page.encode("utf-8")  # and a second report is the same
