"""Figures of a sensitivity analysis, drawn from its indices table (`experiments.studies.sensitivity`).

`indices_figure` puts side by side, for whichever methods the table holds:

* Sobol: first-order (S1) and total (ST) indices per parameter as horizontal bars with their 95%
  intervals as error bars; the gap between a parameter's ST and S1 is what it does in interaction;
* Sobol second order: S2 of every pair as a matrix, each cell labelled with its value and interval;
* Morris: mu* (the mean absolute elementary effect, with its interval) against sigma (their
  spread), one labelled point per parameter and the line sigma = mu* as a guide: points above it
  act mostly non-linearly or through interactions.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.analysis.indices import PAIR_SEPARATOR
from experiments.present.figures import PALETTE, factor_label

PANEL_WIDTH = 5.2
PANEL_HEIGHT_MIN = 4.2
HEIGHT_PER_PARAMETER = 0.45
BAR_HEIGHT = 0.38
INTERVAL_NOTE = "95% bootstrap interval"
#: S2 matrix cells darker than this (on cividis) get white text.
DARK_CELL = 0.5
#: The colour scale of the S2 matrix reaches at least this high, so that indices near zero look
#: near zero rather than filling the scale.
S2_SCALE_MIN = 0.1
#: Where the Morris labels sit relative to their points (points), in turn.
LABEL_OFFSETS = ((5, 4), (5, -10))


def indices_figure(
    indices: pd.DataFrame, *, metric: str = "success_rate", title: str | None = None
) -> Figure:
    """One panel per kind of index in `indices` (columns parameter, method, index, value, ci)."""
    sobol = indices[(indices["method"] == "sobol") & indices["index"].isin(["S1", "ST"])]
    pairs = indices[(indices["method"] == "sobol") & (indices["index"] == "S2")]
    morris = indices[indices["method"] == "morris"]
    panels = [kind for kind, rows in (("sobol", sobol), ("s2", pairs), ("morris", morris)) if not rows.empty]
    if not panels:
        raise ValueError("the indices table holds no Sobol or Morris indices to draw")
    parameters = list(dict.fromkeys(indices.loc[indices["index"] != "S2", "parameter"]))
    height = max(PANEL_HEIGHT_MIN, HEIGHT_PER_PARAMETER * len(parameters) + 1.5)
    figure = Figure(figsize=(PANEL_WIDTH * len(panels), height), layout="constrained")
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    for ax, kind in zip(axes, panels):
        if kind == "sobol":
            draw_sobol_bars(ax, sobol, parameters)
        elif kind == "s2":
            draw_s2_matrix(figure, ax, pairs, parameters)
        else:
            draw_morris(ax, morris, metric)
    if title:
        figure.suptitle(title)
    return figure


def _lookup(rows: pd.DataFrame, index: str, parameters: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    chosen = rows[rows["index"] == index].set_index("parameter").reindex(parameters)
    return chosen["value"].to_numpy(dtype=float), chosen["ci"].to_numpy(dtype=float)


def draw_sobol_bars(ax, rows: pd.DataFrame, parameters: Sequence[str]) -> None:
    """S1 and ST bars per parameter (first parameter on top), with error bars for the intervals."""
    y = np.arange(len(parameters))[::-1]
    for offset, index, colour, label in (
        (BAR_HEIGHT / 2, "S1", PALETTE[0], "first order S1"),
        (-BAR_HEIGHT / 2, "ST", PALETTE[1], "total ST"),
    ):
        value, ci = _lookup(rows, index, parameters)
        ax.barh(
            y + offset, value, height=BAR_HEIGHT, color=colour, label=label,
            xerr=np.nan_to_num(ci), error_kw={"ecolor": "0.25", "capsize": 3, "linewidth": 1},
        )  # fmt: skip
    ax.axvline(0, color="0.3", linewidth=0.8)
    ax.set_yticks(y, [factor_label(name) for name in parameters])
    ax.set_xlabel(f"Share of the output's variance (error bars: {INTERVAL_NOTE})")
    ax.set_title("Sobol indices")
    ax.grid(axis="x", color="0.9")
    ax.legend(loc="best", fontsize="small", framealpha=0.9)


def draw_s2_matrix(figure: Figure, ax, rows: pd.DataFrame, parameters: Sequence[str]) -> None:
    """S2 of each pair (row: the first parameter, column: the second) as a triangle of cells,
    each labelled value ± the half-width of its interval."""
    k = len(parameters)
    where = {name: i for i, name in enumerate(parameters)}
    cells = np.full((k - 1, k - 1), np.nan)  # pair (i, j), i < j, sits at row i, column j - 1
    labels: dict[tuple[int, int], str] = {}
    for pair, value, ci in zip(rows["parameter"], rows["value"], rows["ci"]):
        first, second = pair.split(PAIR_SEPARATOR)
        cell = (where[first], where[second] - 1)
        cells[cell] = value
        labels[cell] = f"{value:.2f}\n±{ci:.2f}"
    finite = cells[np.isfinite(cells)]
    low = min(0.0, float(finite.min())) if finite.size else 0.0
    high = max(float(finite.max()) if finite.size else 0.0, S2_SCALE_MIN)
    norm = mpl.colors.Normalize(vmin=low, vmax=high)
    image = ax.imshow(cells, cmap="cividis", norm=norm, aspect="auto")
    for cell, text in labels.items():
        ink = "white" if norm(cells[cell]) < DARK_CELL else "black"
        ax.text(cell[1], cell[0], text, ha="center", va="center", color=ink, fontsize="x-small")
    short = [_short(name) for name in parameters]
    ax.set_xticks(range(k - 1), short[1:], rotation=45, ha="right", fontsize="small")
    ax.set_yticks(range(k - 1), short[:-1], fontsize="small")
    bar = figure.colorbar(image, ax=ax)
    bar.set_label("S2 (share of variance)")
    ax.set_title(f"Interactions (Sobol S2, ± {INTERVAL_NOTE})", fontsize="medium")


def _short(name: str) -> str:
    """The last part of a dotted path in words: 'firms.incentives.formal' -> 'formal'."""
    return name.split(".")[-1].replace("_", " ")


def draw_morris(ax, rows: pd.DataFrame, metric: str) -> None:
    """mu* against sigma, one point per parameter with the interval of mu*, and sigma = mu*."""
    parameters = list(dict.fromkeys(rows["parameter"]))
    mu_star, ci = _lookup(rows, "mu_star", parameters)
    sigma, _ = _lookup(rows, "sigma", parameters)
    ax.errorbar(
        mu_star, sigma, xerr=np.nan_to_num(ci), fmt="o", color=PALETTE[2], ecolor="0.35", capsize=3,
        label=f"parameter (mu* with its {INTERVAL_NOTE})",
    )  # fmt: skip
    for rank, (x, y, name) in enumerate(zip(mu_star, sigma, parameters)):
        offset = LABEL_OFFSETS[rank % len(LABEL_OFFSETS)]  # alternate sides, so close points stay legible
        ax.annotate(_short(name), (x, y), textcoords="offset points", xytext=offset, fontsize="x-small")
    reach = float(np.nanmax(np.concatenate([mu_star + np.nan_to_num(ci), sigma]))) * 1.1 or 1.0
    ax.plot([0, reach], [0, reach], linestyle="--", color=PALETTE[3], linewidth=1, label="sigma = mu*")
    ax.set_xlim(0, reach)
    ax.set_ylim(0, reach)
    unit = metric.replace("_", " ")
    ax.set_xlabel(f"mu*: mean |effect| on {unit} across the range")
    ax.set_ylabel(f"sigma: spread of effects ({unit})")
    ax.set_title("Morris elementary effects")
    ax.grid(color="0.92")
    ax.legend(loc="upper left", fontsize="small", frameon=False)
