"""The workshop dashboard: the alliance model in Mesa's SolaraViz, for a room to watch and steer.

Mesa's convention puts the visualisation of a model in `app.py` beside `model.py` and `agents.py`.
This page has sliders and menus for the main levers, live plots of the model's time series (active
alliances, mean trust, successes and failures by reason), a network view of the firms and their
alliances coloured by trust, and a side-by-side mode: a second model on the same seed with one
lever changed, stepped together with the first, so the room sees the same alliances with the same
luck part ways.

Start it with `alliance-sim dashboard [SCENARIO]` (which runs
`solara run experiments/dashboard/app.py` on 127.0.0.1) or directly with
`solara run experiments/dashboard/app.py`. The command passes the scenario it resolved in
the environment variable `ALLIANCE_SIM_DASHBOARD_SCENARIO` (as JSON) and the first seed in
`ALLIANCE_SIM_DASHBOARD_SEED` (their names live in `experiments.dashboard.launcher`); without them the page
starts from the schema defaults and seed 0.

SolaraViz keeps the controls (Reset, play, Step) and the sliders; the page lays out the readout,
plots and network itself (`Dashboard`), because Mesa's draggable grid of components does not load
under the Vue 3 front end of this Solara version.

SolaraViz rebuilds a model as `type(model)(**slider_values)`, so the sliders need a model class
whose keyword arguments are the levers. `WorkshopModel` is that class: it turns the slider values
into a `sim.Scenario` with `workshop_scenario` and is otherwise the unchanged `AllianceModel`.
Sliders take effect when Reset is pressed (Mesa's behaviour); Step and the play button advance
both models one week at a time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import matplotlib as mpl
import networkx as nx
import numpy as np
import pandas as pd
import solara
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from experiments.dashboard.launcher import MAX_SEED, SCENARIO_ENV, SEED_ENV
from experiments.present.figures import PALETTE
from sim.model import AllianceModel
from sim.outcome import REASONS
from sim.scenario import ScenarioError, build_scenario
from sim.schema import ALLIANCE_FUNCTIONS, CONFLICT_MODES, MEETING_MODES, RISK_CLINIC_MODES, Scenario

DEFAULT_SEED = 0
#: Longest meeting interval the slider offers, weeks (half a year).
MAX_MEETING_INTERVAL_WEEKS = 26
#: Step of the sliders of shares in [0, 1].
SHARE_STEP = 0.05
#: The dashboard records the time series every week, so the plots move at every step.
RECORD_INTERVAL_WEEKS = 1
#: The alliance function menu entry that keeps the base scenario's mix of function types.
SCENARIO_MIX = "as in the scenario"
#: Seed of the network layout (positions of the firms), so the picture is the same every time.
LAYOUT_SEED = 7
LAYOUT_ITERATIONS = 60

#: Lever (keyword argument of WorkshopModel) -> dotted path of the scenario value it sets.
LEVER_PATHS: dict[str, str] = {
    "meeting_interval_weeks": "governance.meeting_interval_weeks",
    "meeting_mode": "governance.meeting_mode",
    "formal_incentives": "firms.incentives.formal",
    "informal_incentives": "firms.incentives.informal",
    "leadership_consistency": "firms.leadership_consistency",
    "alliance_function": "firms.alliance_function",
    "risk_clinic": "governance.risk_clinic",
    "conflict_resolution": "governance.conflict_resolution",
    "culture_dispersion": "firms.culture_dispersion",
    "manager_turnover_per_year": "managers.turnover_per_year",
}
INTEGER_LEVERS = frozenset({"meeting_interval_weeks"})
SHARE_LEVERS = frozenset(
    {
        "formal_incentives",
        "informal_incentives",
        "leadership_consistency",
        "culture_dispersion",
        "manager_turnover_per_year",
    }
)
LEVER_LABELS: dict[str, str] = {
    "meeting_interval_weeks": "Meeting interval (weeks)",
    "meeting_mode": "Meeting mode",
    "formal_incentives": "Formal incentives (0-1)",
    "informal_incentives": "Informal incentives (0-1)",
    "leadership_consistency": "Leadership consistency (0-1)",
    "alliance_function": "Alliance function",
    "risk_clinic": "Risk clinic",
    "conflict_resolution": "Conflict resolution",
    "culture_dispersion": "Culture dispersion (0-1)",
    "manager_turnover_per_year": "Manager turnover (per year)",
}
CHOICES: dict[str, tuple[str, ...]] = {
    "meeting_mode": MEETING_MODES,
    "alliance_function": ALLIANCE_FUNCTIONS,
    "risk_clinic": RISK_CLINIC_MODES,
    "conflict_resolution": CONFLICT_MODES,
}


def _stronger_incentives(_: Scenario) -> dict[str, Any]:
    return {
        "firms.incentives.formal": 0.8,
        "firms.incentives.informal": 0.8,
        "firms.leadership_consistency": 0.9,
    }


def _half_turnover(scenario: Scenario) -> dict[str, Any]:
    return {"managers.turnover_per_year": scenario.managers.turnover_per_year / 2}


#: Side-by-side mode: what setting B changes in setting A -> the dotted overrides, given A's scenario.
SECOND_SETTINGS: dict[str, Callable[[Scenario], dict[str, Any]]] = {
    "a central alliance function": lambda _: {"firms.alliance_function": "central_function"},
    "periodic risk clinics": lambda _: {"governance.risk_clinic": "periodic"},
    "collaborative conflict resolution": lambda _: {"governance.conflict_resolution": "collaborative"},
    "weekly in-person meetings": lambda _: {
        "governance.meeting_interval_weeks": 1,
        "governance.meeting_mode": "in_person",
    },
    "strong incentives, consistent leaders": _stronger_incentives,
    "half the manager turnover": _half_turnover,
}
DEFAULT_SECOND_SETTING = "a central alliance function"


# --------------------------------------------------------------------------- slider values -> Scenario


def value_at(scenario: Scenario, dotted: str) -> Any:
    """The value of `scenario` at a dotted path such as 'governance.meeting_interval_weeks'."""
    value: Any = scenario
    for key in dotted.split("."):
        value = getattr(value, key)
    return value


def lever_values(scenario: Scenario) -> dict[str, Any]:
    """The levers as `scenario` sets them (the sliders' starting values); a mix of alliance
    function types shows as SCENARIO_MIX."""
    values = {lever: value_at(scenario, path) for lever, path in LEVER_PATHS.items()}
    if isinstance(values["alliance_function"], dict):
        values["alliance_function"] = SCENARIO_MIX
    return values


def lever_overrides(levers: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted-path overrides for the lever values given (None leaves a lever as it is).

    Slider values are converted to the schema's types (a float slider may report 1 for 1.0);
    an unknown lever or a value the schema refuses raises ScenarioError.
    """
    unknown = sorted(set(levers) - set(LEVER_PATHS))
    if unknown:
        raise ScenarioError(f"unknown lever {unknown[0]!r}; levers: {', '.join(LEVER_PATHS)}")
    overrides: dict[str, Any] = {}
    for lever, value in levers.items():
        if value is None or (lever == "alliance_function" and value == SCENARIO_MIX):
            continue
        if lever in INTEGER_LEVERS and isinstance(value, float) and value.is_integer():
            value = int(value)
        if lever in SHARE_LEVERS and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        overrides[LEVER_PATHS[lever]] = value
    return overrides


def workshop_scenario(base: Scenario | None = None, **levers: Any) -> Scenario:
    """`base` (default: the schema's baseline) with the levers set, recording every week.

        workshop_scenario(meeting_interval_weeks=2, risk_clinic="periodic")

    The time series is recorded every week (RECORD_INTERVAL_WEEKS) so that the live plots move
    at every step; nothing else differs from `base`.
    """
    overrides = {**lever_overrides(levers), "output.timeseries_interval_weeks": RECORD_INTERVAL_WEEKS}
    return build_scenario(base if base is not None else Scenario(), overrides)


def second_scenario(scenario: Scenario, second_setting: str) -> Scenario:
    """Setting B of the side-by-side mode: `scenario` with the change named `second_setting`."""
    if second_setting not in SECOND_SETTINGS:
        raise ScenarioError(
            f"unknown second setting {second_setting!r}; choose one of: {', '.join(SECOND_SETTINGS)}"
        )
    return build_scenario(scenario, SECOND_SETTINGS[second_setting](scenario))


# --------------------------------------------------------------------------- the model SolaraViz drives


class WorkshopModel(AllianceModel):
    """`AllianceModel` built from slider values, with an optional twin for the side-by-side mode.

    Args:
        base: the scenario the levers start from (default: the schema's baseline).
        seed: the seed of both settings (a non-negative integer).
        side_by_side: also run setting B, `base` with the levers and `second_setting` applied, on
            the same seed, one week per step together with setting A.
        second_setting: what B changes, a key of SECOND_SETTINGS.
        The levers (keys of LEVER_PATHS, e.g. `meeting_interval_weeks`): None keeps `base`'s value.
    """

    def __init__(
        self,
        *,
        base: Scenario | None = None,
        seed: int = DEFAULT_SEED,
        side_by_side: bool = False,
        second_setting: str = DEFAULT_SECOND_SETTING,
        meeting_interval_weeks: int | None = None,
        meeting_mode: str | None = None,
        formal_incentives: float | None = None,
        informal_incentives: float | None = None,
        leadership_consistency: float | None = None,
        alliance_function: str | None = None,
        risk_clinic: str | None = None,
        conflict_resolution: str | None = None,
        culture_dispersion: float | None = None,
        manager_turnover_per_year: float | None = None,
    ):
        scenario = workshop_scenario(
            base,
            meeting_interval_weeks=meeting_interval_weeks,
            meeting_mode=meeting_mode,
            formal_incentives=formal_incentives,
            informal_incentives=informal_incentives,
            leadership_consistency=leadership_consistency,
            alliance_function=alliance_function,
            risk_clinic=risk_clinic,
            conflict_resolution=conflict_resolution,
            culture_dispersion=culture_dispersion,
            manager_turnover_per_year=manager_turnover_per_year,
        )
        super().__init__(scenario, rng=int(seed))
        self.second_setting = second_setting
        self.twin: AllianceModel | None = None
        if side_by_side:
            self.twin = AllianceModel(second_scenario(scenario, second_setting), rng=int(seed))
        self.primary_running = self.running
        #: Positions of the firms in the network view, (firms, 2): laid out once from the alliances
        #: formed at week 0, the same for B, so that the picture stays put while the model runs.
        self.positions = firm_layout(self)

    def step(self) -> None:
        """One week of setting A and, side by side, of setting B; runs while either still runs."""
        if self.primary_running:
            super().step()
            self.primary_running = self.running
        if self.twin is not None and self.twin.running:
            self.twin.step()
        self.running = self.primary_running or (self.twin is not None and self.twin.running)

    def settings(self) -> list[tuple[str, AllianceModel]]:
        """The models on show with their labels: A, and B when side by side."""
        pairs: list[tuple[str, AllianceModel]] = [("A: your settings", self)]
        if self.twin is not None:
            pairs.append((f"B: A with {self.second_setting}", self.twin))
        return pairs


def firm_layout(model: AllianceModel) -> np.ndarray:
    """A spring layout of the firms joined by their running alliances, seeded (LAYOUT_SEED)."""
    graph = nx.Graph()
    graph.add_nodes_from(range(len(model.firms)))
    graph.add_edges_from(edge for members in alliance_members(model) for edge in _pairs(members))
    layout = nx.spring_layout(graph, seed=LAYOUT_SEED, iterations=LAYOUT_ITERATIONS)
    return np.array([layout[f] for f in range(len(model.firms))])


def _pairs(members: list[int]) -> list[tuple[int, int]]:
    return [(a, b) for i, a in enumerate(members) for b in members[i + 1 :]]


def alliance_members(model: AllianceModel) -> list[list[int]]:
    """The partner firms of each running alliance, one list per alliance."""
    al = model.world.alliances
    return [al.firm[i, al.member[i]].tolist() for i in range(al.n)]


def alliance_trust(model: AllianceModel) -> np.ndarray:
    """Mean organisational trust of each running alliance over its partners, in [0, 1]."""
    al = model.world.alliances
    return al.slot_mean(al.trust_org[: al.n], al.member[: al.n]) if al.n else np.zeros(0)


# --------------------------------------------------------------------------- what the page shows


def readout(model: WorkshopModel) -> pd.DataFrame:
    """The numbers of the moment, one column per setting shown (A, and B when side by side)."""
    rows = {}
    for label, shown in model.settings():
        snap = shown.snapshot()
        rate = snap["success_rate"]
        rows[label] = {
            "week": str(snap["week"]),
            "active alliances": str(snap["active_alliances"]),
            "mean trust": "n/a" if np.isnan(snap["mean_trust"]) else f"{snap['mean_trust']:.3f}",
            "successes": str(snap["successes"]),
            "failures": str(snap["failures"]),
            "restructured": str(snap["restructured"]),
            "success rate so far": "n/a" if np.isnan(rate) else f"{rate:.1%}",
        }
    return pd.DataFrame(rows)


def settings_text(model: WorkshopModel) -> str:
    """One line of what setting A is: the levers as they are in its scenario, and the seed."""
    config = model.config
    g, f = config.governance, config.firms
    function = f.alliance_function if isinstance(f.alliance_function, str) else "a mix"
    return (
        f"A: meetings every {g.meeting_interval_weeks} weeks ({g.meeting_mode}), incentives "
        f"{f.incentives.formal:.2f} formal / {f.incentives.informal:.2f} informal, leadership "
        f"{f.leadership_consistency:.2f}, alliance function {function}, risk clinic {g.risk_clinic}, "
        f"conflicts {g.conflict_resolution}, culture dispersion {f.culture_dispersion:.2f}, turnover "
        f"{config.managers.turnover_per_year:.2f}/year; seed {model.seed}"
    )


SETTING_STYLES = ("solid", "dashed")
PLOT_SIZE = (5.6, 3.4)
NETWORK_SIZE = (5.6, 4.6)
DPI = 90


def _series_figure(model: WorkshopModel, columns: dict[str, str], ylabel: str, title: str) -> Figure:
    """Lines of the time-series `columns` (name -> legend label) against the week, A solid, B dashed."""
    figure = Figure(figsize=PLOT_SIZE, dpi=DPI, layout="constrained")
    ax = figure.add_subplot()
    for style, (label, shown) in zip(SETTING_STYLES, model.settings()):
        frame = shown.timeseries()
        for colour, (column, name) in zip(PALETTE, columns.items()):
            legend = name if len(model.settings()) == 1 else f"{name}, {label[0]}"
            ax.plot(frame["week"], frame[column], color=colour, linestyle=style, label=legend)
    ax.set_xlim(0, model.horizon)  # a fixed axis: the lines grow across it as the weeks pass
    ax.set_xlabel("week")
    ax.set_ylabel(ylabel)
    ax.set_title(title + ("" if model.twin is None else " (A solid, B dashed)"), fontsize="medium")
    ax.grid(alpha=0.3)
    if len(columns) > 1 or model.twin is not None:
        ax.legend(fontsize="x-small", ncols=2, loc="best")
    return figure


def active_alliances_figure(model: WorkshopModel) -> Figure:
    """Alliances running, week by week."""
    return _series_figure(
        model, {"active_alliances": "active"}, "alliances running (count)", "Active alliances"
    )


def mean_trust_figure(model: WorkshopModel) -> Figure:
    """Mean organisational trust over the partners of the running alliances, week by week."""
    return _series_figure(
        model, {"mean_trust": "mean trust"}, "organisational trust (0-1)", "Mean trust of running alliances"
    )


def outcomes_figure(model: WorkshopModel) -> Figure:
    """Cumulative successes and failures by reason, week by week."""
    columns = {"successes": "successes", **{f"failures_{r}": f"failed: {r}" for r in REASONS}}
    return _series_figure(model, columns, "alliances ended (cumulative count)", "Successes and failures")


def network_figure(model: WorkshopModel) -> Figure:
    """Firms as dots, each running alliance as a line between its partners (a star from its centre
    for more than two) coloured by its mean trust; one panel per setting."""
    settings = model.settings()
    width, height = NETWORK_SIZE
    figure = Figure(figsize=(width * len(settings) ** 0.5, height), dpi=DPI, layout="constrained")
    axes = figure.subplots(1, len(settings), squeeze=False)[0]
    norm = mpl.colors.Normalize(0.0, 1.0)
    cmap = mpl.colormaps["cividis"]
    positions = model.positions
    for ax, (label, shown) in zip(axes, settings):
        segments, trust = _alliance_segments(shown, positions)
        busy = shown.world.firms.active_alliances > 0
        ax.scatter(*positions[~busy].T, s=5, color="#BBBBBB", zorder=1, label="firm, no running alliance")
        ax.scatter(*positions[busy].T, s=7, color="#000000", zorder=1, label="firm in an alliance")
        ax.add_collection(LineCollection(segments, colors=cmap(norm(trust)), linewidths=2.0, zorder=2))
        ax.set_title(f"{label}\nweek {shown.week}, {len(trust)} running", fontsize="small")
        ax.set_axis_off()
        ax.set_aspect("equal")
    axes[0].legend(fontsize="x-small", loc="lower left")
    colourbar = figure.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=list(axes), shrink=0.7)
    colourbar.set_label("alliance trust (organisational, 0-1)")
    return figure


