"""Tests of experiments.present.figures: the numbers drawn are the pooled numbers, files are written
atomically and reproducibly, and empty input gives a figure that says so instead of an error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from experiments.analysis.stats import kaplan_meier, wilson_interval
from experiments.present import figures
from sim import REASONS

INTERVAL = "governance.meeting_interval_weeks"
MODE = "governance.meeting_mode"


def make_summary() -> pd.DataFrame:
    """Six design points over two factors with counts chosen so that pooling matters: the
    interval-4 level pools 30/50 and 10/40 into 40/90 = 0.444, where the mean of
    the two rates would be 0.425."""
    rows = [
        (4, "in_person", 30, 50, (5, 10, 3, 2)),
        (4, "virtual", 10, 40, (1, 20, 6, 3)),
        (8, "in_person", 12, 40, (0, 20, 5, 3)),
        (8, "virtual", 8, 40, (2, 25, 4, 1)),
        (13, "in_person", 0, 0, (0, 0, 0, 0)),
        (13, "virtual", 2, 20, (0, 15, 3, 0)),
    ]
    frame = pd.DataFrame(
        [
            {
                "point_id": i,
                INTERVAL: interval,
                MODE: mode,
                "successes": s,
                "decided": d,
                **{f"failures_{r}": n for r, n in zip(REASONS, failures)},
            }
            for i, (interval, mode, s, d, failures) in enumerate(rows)
        ]
    )
    return frame


def test_pool_by_sums_counts_before_taking_the_rate():
    pooled = figures.pool_by(make_summary(), [INTERVAL]).set_index(INTERVAL)
    assert list(pooled.index) == [4, 8, 13]
    assert pooled.loc[4, "successes"] == 40 and pooled.loc[4, "decided"] == 90
    assert pooled.loc[4, "success_rate"] == pytest.approx(40 / 90)
    assert (pooled.loc[4, "ci_low"], pooled.loc[4, "ci_high"]) == pytest.approx(wilson_interval(40, 90))
    # level 13: one point decided nothing, the other 2 of 20
    assert pooled.loc[13, "success_rate"] == pytest.approx(0.10)


def test_pool_by_gives_nan_where_nothing_was_decided():
    pooled = figures.pool_by(make_summary(), [INTERVAL, MODE]).set_index([INTERVAL, MODE])
    assert np.isnan(pooled.loc[(13, "in_person"), "success_rate"])
    assert np.isnan(pooled.loc[(13, "in_person"), "ci_low"])


def test_success_by_factor_draws_the_pooled_rates_and_their_band():
    figure = figures.success_by_factor(make_summary(), INTERVAL, reference=0.25)
    ax = figure.axes[0]
    lines = [line for line in ax.get_lines() if line.get_label() == "success rate"]
    assert len(lines) == 1
    x, y = lines[0].get_data()
    assert list(x) == [4, 8, 13]
    assert list(y) == pytest.approx([40 / 90, 20 / 80, 0.10])
    band = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(band) == 1
    vertices = band[0].get_paths()[0].vertices
    low_at_4, high_at_4 = wilson_interval(40, 90)
    at_4 = vertices[np.isclose(vertices[:, 0], 4.0), 1]
    assert at_4.min() == pytest.approx(low_at_4) and at_4.max() == pytest.approx(high_at_4)
    reference = [line for line in ax.get_lines() if line.get_label() == "reference point"]
    assert reference and reference[0].get_ydata()[0] == pytest.approx(0.25)
    assert ax.get_ylim() == (0, 1)


def test_success_by_categorical_factor_uses_level_names_as_ticks():
    figure = figures.success_by_factor(make_summary(), MODE)
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["in_person", "virtual"]
    # in person pools 42/90, virtual 20/100
    errorbar = ax.containers[0]
    assert list(errorbar.lines[0].get_ydata()) == pytest.approx([42 / 90, 20 / 100])


def test_success_by_factor_with_many_numeric_levels_uses_error_bars_not_a_line():
    rng = np.random.default_rng(1)
    levels = np.sort(rng.uniform(0, 1, 30))
    summary = pd.DataFrame({"point_id": range(30), "x.y": levels, "successes": 5, "decided": 10})
    figure = figures.success_by_factor(summary, "x.y")
    ax = figure.axes[0]
    assert not [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(ax.containers) == 1
    assert list(ax.containers[0].lines[0].get_xdata()) == pytest.approx(levels)


def test_heatmap_cells_hold_the_pooled_rates():
    figure = figures.success_heatmap(make_summary(), INTERVAL, MODE)
    ax = figure.axes[0]
    cells = ax.get_images()[0].get_array()
    # rows: modes (in_person, virtual), columns: intervals (4, 8, 13)
    assert cells.shape == (2, 3)
    assert cells[0, 0] == pytest.approx(0.6)
    assert cells[1, 0] == pytest.approx(0.25) and cells[1, 1] == pytest.approx(0.2)
    assert np.ma.is_masked(cells[0, 2]) or np.isnan(cells[0, 2])
    labels = sorted(t.get_text() for t in ax.texts)
    assert labels == sorted(["60%", "25%", "30%", "20%", "10%"])


def test_heatmap_of_a_sampled_design_is_a_scatter():
    rng = np.random.default_rng(2)
    summary = pd.DataFrame(
        {
            "point_id": range(40),
            "a.x": rng.uniform(size=40),
            "a.y": rng.uniform(size=40),
            "successes": 3,
            "decided": 4,
        }
    )
    ax = figures.success_heatmap(summary, "a.x", "a.y").axes[0]
    assert not ax.get_images()
    assert len(ax.collections[0].get_offsets()) == 40


def test_failure_shares_are_failures_over_decided_per_level():
    shares = figures.failure_shares(make_summary(), INTERVAL).set_index(INTERVAL)
    assert shares.loc[4, "decided"] == 90
    assert shares.loc[4, "value_shortfall"] == pytest.approx(30 / 90)
    assert shares.loc[8, "detected_opportunism"] == pytest.approx(9 / 80)
    figure = figures.failure_reasons(make_summary(), INTERVAL)
    bars = figure.axes[0].patches
    assert len(bars) == len(REASONS) * 3
    # the bars of level 4 stack up to its total failure share
    total_at_4 = sum(bar.get_height() for bar in bars[0::3])
    assert total_at_4 == pytest.approx((6 + 30 + 9 + 5) / 90)


def test_survival_curves_draw_one_step_per_label():
    curve = kaplan_meier([10, 20, 20, 30], [True, True, False, True])
    figure = figures.survival_curves({"a": curve, "b": curve.assign(survival=curve["survival"] * 0.5)})
    ax = figure.axes[0]
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["a", "b"]
    assert list(lines[0].get_ydata()) == pytest.approx(list(curve["survival"]))
    assert ax.get_xlabel() == "Alliance age (weeks)"


@pytest.mark.parametrize(
    "draw",
    [
        lambda s: figures.success_by_factor(s, INTERVAL),
        lambda s: figures.success_heatmap(s, INTERVAL, MODE),
        lambda s: figures.failure_reasons(s, INTERVAL),
    ],
)
def test_nothing_decided_gives_a_figure_that_says_so(draw):
    summary = make_summary().assign(successes=0, decided=0)
    figure = draw(summary)
    assert isinstance(figure, Figure)
    assert any("no decided alliances" in t.get_text() for t in figure.axes[0].texts)


def test_survival_of_nothing_says_so():
    figure = figures.survival_curves({})
    assert any("no alliances" in t.get_text() for t in figure.axes[0].texts)


def test_save_figure_is_reproducible_byte_for_byte(tmp_path):
    first = figures.save_figure(figures.success_by_factor(make_summary(), INTERVAL), tmp_path / "one")
    second = figures.save_figure(figures.success_by_factor(make_summary(), INTERVAL), tmp_path / "two")
    assert [p.name for p in first] == ["one.png", "one.svg"]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes()
        assert a.stat().st_size > 1000
    assert b"<svg" in first[1].read_bytes()
    assert first[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_save_figure_leaves_the_old_file_alone_when_rendering_fails(tmp_path):
    path = tmp_path / "fig.png"
    path.write_bytes(b"old")
    with pytest.raises(ValueError, match="nope"):
        figures.save_figure(
            figures.success_by_factor(make_summary(), INTERVAL), tmp_path / "fig", ["nope", "png"]
        )
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png"]


def test_factor_label_reads_as_words():
    assert figures.factor_label("governance.meeting_interval_weeks") == "meeting interval weeks (governance)"
    assert figures.factor_label("replications") == "replications"
