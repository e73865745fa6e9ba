"""Stories: one alliance replayed in two worlds, the scenario as given and with some values changed.

A number such as "+6 points of success" convinces few managers; the story of one partnership that
failed without a risk clinic and succeeded with one does. `story` runs the scenario twice from the
same seed (two `sim.AllianceModel` runs: the same firms, managers, partnerships and shocks), once as
given (the *baseline*) and once with the changes (the *alternative*), and follows one alliance
through both event logs::

    from experiments.studies.story import story, format_story
    tale = story("configs/baseline.yaml", {"governance.risk_clinic": "periodic"}, pick="flipped", seed=0)
    print(format_story(tale))

The `Story` holds both timelines (the alliance's events: meetings, issues raised, resolved and
escalated, shocks and the responses agreed, managers leaving, reviews, restructuring, exit, the
end, trust samples), its organisational trust week by week in both worlds, the *parting week* (the
first week whose events differ, as displayed: values to VALUE_DECIMALS places; None if the worlds
never part) and how the alliance ends in each. `alliance-sim story` prints it as a two-column
timeline and writes story.csv, story.png/.svg and manifest.json.

In cohort mode (every alliance forms at week 0) an alliance id is the same partnership in both
worlds. In ongoing mode alliances formed after the worlds part may pair different firms.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.engine.spec import SpecError, as_scenario
from experiments.engine.store import claim
from experiments.present import page
from experiments.present import text as fmt
from experiments.studies.base import (
    RESULTS_DIR,
    CliError,
    Study,
    Subparsers,
    checked_seed,
    out_folder,
    prepare_out_dir,
    print_written,
)
from experiments.studies.compare import add_change_arguments, check_changes, describe_changes
from sim import AllianceModel, Scenario, build_scenario, load_scenario, parse_assignment
from sim.mechanisms.shocks import RESPONSES
from sim.state import PHASES

DEFAULT_SEED = 0
#: The study this module's folders are claimed for, and what it is in words (experiments.engine.store).
CLAIM = {"study": "story", "title": "a story"}

STORY_CSV = "story.csv"
MANIFEST_JSON = "manifest.json"
FIGURE_STEM = "story"
PICKS = ("flipped",)
WORLDS = ("baseline", "alternative")
#: Event values are compared and shown to this many decimal places.
VALUE_DECIMALS = 3
TIMELINE_COLUMNS = ("week", "baseline", "alternative", "same", "baseline_trust", "alternative_trust")
#: Events that happen to most alliances most months; runs of weeks holding only these are collapsed.
ROUTINE = frozenset(
    ("meeting_in_person", "meeting_virtual", "steering_committee", "issues_raised", "issue_erupted")
    + ("issues_resolved", "trust", "review")
)
#: Width of each world's column in the terminal, and of the week column.
COLUMN_WIDTH = 46
WEEK_WIDTH = 9
#: A run of at least this many routine weeks is shown as one line.
COLLAPSE_MIN_WEEKS = 2
SAME = "(same)"


class StoryError(SpecError):
    """A story that cannot be told as asked; the message says why and what is allowed."""


@dataclass(frozen=True)
class Ending:
    """How an alliance ends in one world: its outcome, the failure reason (None unless it failed)
    and the week (the horizon for an alliance still running, `censored`)."""

    outcome: str
    reason: str | None
    week: int

    def text(self) -> str:
        if self.outcome == "censored":
            return f"still running at the horizon (week {self.week})"
        reason = f" ({self.reason.replace('_', ' ')})" if self.reason else ""
        return f"{self.outcome}{reason} in week {self.week}"


@dataclass(frozen=True)
class Story:
    """One alliance in two worlds: its event timelines (week, event, partner_id, value), its mean
    organisational trust by week (week, baseline, alternative; nan once ended), where they part
    and how each ends."""

    scenario: Scenario  # the baseline scenario as it ran
    changes: dict[str, Any]
    seed: int
    alliance: int
    baseline: pd.DataFrame
    alternative: pd.DataFrame
    trust: pd.DataFrame
    parting_week: int | None
    baseline_end: Ending
    alternative_end: Ending
    notes: tuple[str, ...] = field(default=())

    @property
    def flipped(self) -> bool:
        """Whether the alliance's outcome differs between the two worlds."""
        return self.baseline_end.outcome != self.alternative_end.outcome