def _alliance_segments(model: AllianceModel, positions: np.ndarray) -> tuple[list, np.ndarray]:
    """Line segments of every running alliance and the trust of the alliance each belongs to."""
    segments, trust = [], []
    for members, value in zip(alliance_members(model), alliance_trust(model)):
        points = positions[members]
        if len(members) == 2:
            segments.append(points)
            trust.append(value)
            continue
        centre = points.mean(axis=0)
        for point in points:
            segments.append(np.array([centre, point]))
            trust.append(value)
    return segments, np.asarray(trust, dtype=float)


# --------------------------------------------------------------------------- the page


def base_from_environment(environ: Mapping[str, str] = os.environ) -> tuple[Scenario, int]:
    """The base scenario and first seed `alliance-sim dashboard` passed (defaults without it)."""
    text = environ.get(SCENARIO_ENV)
    base = Scenario() if not text else _scenario_from_json(text)
    seed_text = environ.get(SEED_ENV, str(DEFAULT_SEED))
    if not seed_text.isdigit() or int(seed_text) > MAX_SEED:
        raise ScenarioError(f"{SEED_ENV} must be an integer from 0 to {MAX_SEED}, got {seed_text!r}")
    return base, int(seed_text)


def _scenario_from_json(text: str) -> Scenario:
    try:
        return Scenario.model_validate_json(text)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise ScenarioError(f"{SCENARIO_ENV} does not hold a valid scenario: {exc}") from None


