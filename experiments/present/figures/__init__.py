"""Figures of an experiment's results, drawn from its per-point summary (`analysis.point_summary`).

* `success_by_factor` - success rate against one factor, pooled over the other factors, with its
  95% Wilson interval as a band (numeric factor, at most 12 levels), as error bars (numeric factor
  with more levels, such as a Latin hypercube) or as markers with error bars (categorical factor).
* `success_heatmap` - success rate over two factors, pooled over the rest.
* `survival_curves` - Kaplan-Meier curves with their pointwise intervals (`analysis.survival_by`).
* `failure_reasons` - failures by reason as a share of decided alliances, per level of a factor.
* `save_figure` - write a figure as PNG and SVG, atomically and byte for byte reproducibly.

Pooling sums successes and decided alliances over all points sharing a level before taking the
rate, so every level's rate is successes / decided with the same Wilson interval as in the
summary table. Figures use matplotlib's object API (`Figure`, no pyplot and no global state), the
Okabe-Ito palette for lines (distinguishable with colour-vision deficiencies) and cividis for
heatmaps.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from experiments.analysis.stats import wilson_interval
from experiments.engine.provenance import atomic_write
from sim import REASONS

#: Okabe & Ito (2008) colour-blind-safe palette, black omitted.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")

#: A numeric factor with at most this many levels is drawn as a line with a band.
LINE_MAX_LEVELS = 12

#: A heatmap is drawn as a grid when each factor has at most this many levels, else as a scatter.
HEATMAP_MAX_LEVELS = 15

FIGURE_SIZE = (6.4, 4.2)
INTERVAL_NOTE = "95% Wilson interval"
RATE_LABEL = "Success rate (of decided alliances)"


# --------------------------------------------------------------------------- pooling


def pool_by(summary: pd.DataFrame, factors: Sequence[str]) -> pd.DataFrame:
    """Successes and decided alliances summed over the points sharing each combination of levels
    of `factors`, with the pooled success rate and its 95% Wilson interval (nan when none was
    decided). Levels are sorted; one row per combination."""
    counts = summary.groupby(list(factors), sort=True)[["successes", "decided"]].sum().reset_index()
    rates = [_rate(int(s), int(d)) for s, d in zip(counts["successes"], counts["decided"])]
    counts["success_rate"] = [r[0] for r in rates]
    counts["ci_low"] = [r[1] for r in rates]
    counts["ci_high"] = [r[2] for r in rates]
    return counts


def _rate(successes: int, decided: int) -> tuple[float, float, float]:
    low, high = wilson_interval(successes, decided)
    return (successes / decided if decided else float("nan")), low, high


def factor_label(path: str) -> str:
    """A readable axis label for a factor's dotted path: its last part in words, its section in
    brackets ('governance.meeting_interval_weeks' -> 'meeting interval weeks (governance)')."""
    parts = path.split(".")
    words = parts[-1].replace("_", " ")
    return f"{words} ({'.'.join(parts[:-1])})" if len(parts) > 1 else words


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _level_text(value: object) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    return str(value)


# --------------------------------------------------------------------------- figures


def _new_figure() -> tuple[Figure, object]:
    figure = Figure(figsize=FIGURE_SIZE, layout="constrained")
    return figure, figure.add_subplot()


def nothing_to_show(title: str, reason: str = "no decided alliances") -> Figure:
    figure, ax = _new_figure()
    ax.set_title(title)
    ax.text(0.5, 0.5, reason, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_axis_off()
    return figure


def _rate_axis(ax) -> None:
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.set_ylabel(RATE_LABEL)
    ax.grid(axis="y", color="0.9")


def success_by_factor(summary: pd.DataFrame, factor: str, *, reference: float | None = None) -> Figure:
    """Success rate against `factor`, pooled over the other factors (see `pool_by`), with its
    interval; `reference` (a rate) is drawn as a dashed line labelled 'reference point'."""
    title = f"Success rate by {factor_label(factor)}"
    pooled = pool_by(summary, [factor])
    pooled = pooled[pooled["decided"] > 0]
    if pooled.empty:
        return nothing_to_show(title)
    figure, ax = _new_figure()
    colour = PALETTE[0]
    rate, low, high = pooled["success_rate"], pooled["ci_low"], pooled["ci_high"]
    if _is_numeric(pooled[factor]):
        x = pooled[factor].astype(float)
        if len(pooled) <= LINE_MAX_LEVELS:
            ax.fill_between(x, low, high, color=colour, alpha=0.2, linewidth=0, label=INTERVAL_NOTE)
            ax.plot(x, rate, marker="o", color=colour, label="success rate")
        else:
            ax.errorbar(
                x, rate, yerr=[rate - low, high - rate], fmt="o", markersize=3, color=colour,
                ecolor=(*mpl.colors.to_rgb(colour), 0.4), label=f"success rate, {INTERVAL_NOTE}",
            )  # fmt: skip
    else:
        x = np.arange(len(pooled))
        ax.errorbar(
            x, rate, yerr=[rate - low, high - rate], fmt="o", capsize=4, color=colour,
            label=f"success rate, {INTERVAL_NOTE}",
        )  # fmt: skip
        ax.set_xticks(x, [_level_text(v) for v in pooled[factor]])
        ax.set_xlim(-0.5, len(pooled) - 0.5)
    if reference is not None and np.isfinite(reference):
        ax.axhline(reference, color=PALETTE[3], linestyle="--", linewidth=1, label="reference point")
    ax.set_xlabel(factor_label(factor))
    _rate_axis(ax)
    ax.set_title(title)
    ax.legend(loc="best", fontsize="small", frameon=False)
    return figure


def success_heatmap(summary: pd.DataFrame, fx: str, fy: str) -> Figure:
    """Success rate over factors `fx` (x axis) and `fy` (y axis), pooled over the others: a grid
    of cells labelled with their rate, or, when either factor has more than 15 levels (a sampled
    design), a scatter coloured by rate."""
    title = f"Success rate by {factor_label(fx)}\nand {factor_label(fy)}"
    pooled = pool_by(summary, [fx, fy])
    pooled = pooled[pooled["decided"] > 0]
    if pooled.empty:
        return nothing_to_show(title)
    figure, ax = _new_figure()
    xs, ys = sorted(pooled[fx].unique()), sorted(pooled[fy].unique())
    norm = mpl.colors.Normalize(vmin=0, vmax=1)
    if len(xs) > HEATMAP_MAX_LEVELS or len(ys) > HEATMAP_MAX_LEVELS:
        image = ax.scatter(pooled[fx], pooled[fy], c=pooled["success_rate"], cmap="cividis", norm=norm, s=18)
        ax.set_xlabel(factor_label(fx))
        ax.set_ylabel(factor_label(fy))
    else:
        grid = pooled.pivot(index=fy, columns=fx, values="success_rate").reindex(index=ys, columns=xs)
        cells = grid.to_numpy(dtype=float)
        image = ax.imshow(cells, cmap="cividis", norm=norm, origin="lower", aspect="auto")
        ax.set_xticks(range(len(xs)), [_level_text(v) for v in xs])
        ax.set_yticks(range(len(ys)), [_level_text(v) for v in ys])
        ax.set_xlabel(factor_label(fx))
        ax.set_ylabel(factor_label(fy))
        for (i, j), value in np.ndenumerate(cells):
            if np.isfinite(value):
                ink = "white" if value < 0.55 else "black"
                ax.text(j, i, f"{value:.0%}", ha="center", va="center", color=ink, fontsize="small")
    bar = figure.colorbar(image, ax=ax, format=PercentFormatter(xmax=1))
    bar.set_label(RATE_LABEL)
    ax.set_title(title)
    return figure


def survival_curves(curves: Mapping[str, pd.DataFrame], *, title: str = "Alliance survival") -> Figure:
    """Kaplan-Meier curves (frames with time, survival, ci_low, ci_high, as from
    `stats.kaplan_meier`), one per label, as steps with their pointwise 95% interval shaded."""
    drawable = {label: curve for label, curve in curves.items() if len(curve) > 0}
    if not drawable:
        return nothing_to_show(title, "no alliances")
    figure, ax = _new_figure()
    for colour, (label, curve) in zip(colour_cycle(PALETTE), drawable.items()):
        ax.step(curve["time"], curve["survival"], where="post", color=colour, label=label)
        low, high = curve["ci_low"].fillna(0.0), curve["ci_high"].fillna(0.0)
        ax.fill_between(curve["time"], low, high, step="post", color=colour, alpha=0.15, linewidth=0)
    ax.set_xlim(left=0)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.set_xlabel("Alliance age (weeks)")
    ax.set_ylabel("Still running (Kaplan-Meier)")
    ax.grid(color="0.92")
    ax.set_title(title)
    ax.legend(loc="best", fontsize="small", frameon=False)
    return figure


def colour_cycle(items: Sequence[str]) -> Iterable[str]:
    while True:
        yield from items


def failure_shares(summary: pd.DataFrame, factor: str) -> pd.DataFrame:
    """Per level of `factor` (pooled over the others): decided alliances and the share of them
    that failed for each reason, in columns named after the reasons."""
    columns = [f"failures_{reason}" for reason in REASONS]
    pooled = summary.groupby(factor, sort=True)[["decided", *columns]].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = pooled[columns].div(pooled["decided"].replace(0, np.nan), axis=0)
    shares.columns = list(REASONS)
    shares.insert(0, "decided", pooled["decided"])
    return shares.reset_index()


def failure_reasons(summary: pd.DataFrame, factor: str) -> Figure:
    """Stacked bars per level of `factor`: the share of decided alliances that failed, split by
    the reason the exiting partner gave."""
    title = f"Failures by reason and {factor_label(factor)}"
    shares = failure_shares(summary, factor)
    shares = shares[shares["decided"] > 0]
    if shares.empty:
        return nothing_to_show(title)
    figure, ax = _new_figure()
    x = np.arange(len(shares))
    bottom = np.zeros(len(shares))
    for colour, reason in zip(PALETTE, REASONS):
        height = shares[reason].to_numpy(dtype=float)
        ax.bar(x, height, bottom=bottom, color=colour, label=reason.replace("_", " "), width=0.7)
        bottom += height
    ax.set_xticks(x, [_level_text(v) for v in shares[factor]], rotation=45 if len(x) > 8 else 0)
    ax.set_xlabel(factor_label(factor))
    ax.set_ylim(0, max(0.05, float(bottom.max()) * 1.15))
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.set_ylabel("Failed (share of decided alliances)")
    ax.grid(axis="y", color="0.9")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return figure


# --------------------------------------------------------------------------- saving


def save_figure(figure: Figure, stem: str | Path, formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Write `figure` to `<stem>.<format>` for each format, each atomically (rendered in memory,
    then renamed into place) and reproducibly: the same figure gives the same bytes (no date in
    the metadata, a fixed SVG id salt). Returns the paths written."""
    written = []
    for fmt in formats:
        buffer = io.BytesIO()
        metadata = {"Date": None} if fmt in ("svg", "pdf") else {}
        with mpl.rc_context({"svg.hashsalt": "alliance-sim", "svg.fonttype": "path"}):
            figure.savefig(buffer, format=fmt, dpi=150, metadata=metadata)
        path = Path(f"{stem}.{fmt}")
        with atomic_write(path) as handle:
            handle.write(buffer.getvalue())
        written.append(path)
    return written
