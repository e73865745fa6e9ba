"""A self-contained HTML report of any result folder: what was run, the headline table, the figures
and a plain-language reading of the numbers.

    alliance-sim report results/meeting_frequency        # writes results/meeting_frequency/report.html

    from experiments.report import write_report
    write_report("results/meeting_frequency")

This module is the page shell. It asks the store which study wrote the folder (the `study` its
manifest records; for folders written before that was recorded, `experiments.engine.store.study_of`
derives it, in that one place), asks that study, through the registry, for its section (its
headline tables, reading and figures, built from the folder's data: a sweep's figures are
redrawn when older than its runs), and adds what was run, from the manifest: scenario, factors,
seeds, commands, versions, commit.

Figures drawn for the page are embedded only, and a second report of the same folder gives the
same bytes: nothing in the page depends on the time it was made, only on the folder's files
(dates shown come from manifest.json). There is no external stylesheet, script, font or image,
so the page opens in any browser offline.
"""

from __future__ import annotations

import base64
import html
import json
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from experiments.engine.store import MANIFEST, folder_study, read_manifest
from experiments.present.page import (  # noqa: F401 (the names the report module had)
    FIGURE_DPI,
    FIGURES_DIR,
    ReportError,
    Section,
    Table,
    folder_figures,
    level,
    png_bytes,
    read_csv,
)
from experiments.present.text import (  # noqa: F401 (the names the report module had)
    CONFIDENCE_NOTE,
    excludes_zero,
    number,
    percent,
    percent_interval,
    points,
    points_interval,
    shortfall,
    signed_interval,
    words,
)
from experiments.studies.base import PROG, Study
from experiments.studies.registry import studies

REPORT_HTML = "report.html"
#: The old name of a report's content.
Content = Section


def reportable() -> dict[str, Study]:
    """The studies whose folders have a report section, by name."""
    return {name: study for name, study in studies().items() if study.section is not None}


def expected() -> str:
    """What a result folder is, for a message about one that is not: each study and its files."""
    return ", ".join(
        f"{study.title.split(' (')[0]} ({', '.join([MANIFEST, *(study.tables or {})])})"
        for study in reportable().values()
    )


def detect_kind(folder: str | Path) -> str:
    """The study whose results `folder` holds (see the module docstring); ReportError if none."""
    folder = Path(folder)
    if not folder.exists():
        raise ReportError(f"result folder not found: {folder}")
    if not folder.is_dir():
        raise ReportError(f"{folder} is a file; give a result folder: {expected()}")
    name = folder_study(folder)
    if name not in reportable():
        raise ReportError(
            f"{folder} is not a result folder alliance-sim can report on; expected {expected()}"
        )
    return name


def report_content(folder: str | Path) -> Section:
    """Everything the report of `folder` shows; ReportError if it is no result folder."""
    folder = Path(folder)
    study = reportable()[detect_kind(folder)]
    manifest = read_manifest(folder)
    section = study.section(folder, manifest)
    section.heading = study.heading
    section.provenance = provenance_rows(study.heading, manifest)
    section.details = scenario_details(manifest) + section.details
    return section


# --------------------------------------------------------------------------- what was run


def _environment(manifest: Mapping[str, Any]) -> Mapping[str, Any]:
    """The software record: the manifest's own, or its last invocation's."""
    if "python" in manifest:
        return manifest
    invocations = manifest.get("invocations") or [{}]
    return invocations[-1]


def _factor_text(spec: Mapping[str, Any]) -> str:
    if spec.get("levels") is not None:
        distinct = dict.fromkeys(level(v) for v in spec["levels"])  # a points design repeats levels
        return "levels " + ", ".join(distinct)
    if spec.get("range") is not None:
        low, high = spec["range"]
        return f"range {level(low)} to {level(high)}"
    return json.dumps(spec, sort_keys=True)


