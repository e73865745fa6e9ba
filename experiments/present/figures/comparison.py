"""Figure of a paired comparison, in the style of `experiments.present.figures`.

* `paired_differences_figure` - the mean paired difference (alternative - baseline) of every metric
  with its 95% t interval, against a zero line. Metrics in different units get their own panel:
  rates (success and failure by reason, in percentage points), duration (weeks), value realised
  and final trust.

Save it with `experiments.present.figures.save_figure` (PNG and SVG).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.present.figures import PALETTE, nothing_to_show

#: Figure width, height per metric row and per panel (inches); rates are drawn in percentage points.
PANEL_WIDTH_INCHES = 7.2
ROW_INCHES = 0.42
PANEL_MARGIN_INCHES = 0.9
PERCENTAGE_POINTS = 100.0
INTERVAL_NOTE = "mean paired difference with its 95% t interval"


def _panels(metrics: Sequence[str], rates: Sequence[str]) -> list[tuple[list[str], str, float]]:
    """Group metrics by unit: rates, duration, value, trust, then anything else."""
    groups = [
        ([m for m in metrics if m in rates], "Difference (percentage points)", PERCENTAGE_POINTS),
        ([m for m in metrics if m == "mean_duration_weeks"], "Difference (weeks)", 1.0),
        ([m for m in metrics if m == "mean_value_realized"], "Difference (value units)", 1.0),
        ([m for m in metrics if m == "mean_final_trust"], "Difference (trust, 0-1 scale)", 1.0),
    ]
    placed = {m for group, _, _ in groups for m in group}
    groups.append(([m for m in metrics if m not in placed], "Difference", 1.0))
    return [group for group in groups if group[0]]


def paired_differences_figure(
    table: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    rates: Sequence[str] = (),
    title: str = "",
) -> Figure:
    """Forest plot of a comparison table (metric, baseline, alternative, difference, ci_low,
    ci_high): one row per metric, in the table's order, grouped into one panel per unit; the
    metrics named in `rates` are shares, drawn in percentage points."""
    heading = f"Alternative - baseline: {title}" if title else "Alternative - baseline"
    if table.empty or table["difference"].isna().all():
        return nothing_to_show(heading, "no metric could be compared")
    labels = labels or {}
    rows = table.set_index("metric")
    panels = _panels(list(rows.index), rates)
    heights = [len(metrics) for metrics, _, _ in panels]
    height = PANEL_MARGIN_INCHES * (len(panels) + 1) + ROW_INCHES * sum(heights)
    figure = Figure(figsize=(PANEL_WIDTH_INCHES, height), layout="constrained")
    axes = figure.subplots(len(panels), 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
    for ax, (metrics, xlabel, scale) in zip(axes, panels):
        _draw_panel(ax, rows.loc[metrics], [labels.get(m, m) for m in metrics], xlabel, scale)
    figure.suptitle(f"{heading}\n{INTERVAL_NOTE}", fontsize="medium")
    return figure


def _draw_panel(ax, rows: pd.DataFrame, names: list[str], xlabel: str, scale: float) -> None:
    """One panel: a marker per metric at its difference, its interval as a bar, a zero line."""
    y = np.arange(len(rows))[::-1]
    mean = rows["difference"].to_numpy(dtype=float) * scale
    low = rows["ci_low"].to_numpy(dtype=float) * scale
    high = rows["ci_high"].to_numpy(dtype=float) * scale
    has_interval = np.isfinite(low) & np.isfinite(high)
    errors = np.vstack([np.where(has_interval, mean - low, 0.0), np.where(has_interval, high - mean, 0.0)])
    excludes_zero = has_interval & ((low > 0) | (high < 0))
    ax.axvline(0.0, color="0.35", linewidth=1.0, zorder=1)
    for flag, colour, label in (
        (True, PALETTE[3], "interval excludes 0"),
        (False, PALETTE[0], "interval covers 0"),
    ):
        chosen = excludes_zero == flag
        if chosen.any():
            ax.errorbar(
                mean[chosen], y[chosen], xerr=errors[:, chosen], fmt="o", color=colour, capsize=3,
                markersize=5, label=label, zorder=2,
            )  # fmt: skip
    ax.set_yticks(y, names)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", color="0.92")
    span = np.nanmax(np.abs(np.concatenate([low[has_interval], high[has_interval], mean[np.isfinite(mean)]])))
    if np.isfinite(span) and span > 0:
        ax.set_xlim(-1.15 * span, 1.15 * span)
    ax.legend(loc="lower right", fontsize="x-small", frameon=False)