# --------------------------------------------------------------------------- replaying


@dataclass
class Replay:
    """A finished run with every alliance's mean organisational trust, week by week."""

    model: AllianceModel
    trust: np.ndarray  # (weeks + 1, alliances formed); nan before forming and after ending
    outcomes: pd.DataFrame


def _mean_trust(model: AllianceModel) -> np.ndarray:
    alliances = model.world.alliances
    if alliances.formed == 0:
        return np.empty(0)
    trust, member = alliances.by_id("trust_org"), alliances.by_id("member")
    counts = member.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, (trust * member).sum(axis=1) / counts, np.nan)


def replay(scenario: Scenario, seed: int) -> Replay:
    """Run `scenario` from `seed` week by week (as `AllianceModel.run` does), recording the trust."""
    model = AllianceModel(scenario, rng=seed)
    weekly = [_mean_trust(model)]
    while model.running:
        model.step()
        weekly.append(_mean_trust(model))
    outcomes = model.outcomes()
    trust = np.full((len(weekly), model.world.alliances.formed), np.nan)
    for week, values in enumerate(weekly):
        trust[week, : values.size] = values
    weeks = np.arange(len(weekly))[:, None]
    start = outcomes["start_week"].to_numpy()[None, :]
    end = outcomes["end_week"].to_numpy()[None, :]
    trust[(weeks < start) | (weeks > end)] = np.nan
    return Replay(model, trust, outcomes)


def ending(outcomes: pd.DataFrame, alliance: int) -> Ending:
    row = outcomes.loc[outcomes["alliance_id"] == alliance].iloc[0]
    reason = None if pd.isna(row["reason"]) else str(row["reason"])
    return Ending(str(row["outcome"]), reason, int(row["end_week"]))


def alliance_events(model: AllianceModel, alliance: int) -> pd.DataFrame:
    """The alliance's events in the order they happened: week, event, partner_id, value."""
    events = model.events()
    mine = events.loc[events["alliance_id"] == alliance, ["week", "event", "partner_id", "value"]]
    return mine.reset_index(drop=True)


def flipped_alliances(baseline: pd.DataFrame, alternative: pd.DataFrame) -> list[int]:
    """Ids of the alliances (formed in both worlds) whose outcome differs, lowest first."""
    paired = baseline[["alliance_id", "outcome"]].merge(
        alternative[["alliance_id", "outcome"]], on="alliance_id", suffixes=("_a", "_b")
    )
    return sorted(int(a) for a in paired.loc[paired["outcome_a"] != paired["outcome_b"], "alliance_id"])


def choose_alliance(alliance: int | None, pick: str | None, a: Replay, b: Replay, seed: int) -> int:
    """The alliance asked for, checked against those formed in both worlds, or the one `pick` picks."""
    formed = min(a.model.world.alliances.formed, b.model.world.alliances.formed)
    if formed == 0:
        raise StoryError("no alliance formed in this scenario, so there is no story to tell")
    if pick == "flipped":
        candidates = flipped_alliances(a.outcomes, b.outcomes)
        if not candidates:
            raise StoryError(
                f"no alliance changes outcome between the two worlds with seed {seed}: try another "
                "--seed, more alliances (--set formation.n_alliances=...), or name one with --alliance ID"
            )
        return candidates[0]
    if (
        isinstance(alliance, bool)
        or not isinstance(alliance, (int, np.integer))
        or not 0 <= alliance < formed
    ):
        raise StoryError(
            f"--alliance {alliance} is out of range: alliances 0 to {formed - 1} formed in both worlds"
        )
    return int(alliance)


