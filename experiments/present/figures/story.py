"""Figure of one alliance's story in two worlds, in the style of `experiments.present.figures`.

* `story_figure` - top: the alliance's organisational trust week by week in both worlds; bottom:
  two aligned lanes (baseline above, alternative below) of event markers over weeks, one marker
  and colour per kind of event. The week the worlds part is a dashed line through both panels and
  each lane ends with its outcome written out. Sized for a slide.

It reads a `experiments.studies.story.Story`; save it with `experiments.present.figures.save_figure`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.present.figures import PALETTE

SLIDE_SIZE = (11.0, 6.2)
#: Event kinds drawn in the lanes: (label in the legend, events, marker, colour); the row order is
#: also the order of the sub-rows within a lane, top to bottom.
MARKS: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    ("meeting", ("meeting_in_person", "meeting_virtual", "steering_committee"), "o", PALETTE[0]),
    ("issue raised or erupted", ("issues_raised", "issue_erupted", "issues_escalated"), "^", PALETTE[1]),
    ("issue resolved", ("issues_resolved",), "v", PALETTE[2]),
    ("shock", ("shock", "shock_response", "strategic_drift"), "*", PALETTE[3]),
    ("manager left", ("manager_left",), "D", PALETTE[4]),
    ("review", ("review",), "|", PALETTE[5]),
    (
        "restructure, exit, opportunism, clinic",
        ("restructured", "exit", "opportunism_detected", "risk_clinic", "insight_workshop"),
        "s",
        PALETTE[7],
    ),
)
LANE_HALF_HEIGHT = 0.38
MARKER_SIZE = 26
ENDING_MARKER_SIZE = 120
WORLD_COLOURS = {"baseline": PALETTE[0], "alternative": PALETTE[1]}
ENDING_MARKERS = {"success": "P", "failure": "X", "restructured": "s", "censored": ">"}


def _sub_rows(lane: float) -> dict[str, float]:
    offsets = np.linspace(LANE_HALF_HEIGHT, -LANE_HALF_HEIGHT, len(MARKS))
    return {label: lane + offset for (label, *_), offset in zip(MARKS, offsets)}


def story_figure(tale: Any, *, title: str | None = None) -> Figure:
    """Trust trajectories and event lanes of a `Story` (see the module docstring)."""
    from experiments.present.text import describe_changes

    change = describe_changes(tale.changes)
    figure = Figure(figsize=SLIDE_SIZE, layout="constrained")
    trust_ax, lanes_ax = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 3]})
    trust = tale.trust
    names = {"baseline": "baseline", "alternative": f"alternative ({change})"}
    for world in ("baseline", "alternative"):
        trust_ax.plot(
            trust["week"], trust[world], color=WORLD_COLOURS[world], linewidth=1.8, label=names[world]
        )
    trust_ax.set_ylim(0, 1)
    trust_ax.set_ylabel("Organisational trust (0-1)")
    trust_ax.grid(color="0.92")
    trust_ax.legend(loc="lower left", fontsize="small", frameon=False)

    lanes = {"baseline": 1.0, "alternative": 0.0}
    endings = {"baseline": tale.baseline_end, "alternative": tale.alternative_end}
    timelines = {"baseline": tale.baseline, "alternative": tale.alternative}
    for world, lane in lanes.items():
        _draw_lane(lanes_ax, timelines[world], lane, legend=world == "baseline")
        end = endings[world]
        lanes_ax.scatter(
            [end.week], [lane], marker=ENDING_MARKERS.get(end.outcome, "o"), s=ENDING_MARKER_SIZE,
            color=WORLD_COLOURS[world], edgecolors="black", zorder=4,
        )  # fmt: skip
        lanes_ax.annotate(
            end.text(), (end.week, lane - LANE_HALF_HEIGHT - 0.08), ha="right", va="top", fontsize="small",
            fontweight="bold", color="black",
        )  # fmt: skip
    lanes_ax.set_yticks(list(lanes.values()), list(lanes))
    lanes_ax.set_ylim(-0.75, 1.55)
    lanes_ax.set_xlabel("Week of the simulation")
    lanes_ax.grid(axis="x", color="0.92")
    lanes_ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=4, fontsize="small", frameon=False)
    last_week = max(int(trust["week"].max()), tale.baseline_end.week, tale.alternative_end.week)
    lanes_ax.set_xlim(-1, last_week + 2)

    for ax in (trust_ax, lanes_ax):
        if tale.parting_week is not None:
            ax.axvline(tale.parting_week, color="0.25", linestyle="--", linewidth=1.2)
    if tale.parting_week is not None:
        trust_ax.annotate(
            f"the worlds part: week {tale.parting_week}", (tale.parting_week, 0.96), xytext=(4, 0),
            textcoords="offset points", va="top", fontsize="small",
        )  # fmt: skip
    heading = title or (
        f"Alliance {tale.alliance} of {tale.scenario.name} (seed {tale.seed}): baseline and {change}"
    )
    trust_ax.set_title(heading)
    return figure


def _draw_lane(ax, timeline: pd.DataFrame, lane: float, *, legend: bool) -> None:
    """One world's events as markers on the sub-rows of its lane."""
    rows = _sub_rows(lane)
    ax.axhline(lane, color="0.85", linewidth=0.8, zorder=0)
    for label, events, marker, colour in MARKS:
        weeks = timeline.loc[timeline["event"].isin(events), "week"].unique()
        ax.scatter(
            weeks, np.full(len(weeks), rows[label]), marker=marker, s=MARKER_SIZE, color=colour,
            label=label if legend else None, zorder=3,
        )  # fmt: skip
