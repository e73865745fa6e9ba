"""Figures of stress tests and scenario discovery, in the style of `experiments.present.figures`.

* `stress_heatmap` - success rate of every governance design (rows) in every stress scenario
  (columns), each cell annotated with its rate and 95% Wilson interval, the best design of each
  scenario in bold.
* `failure_box_figure` - the sampled conditions over two dimensions, failed samples marked apart
  from the others, with the failure box PRIM found drawn over them.
* `peeling_trajectory_figure` - PRIM's peeling trajectory: density against coverage of every box
  on the way, coloured by the number of restricted dimensions, the chosen box circled.

Save them with `experiments.present.figures.save_figure` (PNG and SVG).
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import PercentFormatter

from experiments.present.figures import INTERVAL_NOTE, PALETTE, RATE_LABEL, nothing_to_show

#: Cell size of the heatmap, inches (width, height), and the room left for labels.
CELL_INCHES = (1.25, 0.62)
MARGIN_INCHES = (3.2, 1.9)
#: Cells darker than this share of the colour scale get white text.
DARK_CELL = 0.55
#: Discovery scatter: marker size and the transparency of samples that did not fail.
POINT_SIZE = 16
KEPT_ALPHA = 0.45


def stress_heatmap(table: pd.DataFrame, *, title: str = "Stress test") -> Figure:
    """Designs x scenarios heatmap of a stress table (design, scenario, success_rate, ci_low,
    ci_high, regret), rows and columns in the table's order."""
    if table.empty or table["success_rate"].isna().all():
        return nothing_to_show(title)
    designs = list(dict.fromkeys(table["design"]))
    scenarios = list(dict.fromkeys(table["scenario"]))
    indexed = table.set_index(["design", "scenario"])
    rates = np.array([[indexed.loc[(d, s), "success_rate"] for s in scenarios] for d in designs], dtype=float)
    width = MARGIN_INCHES[0] + CELL_INCHES[0] * len(scenarios)
    height = MARGIN_INCHES[1] + CELL_INCHES[1] * len(designs)
    figure = Figure(figsize=(width, height), layout="constrained")
    ax = figure.add_subplot()
    norm = mpl.colors.Normalize(vmin=0, vmax=1)
    image = ax.imshow(rates, cmap="cividis", norm=norm, aspect="auto")
    best = np.nanmax(rates, axis=0)
    for (i, j), rate in np.ndenumerate(rates):
        if not np.isfinite(rate):
            ax.text(j, i, "n/a", ha="center", va="center", color="0.4", fontsize="small")
            continue
        low, high = indexed.loc[(designs[i], scenarios[j]), ["ci_low", "ci_high"]]
        ink = "white" if rate < DARK_CELL else "black"
        weight = "bold" if rate == best[j] else "normal"
        text = f"{rate:.0%}\n({low:.0%}-{high:.0%})"
        ax.text(j, i, text, ha="center", va="center", color=ink, fontsize="small", fontweight=weight)
    ax.set_xticks(range(len(scenarios)), [s.replace("_", " ") for s in scenarios], rotation=30, ha="right")
    ax.set_yticks(range(len(designs)), [d.replace("_", " ") for d in designs])
    ax.set_xlabel("Stress scenario")
    ax.set_ylabel("Governance design")
    bar = figure.colorbar(image, ax=ax, format=PercentFormatter(xmax=1))
    bar.set_label(RATE_LABEL)
    ax.set_title(f"{title}\nsuccess rate ({INTERVAL_NOTE}); bold: best design in the scenario")
    return figure


def failure_box_figure(
    conditions: pd.DataFrame,
    failed: np.ndarray,
    x: str,
    y: str,
    *,
    limits: Mapping[str, tuple[float, float]] | None = None,
    labels: Mapping[str, str] | None = None,
    title: str = "Where the design fails",
) -> Figure:
    """Samples over dimensions `x` and `y` (columns of `conditions`), failed ones apart, and the
    box `limits` (dimension -> (low, high), nan for an open side) over them."""
    labels = labels or {}
    failed = np.asarray(failed, dtype=bool)
    figure = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = figure.add_subplot()
    xs, ys = conditions[x].to_numpy(dtype=float), conditions[y].to_numpy(dtype=float)
    ax.scatter(
        xs[~failed], ys[~failed], s=POINT_SIZE, marker="o", color=PALETTE[0], alpha=KEPT_ALPHA,
        label=f"did not fail ({int((~failed).sum())})",
    )  # fmt: skip
    ax.scatter(
        xs[failed], ys[failed], s=POINT_SIZE + 6, marker="x", color=PALETTE[3],
        label=f"failed ({int(failed.sum())})",
    )  # fmt: skip
    if limits is not None:
        x_low, x_high = _side(limits.get(x), xs.min(), xs.max())
        y_low, y_high = _side(limits.get(y), ys.min(), ys.max())
        ax.add_patch(
            Rectangle(
                (x_low, y_low),
                x_high - x_low,
                y_high - y_low,
                fill=False,
                edgecolor=PALETTE[7],
                linestyle="--",
                linewidth=1.5,
                label="failure box (these two dimensions)",
            )
        )
    ax.set_xlabel(labels.get(x, x))
    ax.set_ylabel(labels.get(y, y))
    ax.grid(color="0.92")
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize="small", frameon=False)
    return figure


def _side(limit: tuple[float, float] | None, low: float, high: float) -> tuple[float, float]:
    """A box side's (low, high), an open or missing end replaced by the data's extent."""
    if limit is None:
        return low, high
    a, b = limit
    return (low if np.isnan(a) else a), (high if np.isnan(b) else b)


def peeling_trajectory_figure(
    trajectory: pd.DataFrame, chosen: int, *, title: str = "PRIM peeling trajectory"
) -> Figure:
    """Density against coverage of every box PRIM passed through (columns coverage, density,
    res_dim), coloured by restricted dimensions, with box `chosen` (a row position) circled."""
    if trajectory.empty:
        return nothing_to_show(title, "no box")
    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = figure.add_subplot()
    dims = trajectory["res_dim"].astype(int)
    for colour, value in zip(PALETTE, sorted(dims.unique())):
        rows = trajectory[dims == value]
        ax.scatter(rows["coverage"], rows["density"], s=18, color=colour, label=f"{value} restricted")
    pick = trajectory.iloc[chosen]
    ax.scatter(
        [pick["coverage"]], [pick["density"]], s=140, facecolors="none", edgecolors=PALETTE[7],
        linewidths=1.5, label="chosen box",
    )  # fmt: skip
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.set_xlabel("Coverage (share of all failed samples inside the box)")
    ax.set_ylabel("Density (share of samples in the box that fail)")
    ax.grid(color="0.92")
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize="small", frameon=False)
    return figure