def provenance_rows(heading: str, manifest: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(label, value) rows saying what was run, from the folder's manifest; `heading` is the kind."""
    if manifest is None:
        return [("provenance", f"no {MANIFEST} in the folder: how it was made is not recorded")]
    rows: list[tuple[str, str]] = [("kind", heading)]
    experiment = manifest.get("experiment", {})
    spec = experiment.get("spec") or manifest.get("spec") or {}
    scenario = manifest.get("scenario") or experiment.get("base_scenario") or {}
    if manifest.get("name"):
        rows.append(("name", str(manifest["name"])))
    if scenario.get("name"):
        rows.append(
            (
                "scenario",
                str(scenario["name"])
                + (f": {scenario['description']}" if scenario.get("description") else ""),
            )
        )
    elif spec.get("scenario"):
        rows.append(("scenario", str(spec["scenario"])))
    for path, factor in (spec.get("factors") or spec.get("parameters") or {}).items():
        rows.append((f"factor {path}", _factor_text(factor) if isinstance(factor, Mapping) else str(factor)))
    if spec.get("design"):
        rows.append(("design", str(spec["design"].get("kind"))))
    if spec.get("methods"):
        rows.append(("methods", ", ".join(map(str, spec["methods"]))))
    for key in ("points", "replications", "runs_total", "runs_done"):
        if key in manifest:
            rows.append((key.replace("_", " "), _plain(manifest[key])))
    if "seed" in manifest:
        rows.append(("seed", str(manifest["seed"])))
    for key, value in (manifest.get("seeds") or {}).items():
        rows.append((f"seeds: {key.replace('_', ' ')}", str(value)))
    for key in ("created", "started", "finished"):
        if manifest.get(key):
            rows.append((key, str(manifest[key])))
    commands = [manifest["command"]] if manifest.get("command") else []
    commands += [inv["command"] for inv in manifest.get("invocations", []) if inv.get("command")]
    for command in commands:
        rows.append(("command", shlex.join(map(str, command))))
    env = _environment(manifest)
    if env.get("alliance_sim_version"):
        rows.append(("alliance-sim", str(env["alliance_sim_version"])))
    if env.get("python"):
        rows.append(("Python", f"{env['python']} on {env.get('platform', 'unknown platform')}"))
    packages = env.get("packages") or {}
    if packages:
        rows.append(("packages", ", ".join(f"{name} {version}" for name, version in packages.items())))
    commit = env.get("git_commit")
    dirty = " (with uncommitted changes)" if env.get("git_dirty") else ""
    rows.append(("commit", f"{commit}{dirty}" if commit else "not recorded (not run from a git checkout)"))
    return rows


def scenario_details(manifest: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """The resolved scenario (or spec) as YAML, to unfold at the end of the page."""
    if manifest is None:
        return []
    experiment = manifest.get("experiment", {})
    blocks = []
    scenario = manifest.get("scenario") or experiment.get("base_scenario")
    if scenario:
        blocks.append(("resolved scenario (every value the runs used)", _yaml(scenario)))
    spec = experiment.get("spec") or manifest.get("spec")
    if spec:
        blocks.append(("specification as resolved", _yaml(spec)))
    return blocks


def _plain(value: Any) -> str:
    """A manifest value as text: a mapping as 'ok 12, failed 1', anything else as str."""
    if isinstance(value, Mapping):
        return ", ".join(f"{key} {item}" for key, item in value.items())
    return str(value)


def _yaml(content: Any) -> str:
    return yaml.safe_dump(content, sort_keys=False, allow_unicode=True)


# --------------------------------------------------------------------------- HTML

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 62rem;
       margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
.kind { color: #555; margin-top: 0; }
.reading p { font-size: 1.05rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
.note { color: #555; font-size: 0.85rem; }
figure { margin: 1rem 0; }
figure img { max-width: min(100%, 44rem); height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.9rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; font-size: 0.9rem; }
dt { font-weight: 600; }
dd { margin: 0; word-break: break-word; }
pre { background: #f7f7f7; padding: 0.6rem; overflow-x: auto; font-size: 0.8rem; }
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def table_html(table: Table) -> str:
    """One table: its caption, header and cells, every string escaped."""
    head = "".join(f"<th>{_e(name)}</th>" for name in table.cells.columns)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>"
        for row in table.cells.itertuples(index=False)
    )
    note = f'\n<p class="note">{_e(table.note)}</p>' if table.note else ""
    return f"<table>\n<caption>{_e(table.caption)}</caption>\n<tr>{head}</tr>\n{body}\n</table>{note}"


def figure_html(caption: str, png: bytes) -> str:
    """One figure, its PNG embedded as base64."""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img alt="{_e(caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def render(content: Section, folder_name: str) -> str:
    """The whole page as one string."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(content.title)} - alliance-sim report</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(content.title)}</h1>",
        f'<p class="kind">{_e(content.heading)} report of the folder {_e(folder_name)}, '
        f"made by {PROG} report</p>",
        '<h2>What the result says</h2>\n<div class="reading">',
        *(f"<p>{_e(line)}</p>" for line in content.reading),
        "</div>",
        "<h2>Headline table</h2>",
        *(table_html(table) for table in content.tables),
    ]
    if content.figures:
        parts.append("<h2>Figures</h2>")
        parts += [figure_html(caption, png) for caption, png in content.figures]
    parts.append("<h2>What was run</h2>\n<dl>")
    parts += [f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>" for label, value in content.provenance]
    parts.append("</dl>")
    for summary, text in content.details:
        parts.append(f"<details><summary>{_e(summary)}</summary>\n<pre>{_e(text)}</pre>\n</details>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def build_report(folder: str | Path) -> str:
    """The HTML of the report of `folder` (see the module docstring), without writing it."""
    folder = Path(folder)
    return render(report_content(folder), folder.resolve().name)


def write_report(folder: str | Path) -> Path:
    """Write `folder`/report.html (see the module docstring) and return its path.

    Raises ReportError (a StoreError) when the folder is not a result folder, a headline file
    lacks its documented columns, or the page cannot be written.
    """
    from experiments.engine.outputs import write_text_atomic

    folder = Path(folder)
    page = build_report(folder)
    path = folder / REPORT_HTML
    try:
        write_text_atomic(path, page)
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def heading_of(folder: str | Path) -> str:
    """What kind of result `folder` holds, as the report's kind line says it ("Sweep")."""
    return reportable()[detect_kind(folder)].heading