def model_params(base: Scenario, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """SolaraViz's model_params: a widget per lever starting at `base`'s value, the seed, the
    side-by-side toggle and its second setting, and `base` itself as a fixed parameter."""
    start = lever_values(base)
    params: dict[str, Any] = {
        "base": base,
        "seed": {"type": "SliderInt", "value": seed, "min": 0, "max": MAX_SEED, "step": 1, "label": "Seed"},
    }
    for lever, value in start.items():
        label = LEVER_LABELS[lever]
        if lever in CHOICES:
            values = list(CHOICES[lever]) + ([SCENARIO_MIX] if value == SCENARIO_MIX else [])
            params[lever] = {"type": "Select", "value": value, "values": values, "label": label}
        elif lever in INTEGER_LEVERS:
            params[lever] = {
                "type": "SliderInt",
                "value": min(value, MAX_MEETING_INTERVAL_WEEKS),
                "min": 1,
                "max": MAX_MEETING_INTERVAL_WEEKS,
                "step": 1,
                "label": label,
            }
        else:
            params[lever] = {
                "type": "SliderFloat",
                "value": value,
                "min": 0.0,
                "max": 1.0,
                "step": SHARE_STEP,
                "label": label,
            }
    params["side_by_side"] = {"type": "Checkbox", "value": False, "label": "Side by side: also run B"}
    params["second_setting"] = {
        "type": "Select",
        "value": DEFAULT_SECOND_SETTING,
        "values": list(SECOND_SETTINGS),
        "label": "B is A with",
    }
    return params


def initial_model(params: Mapping[str, Any]) -> WorkshopModel:
    """The model the page opens with: the widgets' starting values."""
    values = {name: p["value"] if isinstance(p, dict) else p for name, p in params.items()}
    return WorkshopModel(**values)


BASE, FIRST_SEED = base_from_environment()
PARAMS = model_params(BASE, FIRST_SEED)


def readout_markdown(model: WorkshopModel) -> str:
    """The readout as a Markdown table, one column per setting."""
    table = readout(model)
    lines = ["| | " + " | ".join(table.columns) + " |", "|---" * (len(table.columns) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(row) + " |" for name, row in zip(table.index, table.values)]
    return "\n".join(lines)


@solara.component
def Dashboard(model: WorkshopModel):
    """The main area: the readout, the three live plots and the network view, redrawn at every step.

    Mesa's own layout of components (a draggable grid) does not load under the Vue 3 front end
    that this Solara version serves (its grid library calls Vue 2's `Vue.use`), so the page lays
    out its components itself and SolaraViz gets none: it keeps the controls, the sliders and Reset.
    """
    update_counter.get()  # SolaraViz bumps it after every step and reset: redraw then
    with solara.Column(style={"padding": "8px"}) as main:
        with solara.Card("Readout"):
            solara.Markdown(settings_text(model))
            if model.twin is not None:
                solara.Markdown(f"B: the same scenario and seed with {model.second_setting}.")
            solara.Markdown(readout_markdown(model))
        with solara.Columns([1, 1]):
            solara.FigureMatplotlib(active_alliances_figure(model), format="png")
            solara.FigureMatplotlib(mean_trust_figure(model), format="png")
        with solara.Columns([1, 1]):
            solara.FigureMatplotlib(outcomes_figure(model), format="png")
            solara.FigureMatplotlib(network_figure(model), format="png")
    return main


@solara.component
def Page():
    """One dashboard per browser session: SolaraViz's controls and sliders, and the Dashboard."""
    model = solara.use_reactive(solara.use_memo(lambda: initial_model(PARAMS), []))
    SolaraViz(model, components=[], model_params=PARAMS, name="Alliance workshop", play_interval=150)
    Dashboard(model.value)
