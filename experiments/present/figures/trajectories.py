"""Trust trajectories: how partners' trust evolves week by week, as a median with a band.

* `trust_bands(frame, by=..., value=..., coverage=...)` - per group and week, the median of
  `value` over the rows sharing that week (the replications of a design point in a sweep's time
  series, or the alliances of one run in its trust samples) with the central `coverage` band
  (0.5: the interquartile range; 0.9: the 5th to 95th percentile) and the number of rows behind it.
* `alliance_trust(events)` - one run's trust samples (the `trust` events, one per alliance per
  review) as week, alliance_id, trust: the rows to band over alliances within a single run.
* `trust_trajectories(bands, by=..., labels=...)` - the figure: one median line per group with
  its band shaded, weeks on the x axis, trust (0 to 1) on the y axis.

    from experiments import load_timeseries
    from experiments.present.figures import save_figure
    from experiments.present.figures.trajectories import trust_bands, trust_trajectories

    bands = trust_bands(load_timeseries("results/meeting_frequency"), by="point_id")
    save_figure(trust_trajectories(bands, by="point_id"), "results/meeting_frequency/trust")

Weeks where nothing was observed (no alliance active, so mean trust is missing) are left out
rather than drawn as zero. Quantiles are numpy's linear interpolation, so the same rows always
give the same band.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.present.figures import FIGURE_SIZE, PALETTE, colour_cycle, nothing_to_show

#: The band of `trust_bands` by default: the interquartile range.
INTERQUARTILE = 0.5
#: The wider band on offer: the 5th to 95th percentile.
NINETY_PERCENT = 0.9
#: The column of a time series holding partners' mean organisational trust.
TRUST_COLUMN = "mean_trust"
#: The event of the event log that samples an alliance's trust (at every review).
TRUST_EVENT = "trust"
TRUST_LABEL = "Organisational trust (0 = none, 1 = complete)"
WEEK_LABEL = "Week of the simulation"
BAND_COLUMNS = ("week", "median", "low", "high", "n")


def band_name(coverage: float) -> str:
    """How a band of `coverage` reads in a legend: 'interquartile range' or '90% band'."""
    if np.isclose(coverage, INTERQUARTILE):
        return "interquartile range"
    return f"{coverage:.0%} band"


def trust_bands(
    frame: pd.DataFrame,
    *,
    by: str | None = None,
    value: str = TRUST_COLUMN,
    coverage: float = INTERQUARTILE,
) -> pd.DataFrame:
    """Median and central `coverage` band of `value` per week (and per value of column `by`).

    Returns one row per group and week, sorted: `by` (if given), week, median, low, high and n
    (the rows with a value that week). Rows whose value is missing are ignored; a week without
    any value has no row. ValueError if `coverage` is not strictly between 0 and 1 or a column
    is missing.
    """
    if not 0 < coverage < 1:
        raise ValueError(f"coverage must be strictly between 0 and 1, got {coverage}")
    keys = [by, "week"] if by is not None else ["week"]
    missing = [name for name in (*keys, value) if name not in frame.columns]
    if missing:
        raise ValueError(f"the table has no column {', '.join(missing)} (it has {', '.join(frame.columns)})")
    observed = frame.loc[frame[value].notna(), [*keys, value]]
    if observed.empty:
        return pd.DataFrame(columns=[*([by] if by else []), *BAND_COLUMNS])
    tail = (1 - coverage) / 2
    grouped = observed.groupby(keys, sort=True)[value]
    bands = pd.DataFrame(
        {
            "median": grouped.median(),
            "low": grouped.quantile(tail),
            "high": grouped.quantile(1 - tail),
            "n": grouped.size().astype(np.int64),
        }
    )
    return bands.reset_index()


def alliance_trust(events: pd.DataFrame) -> pd.DataFrame:
    """One run's trust samples: week, alliance_id and trust, from the `trust` events of its log
    (empty when the run did not keep events)."""
    if events.empty or "event" not in events.columns:
        return pd.DataFrame({"week": [], "alliance_id": [], "trust": []})
    samples = events.loc[events["event"] == TRUST_EVENT, ["week", "alliance_id", "value"]]
    return samples.rename(columns={"value": "trust"}).reset_index(drop=True)


def trust_trajectories(
    bands: pd.DataFrame,
    *,
    by: str | None = None,
    labels: Mapping[object, str] | None = None,
    coverage: float = INTERQUARTILE,
    over: str = "replications",
    title: str = "Trust over time",
) -> Figure:
    """Median trust per week with its band, one line per value of column `by` of `bands` (the
    output of `trust_bands`). `labels` maps a group to its legend text (default: the group's
    value); `coverage` and `over` (what the band is taken across, e.g. 'replications' or
    'alliances') go into the legend. An empty table gives a figure saying so."""
    if bands.empty:
        return nothing_to_show(title, "no trust recorded (keep a time series or events)")
    figure = Figure(figsize=FIGURE_SIZE, layout="constrained")
    ax = figure.add_subplot()
    groups = bands.groupby(by, sort=True) if by is not None else [(None, bands)]
    note = f"{band_name(coverage)} across {over}"
    for colour, (key, group) in zip(colour_cycle(PALETTE), groups):
        name = (labels or {}).get(key, str(key)) if by is not None else "median"
        ax.fill_between(group["week"], group["low"], group["high"], color=colour, alpha=0.2, linewidth=0)
        ax.plot(group["week"], group["median"], color=colour, label=name)
    ax.fill_between([], [], [], color="0.5", alpha=0.2, linewidth=0, label=note)  # legend key for bands
    ax.set_ylim(0, 1)
    ax.set_xlim(left=0)
    ax.set_xlabel(WEEK_LABEL)
    ax.set_ylabel(TRUST_LABEL)
    ax.grid(axis="y", color="0.9")
    ax.set_title(title)
    ax.legend(loc="best", fontsize="small", frameon=False)
    return figure