def story(
    scenario: Scenario | Mapping | str | Path,
    changes: Mapping[str, Any],
    *,
    alliance: int | None = None,
    pick: str | None = None,
    seed: int = DEFAULT_SEED,
) -> Story:
    """Replay one alliance of `scenario` as given and with `changes` (dotted path -> value), both
    from `seed`. Name the alliance by id (`alliance`) or let `pick="flipped"` choose the lowest id
    whose outcome differs. Raises ScenarioError for a bad key or value, StoryError otherwise."""
    if (alliance is None) == (pick is None):
        raise StoryError("name one alliance with --alliance ID or choose one with --pick flipped (not both)")
    if pick is not None and pick not in PICKS:
        raise StoryError(f"--pick {pick!r} is not known; allowed: {', '.join(PICKS)}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise StoryError(f"--seed must be a non-negative integer, got {seed!r}")
    base = build_scenario(as_scenario(scenario), {"output.events": True})
    alternative = check_changes(base, changes)
    worlds = replay(base, seed), replay(alternative, seed)
    chosen = choose_alliance(alliance, pick, *worlds, seed)
    timelines = [alliance_events(world.model, chosen) for world in worlds]
    trust = pd.DataFrame({"week": np.arange(max(len(w.trust) for w in worlds))})
    for name, world in zip(WORLDS, worlds):
        column = np.full(len(trust), np.nan)
        column[: len(world.trust)] = world.trust[:, chosen]
        trust[name] = column
    notes = ()
    if base.formation.mode == "ongoing":
        notes = ("ongoing mode: an alliance formed after the worlds part may pair different firms in each",)
    return Story(
        scenario=base,
        changes=dict(changes),
        seed=seed,
        alliance=chosen,
        baseline=timelines[0],
        alternative=timelines[1],
        trust=trust,
        parting_week=parting_week(*timelines),
        baseline_end=ending(worlds[0].outcomes, chosen),
        alternative_end=ending(worlds[1].outcomes, chosen),
        notes=notes,
    )


# --------------------------------------------------------------------------- comparing the timelines


def _week_signature(events: pd.DataFrame) -> dict[int, list[tuple]]:
    """Week -> the week's events as (event, partner_id, value rounded as displayed), in order."""
    rounded = events.assign(value=events["value"].round(VALUE_DECIMALS))
    return {
        int(week): list(zip(rows["event"], rows["partner_id"], rows["value"].fillna(np.inf)))
        for week, rows in rounded.groupby("week", sort=True)
    }


def parting_week(baseline: pd.DataFrame, alternative: pd.DataFrame) -> int | None:
    """The first week whose events differ between the two timelines, or None if none does."""
    a, b = _week_signature(baseline), _week_signature(alternative)
    for week in sorted(set(a) | set(b)):
        if a.get(week) != b.get(week):
            return week
    return None


# --------------------------------------------------------------------------- words


def _number(value: float) -> str:
    return f"{value:.{VALUE_DECIMALS}f}".replace("0.", ".", 1) if 0 <= value < 1 else f"{value:.2f}"


def _count(value: float, what: str) -> str:
    """`n issue(s) ...`, singular or plural."""
    n = int(round(value))
    return f"{n} {what}" if n == 1 else f"{n} {what.replace('issue', 'issues', 1)}"


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _firms(rows: pd.DataFrame) -> str:
    return ", ".join(f"firm {int(p)}" for p in rows["partner_id"] if p >= 0)


def event_text(event: str, rows: pd.DataFrame, end: Ending) -> str:
    """Words for one kind of event in one week (`rows`: its events that week, one per partner)."""
    value = float(rows["value"].iloc[0])
    firms = _firms(rows)
    texts = {
        "formed": lambda: f"formed (complementarity {_number(value)})",
        "phase": lambda: f"phase: {PHASES[int(value)]}",
        "meeting_in_person": lambda: f"meeting in person (trust {_number(value)})",
        "meeting_virtual": lambda: f"virtual meeting (trust {_number(value)})",
        "steering_committee": lambda: f"steering committee ({int(value)} open)",
        "issues_raised": lambda: _count(value, "issue raised"),
        "issue_erupted": lambda: _count(value, "issue ERUPTED").replace("ERUPTED", "ERUPTED into conflict"),
        "issues_resolved": lambda: f"{int(round(value))} resolved",
        "issues_escalated": lambda: f"{int(round(value))} ESCALATED",
        "insight_workshop": lambda: f"insight workshop (complementarity {_number(value)})",
        "risk_clinic": lambda: f"risk clinic (trust {_number(value)})",
        "shock": lambda: f"SHOCK (severity {_number(value)})",
        "shock_response": lambda: f"response: {RESPONSES[int(value)] if value >= 0 else 'none agreed'}",
        "strategic_drift": lambda: "STRATEGIC DRIFT",
        "manager_left": lambda: f"MANAGER LEFT ({firms})",
        "opportunism_detected": lambda: f"OPPORTUNISM DETECTED ({firms})",
        "review": lambda: "review (satisfaction " + "/".join(_number(v) for v in rows["value"]) + ")",
        "restructured": lambda: f"RESTRUCTURED ({firms})" if firms else "RESTRUCTURED",
        "exit": lambda: f"EXIT ({firms})" if firms else "EXIT",
        "ended": lambda: "ENDED: " + end.text().rsplit(" in week", 1)[0].replace("still running", "running"),
        "trust": lambda: f"trust {_number(value)}",
    }
    return texts[event]() if event in texts else event.replace("_", " ")


def week_text(rows: pd.DataFrame, end: Ending) -> str:
    """One week's events in one world, in the order they happened, each kind once."""
    kinds = list(dict.fromkeys(rows["event"]))
    return ", ".join(event_text(kind, rows[rows["event"] == kind], end) for kind in kinds)


def aligned_timeline(tale: Story) -> pd.DataFrame:
    """One row per week with events in either world: what happened in each, whether the two are
    the same (as displayed), and the alliance's trust that week in each world (TIMELINE_COLUMNS)."""
    ends = (tale.baseline_end, tale.alternative_end)
    texts = [
        {int(w): week_text(rows, end) for w, rows in timeline.groupby("week", sort=True)}
        for timeline, end in zip((tale.baseline, tale.alternative), ends)
    ]
    signatures = [_week_signature(t) for t in (tale.baseline, tale.alternative)]
    weeks = sorted(set(texts[0]) | set(texts[1]))
    trust = tale.trust.set_index("week")
    rows = [
        {
            "week": week,
            "baseline": texts[0].get(week, ""),
            "alternative": texts[1].get(week, ""),
            "same": signatures[0].get(week) == signatures[1].get(week),
            "baseline_trust": round(float(trust["baseline"].get(week, np.nan)), VALUE_DECIMALS),
            "alternative_trust": round(float(trust["alternative"].get(week, np.nan)), VALUE_DECIMALS),
        }
        for week in weeks
    ]
    return pd.DataFrame(rows, columns=list(TIMELINE_COLUMNS))


def _routine_only(timeline: pd.DataFrame, week: int) -> bool:
    return set(timeline.loc[timeline["week"] == week, "event"]) <= ROUTINE


def _run_summary(timeline: pd.DataFrame, first: int, last: int, trust: pd.Series) -> str:
    rows = timeline[(timeline["week"] >= first) & (timeline["week"] <= last)]
    meetings = int(rows["event"].isin(["meeting_in_person", "meeting_virtual"]).sum())
    raised = int(rows.loc[rows["event"] == "issues_raised", "value"].sum())
    erupted = int(rows.loc[rows["event"] == "issue_erupted", "value"].sum())
    resolved = int(rows.loc[rows["event"] == "issues_resolved", "value"].sum())
    reviews = rows.loc[rows["event"] == "review", "week"].nunique()
    counted = [
        (meetings, _plural(meetings, "meeting")),
        (raised, _count(raised, "issue raised")),
        (erupted, f"{erupted} erupted"),
        (resolved, f"{resolved} resolved"),
        (reviews, _plural(reviews, "review")),
    ]
    parts = [text for n, text in counted if n]
    start, end = trust.get(first, np.nan), trust.get(last, np.nan)
    if np.isfinite(start) and np.isfinite(end):
        parts.append(f"trust {_number(start)} -> {_number(end)}")
    return "routine: " + ", ".join(parts)


def _blocks(tale: Story, timeline: pd.DataFrame) -> list[tuple[int, int, bool]]:
    """(first week, last week, collapsed) blocks of the aligned timeline: runs of routine-only weeks
    (in both worlds, not the parting week) become one block."""
    blocks: list[tuple[int, int, bool]] = []
    run: list[int] = []

    def flush() -> None:
        if len(run) >= COLLAPSE_MIN_WEEKS:
            blocks.append((run[0], run[-1], True))
        else:
            blocks.extend((week, week, False) for week in run)
        run.clear()

    for week in timeline["week"]:
        routine = (
            week != tale.parting_week
            and _routine_only(tale.baseline, week)
            and _routine_only(tale.alternative, week)
        )
        if routine:
            run.append(int(week))
        else:
            flush()
            blocks.append((int(week), int(week), False))
    flush()
    return blocks


def _two_columns(week: str, left: str, right: str, marker: str = "  ") -> list[str]:
    lefts = textwrap.wrap(left, COLUMN_WIDTH) or [""]
    rights = textwrap.wrap(right, COLUMN_WIDTH) or [""]
    lines = []
    for i in range(max(len(lefts), len(rights))):
        label = week if i == 0 else ""
        mark = marker if i == 0 else "  "
        cell_left = lefts[i] if i < len(lefts) else ""
        cell_right = rights[i] if i < len(rights) else ""
        lines.append(f"{mark}{label:>{WEEK_WIDTH - 2}}  {cell_left:<{COLUMN_WIDTH}} | {cell_right}".rstrip())
    return lines


def format_story(tale: Story) -> str:
    """The story as a compact two-column timeline for a terminal: routine stretches collapsed,
    the parting week marked, the endings below."""
    timeline = aligned_timeline(tale)
    trust = tale.trust.set_index("week")
    change = describe_changes(tale.changes)
    lines = [
        f"Alliance {tale.alliance} of {tale.scenario.name}, seed {tale.seed}: baseline against {change}",
        *(f"Note: {note}" for note in tale.notes),
        "",
        *_two_columns("week", "baseline", "alternative"),
        "-" * (WEEK_WIDTH + 2 * COLUMN_WIDTH + 5),
    ]
    for first, last, collapsed in _blocks(tale, timeline):
        if first == tale.parting_week:
            lines.append(f"{'':>{WEEK_WIDTH}}>>> the worlds part here, in week {first} <<<")
        if collapsed:
            left = _run_summary(tale.baseline, first, last, trust["baseline"])
            right = _run_summary(tale.alternative, first, last, trust["alternative"])
            lines += _two_columns(f"{first}-{last}", left, SAME if left == right else right)
            continue
        row = timeline.loc[timeline["week"] == first].iloc[0]
        before_parting = tale.parting_week is None or first < tale.parting_week
        right = SAME if before_parting and row["same"] else (row["alternative"] or "-")
        marker = ">>" if first == tale.parting_week else "  "
        lines += _two_columns(str(first), row["baseline"] or "-", right, marker)
    lines += [
        "",
        "The worlds never part: the alliance lives the same story in both."
        if tale.parting_week is None
        else f"The worlds part in week {tale.parting_week}.",
        f"How it ends: baseline: {tale.baseline_end.text()}",
        f"             alternative: {tale.alternative_end.text()}"
        + ("  (the outcome changes)" if tale.flipped else ""),
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- writing


def write_story(tale: Story, folder: str | Path, command: Sequence[str] | None = None) -> list[Path]:
    """story.csv (the aligned timeline), story.png and story.svg, and manifest.json (provenance
    of the baseline scenario, the changes, the alliance and the endings) in `folder`."""
    from experiments.engine.outputs import write_text_atomic
    from experiments.engine.provenance import provenance
    from experiments.engine.store import write_manifest
    from experiments.present.figures import save_figure
    from experiments.present.figures.story import story_figure

    folder = Path(folder)
    write_text_atomic(folder / STORY_CSV, aligned_timeline(tale).to_csv(index=False))
    written = [folder / STORY_CSV]
    written += save_figure(story_figure(tale), folder / FIGURE_STEM)
    base = tale.scenario
    manifest = {
        "kind": "story",
        **CLAIM,
        **provenance(base, tale.seed, command),
        "changes": tale.changes,
        "alternative_scenario": build_scenario(base, tale.changes).model_dump(mode="json"),
        "alliance": tale.alliance,
        "parting_week": tale.parting_week,
        "endings": {
            world: {"outcome": end.outcome, "reason": end.reason, "week": end.week}
            for world, end in zip(WORLDS, (tale.baseline_end, tale.alternative_end))
        },
        "files": [path.name for path in written],
    }
    return [*written, write_manifest(folder, manifest)]


# --------------------------------------------------------------------------- command line


def add_story_command(subparsers: Subparsers) -> None:
    """Declare `alliance-sim story`."""
    parser = subparsers.add_parser(
        "story",
        allow_abbrev=False,
        help="replay one alliance in two worlds: the scenario as given and with --set changes",
        description="Run SCENARIO as given (baseline) and with the --set changes (alternative) from "
        "the same seed and follow one alliance through both: its meetings, issues, shocks and "
        "responses, manager changes, reviews and decisions, and trust, side by side by week, where "
        "the two worlds part, and how each ends.",
        epilog="DIR gets story.csv (week, baseline, alternative, same, baseline_trust, "
        "alternative_trust), story.png and story.svg (a figure for a slide) and manifest.json "
        "(provenance). The same seed always tells the same story. Guide: "
        "docs/how-to/tell-the-story-of-one-alliance.md.",
    )
    add_change_arguments(parser)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--alliance", type=int, metavar="ID", help="the alliance to follow, by id (0, 1, ...)")
    which.add_argument(
        "--pick",
        choices=PICKS,
        help="choose the alliance: flipped = the lowest id whose outcome differs between the worlds",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, metavar="S", help=f"random seed (default: {DEFAULT_SEED})"
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help=f"output folder (default: {RESULTS_DIR}/story-<scenario name>)",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    parser.set_defaults(handler=story_command)


def story_command(args: argparse.Namespace) -> int:
    """`alliance-sim story`: tell the story, print it, write its files."""
    seed = checked_seed(args.seed)
    changes = dict(parse_assignment(text) for text in args.assignments)
    base = load_scenario(args.scenario)
    check_changes(base, changes)
    folder = out_folder(args, f"story-{base.name}")
    tale = story(base, changes, alliance=args.alliance, pick=args.pick, seed=seed)
    claim(folder, **CLAIM, replace=True)  # a folder of another command's results is refused, untouched
    prepare_out_dir(folder)
    try:
        written = write_story(tale, folder, args.command_line)
    except OSError as exc:
        raise CliError(f"cannot write the story to {exc.filename or folder}: {exc.strerror or exc}") from None
    if not args.quiet:
        print(format_story(tale))
        print_written([path.name for path in written], folder)
    return True


# --------------------------------------------------------------------------- report section

#: At most this many rows of a story's timeline are shown in its report (all are in story.csv).
STORY_MAX_ROWS = 80


def report_section(folder: Path, manifest: Mapping[str, Any] | None) -> page.Section:
    """A story: the aligned timeline of one alliance in two worlds (the first rows), and the figure."""
    timeline = page.read_csv(folder, STORY_CSV)
    section = page.Section("story", "Story of one alliance in two worlds")
    head = timeline.head(STORY_MAX_ROWS)
    shown = head.astype(object).where(head.notna(), "")
    note = (
        f"first {STORY_MAX_ROWS} of {len(timeline)} rows; all are in {STORY_CSV}"
        if len(timeline) > STORY_MAX_ROWS
        else ""
    )
    section.tables.append(page.Table("Aligned timeline", shown.map(str), note))
    if "week" in timeline.columns and not timeline.empty:
        section.reading.append(
            f"The timeline has {len(timeline)} rows, from week {fmt.number(timeline['week'].min())} "
            f"to week {fmt.number(timeline['week'].max())}."
        )
    parting = (manifest or {}).get("parting_week", "absent")
    if parting is None:
        section.reading.append("The two worlds never part: the alliance lives the same life in both.")
    elif parting != "absent":
        section.reading.append(f"The two worlds part in week {parting}.")
    section.figures += page.folder_figures(folder)
    return section


STUDY = Study(
    name=CLAIM["study"],
    title=CLAIM["title"],
    heading="Story of one alliance",
    arguments=add_story_command,
    run=story_command,
    section=report_section,
    tables={STORY_CSV: TIMELINE_COLUMNS},
)
