"""Write the notebooks in notebooks/ from the cells below, without outputs.

    .venv/bin/python scripts/make_notebooks.py            # rewrite every notebook
    .venv/bin/python scripts/make_notebooks.py 01         # only those whose name starts with 01

The notebooks are the source users open; this script only keeps them tidy (no outputs, no
execution counts, one kernel spec), so that a change to a notebook is a readable diff here. The
test suite (tests/test_notebooks.py) executes every notebook in notebooks/, whoever wrote it.
Each notebook keeps its runs small (a few dozen alliances, a few replications) so that it runs in
CI in well under a minute; the text says what a real study would use instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

#: Every notebook starts here: paths relative to the repository whether Jupyter was started in
#: the repository or in notebooks/.
SETUP = """from pathlib import Path

ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()
CONFIGS = ROOT / "configs"
SMALL = {"formation.n_alliances": 40, "firms.count": 60}  # a small cohort, so the notebook runs fast"""


def quickstart() -> list:
    return [
        new_markdown_cell(
            "# Quickstart: one run of the alliance model\n\n"
            "Run a scenario from Python, read what happened as pandas DataFrames (one row per "
            "alliance, one per week, one per event), and draw a first picture. Everything here "
            "is also available from the command line as `alliance-sim run`."
        ),
        new_code_cell(SETUP),
        new_markdown_cell(
            "## Run a scenario\n\n"
            "`load_scenario` reads a YAML scenario and applies overrides by dotted path; the "
            "schema checks every value. `AllianceModel` is a Mesa model: `rng` is its seed, and "
            "`run()` steps it week by week to the horizon."
        ),
        new_code_cell(
            "from sim import AllianceModel, load_scenario\n\n"
            'scenario = load_scenario(CONFIGS / "baseline.yaml", SMALL)\n'
            "model = AllianceModel(scenario, rng=1)\n"
            "model.run()\n"
            'print(f"{scenario.simulation.horizon_weeks} weeks simulated")'
        ),
        new_markdown_cell(
            "## Outcomes: one row per alliance\n\n"
            "Each alliance ends as `success` (its planned term reached with every partner's "
            "objectives met), `failure` (with a reason), `restructured`, or `censored` (still "
            "running at the horizon). The definition lives in one place, `sim/outcome.py`. The "
            "baseline follows its cohort for twelve years and planned terms are drawn around eight, "
            "so about a fifth of the alliances are still running at the end; success rates count "
            "decided alliances only. `governance_cost` and `net_value` are what governing the "
            "alliance cost its partners and what they kept after every cost, in value units."
        ),
        new_code_cell(
            "outcomes = model.outcomes()\n"
            'outcomes[["alliance_id", "kind", "duration_weeks", "outcome", "reason", "final_trust"]].head()'
        ),
        new_code_cell(
            'decided = outcomes[outcomes["outcome"] != "censored"]\n'
            'rate = (decided["outcome"] == "success").mean()\n'
            'print(f"success rate: {rate:.0%} of {len(decided)} decided")\n'
            'outcomes.groupby("outcome")["reason"].value_counts()'
        ),
        new_markdown_cell(
            "## Events: the story of one alliance\n\n"
            "The event log has one row per thing that happened: meetings, issues raised and "
            "resolved, shocks and the responses, managers leaving, reviews and decisions."
        ),
        new_code_cell(
            "events = model.events()\n"
            'first = events[events["alliance_id"] == 0]\n'
            'first[first["event"] != "trust"].head(15)'
        ),
        new_markdown_cell("## The time series: the whole cohort week by week"),
        new_code_cell(
            "import matplotlib.pyplot as plt\n\n"
            "series = model.timeseries()\n"
            "fig, ax = plt.subplots(figsize=(6.4, 3.6))\n"
            'ax.plot(series["week"], series["mean_trust"], label="mean organisational trust")\n'
            'active = series["active_alliances"] / len(outcomes)\n'
            'ax.plot(series["week"], active, label="share still active")\n'
            'ax.set_xlabel("week")\n'
            'ax.set_ylabel("share / trust (0-1)")\n'
            "ax.legend()\n"
            "plt.show()"
        ),
        new_markdown_cell(
            "Next: `02_trainers_counterfactuals.ipynb` changes one thing and replays the same "
            "alliances with the same luck; `04_researchers_sweep_and_sensitivity.ipynb` runs a "
            "replicated experiment."
        ),
    ]


def researchers() -> list:
    return [
        new_markdown_cell(
            "# Researchers: a replicated sweep, paired differences and a sensitivity analysis\n\n"
            "A sweep runs every design point of an experiment spec with replications on common "
            "random numbers into a resumable results folder. Here a small version of the "
            "ready-made meeting-frequency experiment; a real study keeps the spec's 20 "
            "replications and 200 alliances a run (`alliance-sim sweep "
            "configs/experiments/meeting_frequency.yaml`)."
        ),
        new_code_cell(SETUP + '\n\nimport tempfile\n\nWORK = Path(tempfile.mkdtemp(prefix="alliance-sim-"))'),
        new_code_cell(
            "from experiments import load_outcomes, load_runs, run_sweep, summarize\n\n"
            'folder = WORK / "meeting_frequency"\n'
            "runs = run_sweep(\n"
            '    CONFIGS / "experiments" / "meeting_frequency.yaml",\n'
            "    folder,\n"
            "    replications=3,\n"
            "    overrides=SMALL,\n"
            "    workers=1,\n"
            "    progress=False,\n"
            ")\n"
            'runs[["run_id", "point_id", "replication", "seed", "governance.meeting_interval_weeks",\n'
            '      "governance.meeting_mode", "status", "success_rate"]].head()'
        ),
        new_markdown_cell(
            "## One row per design point\n\n"
            "`summarize` pools the alliances of each point (success rate with a 95% Wilson "
            "interval, durations, failures by reason, mean governance cost and net value) and, "
            "because the spec names a reference point, adds the paired difference from it with a "
            "paired t interval."
        ),
        new_code_cell(
            "summary = summarize(folder, figures=False)\n"
            'summary[["governance.meeting_interval_weeks", "governance.meeting_mode", "success_rate",\n'
            '         "success_ci_low", "success_ci_high", "diff_success_rate", "diff_ci_low",\n'
            '         "diff_ci_high"]].round(3)'
        ),
        new_markdown_cell(
            "## Paired differences by hand\n\n"
            "Replication *r* of every point shares its random streams, so the difference between "
            "two points is computed replication by replication. The same interval from "
            "`experiments.analysis.stats.paired_difference`:"
        ),
        new_code_cell(
            "from experiments.analysis.stats import paired_difference\n\n"
            'def rates(interval, mode):\n'
            '    chosen = runs[(runs["governance.meeting_interval_weeks"] == interval)\n'
            '                  & (runs["governance.meeting_mode"] == mode)]\n'
            '    return chosen.sort_values("replication")["success_rate"].to_numpy(dtype=float)\n\n'
            'paired_difference(rates(4, "mixed"), rates(2, "in_person"))'
        ),
        new_markdown_cell("## Survival of alliances by meeting mode (Kaplan-Meier, censoring handled)"),
        new_code_cell(
            "from experiments.analysis.summary import survival_by\n"
            "from experiments.present.figures import survival_curves\n\n"
            'outcomes = load_outcomes(folder)\n'
            'points = runs.drop_duplicates("point_id").set_index("point_id")\n'
            'outcomes["mode"] = outcomes["point_id"].map(points["governance.meeting_mode"])\n'
            'curves = survival_by(outcomes, "mode")\n'
            "survival_curves(curves)"
        ),
        new_markdown_cell(
            "## Sensitivity: Sobol and Morris indices\n\n"
            "Which levers matter, and do they interact? The seed articles claim incentives work "
            "only with consistent leadership messages: an interaction, which the second-order "
            "Sobol index S2 can show. A tiny sample here (the spec's default is larger, and a "
            "study wants more still)."
        ),
        new_code_cell(
            "from experiments.studies.sensitivity import sensitivity\n\n"
            "indices = sensitivity(\n"
            '    CONFIGS / "sensitivity" / "incentives_leadership.yaml",\n'
            '    WORK / "sensitivity",\n'
            "    samples=8,\n"
            "    overrides=SMALL,\n"
            "    workers=1,\n"
            "    figures=False,\n"
            "    progress=False,\n"
            ")\n"
            "indices.round(3)"
        ),
        new_markdown_cell(
            "With 8 base samples the intervals (`ci`) are wide: read the table for its layout, "
            "then run `alliance-sim sensitivity configs/sensitivity/incentives_leadership.yaml` "
            "for numbers worth reading."
        ),
    ]


def small_copy() -> str:
    """Cell text: a small copy of the baseline in WORK, for specs that name their scenario file."""
    return (
        "import tempfile\n\n"
        "import yaml\n\n"
        'WORK = Path(tempfile.mkdtemp(prefix="alliance-sim-"))\n'
        'baseline = yaml.safe_load((CONFIGS / "baseline.yaml").read_text())\n'
        'baseline["formation"]["n_alliances"] = SMALL["formation.n_alliances"]\n'
        'baseline["firms"]["count"] = SMALL["firms.count"]\n'
        'SMALL_BASELINE = WORK / "small_baseline.yaml"\n'
        "SMALL_BASELINE.write_text(yaml.safe_dump(baseline))"
    )


def trainers() -> list:
    return [
        new_markdown_cell(
            "# Trainers: the same alliances, the same luck, one thing done differently\n\n"
            "A counterfactual runs a scenario twice on common random numbers: replication *r* of "
            "both worlds draws the same shocks, the same turnover, the same cultures. Only the "
            "lever you change differs, so every difference is its doing. Here: what does a "
            "dedicated alliance function in every firm change? (Small runs; the command "
            "`alliance-sim compare configs/baseline.yaml --set firms.alliance_function=central_function` "
            "uses 200 alliances and 60 replications.)"
        ),
        new_code_cell(SETUP + '\n\nimport tempfile\n\nWORK = Path(tempfile.mkdtemp(prefix="alliance-sim-"))'),
        new_code_cell(
            "from sim import load_scenario\n"
            "from experiments.studies.compare import compare\n\n"
            'scenario = load_scenario(CONFIGS / "baseline.yaml", SMALL)\n'
            'change = {"firms.alliance_function": "central_function"}\n'
            'table = compare(scenario, change, replications=6, out=WORK / "compare", workers=1)\n'
            "table.round(3)"
        ),
        new_markdown_cell(
            "Each row: the metric in the baseline world, in the alternative, and the paired "
            "difference with its 95% interval (an interval that excludes zero is a difference the "
            "luck of the draw does not explain). The function is not free: the governance cost "
            "rows show its price, and the net value rows what the alliances keep after it. How "
            "many alliances changed outcome, and which way:"
        ),
        new_code_cell('table.attrs["flips"]'),
        new_code_cell(
            "from IPython.display import Image\n\n"
            'Image(filename=str(WORK / "compare" / "comparison.png"))'
        ),
        new_markdown_cell(
            "## The story of one alliance in both worlds\n\n"
            "Pick an alliance whose ending changes, replay it in both worlds from the same seed, "
            "and read its timelines side by side: where the worlds part, and how each ends."
        ),
        new_code_cell(
            "from experiments.studies.story import format_story, story\n\n"
            'tale = story(scenario, change, pick="flipped", seed=0)\n'
            "print(format_story(tale))"
        ),
        new_code_cell(
            "from experiments.present.figures.story import story_figure\n\n"
            "story_figure(tale)"
        ),
        new_markdown_cell(
            "For the room: `alliance-sim story configs/baseline.yaml --set firms.alliance_function="
            "central_function --pick flipped --out results/story` writes `story.png` for a slide, "
            "and `alliance-sim dashboard` runs two settings side by side, live."
        ),
    ]


def strategists() -> list:
    return [
        new_markdown_cell(
            "# Strategists: which governance design holds up when conditions turn bad?\n\n"
            "A stress test runs every governance design (a bundle of levers) in every stress "
            "scenario (culture clash, manager churn, market turbulence, an opportunistic partner, "
            "all at once) on common random numbers, and ranks the designs by their worst case and by "
            "their regret: how far each falls short of the best design in each scenario. Here with a "
            "small cohort and 3 replications; the real thing is `alliance-sim stress "
            "configs/stress/governance.yaml` (720 runs, about a minute on 2 idle cores). Each cell "
            "also reports the governance cost and net value per alliance, with a regret on net "
            "value, so a design can be judged on what it costs as well as on how often it succeeds."
        ),
        new_code_cell(SETUP + "\n\n" + small_copy()),
        new_markdown_cell(
            "The shipped spec, pointed at the small baseline. Read the designs and scenarios it "
            "defines; edit them to test your own."
        ),
        new_code_cell(
            'spec = yaml.safe_load((CONFIGS / "stress" / "governance.yaml").read_text())\n'
            'spec["scenario"] = str(SMALL_BASELINE)\n'
            'spec["replications"] = 3\n'
            'spec_path = WORK / "stress.yaml"\n'
            "spec_path.write_text(yaml.safe_dump(spec))\n"
            'print("designs:", ", ".join(spec["designs"]))\n'
            'print("scenarios:", ", ".join(spec["scenarios"]))'
        ),
        new_code_cell(
            "from experiments.studies.stress import rank_designs, stress_test\n\n"
            'folder = WORK / "stress"\n'
            "table = stress_test(spec_path, out=folder, workers=1)\n"
            'table.pivot(index="design", columns="scenario", values="success_rate").round(2)'
        ),
        new_markdown_cell(
            "Regret is zero for the best design in each scenario. The ranking orders designs by "
            "their worst case (max-min) and by mean regret, counts the scenarios each design is "
            "best in, and ranks them by net value too. With the shipped spec at full size no design "
            "is best everywhere: `people_first` succeeds most often in normal conditions and three "
            "of the single stresses, `best_practice` under market turbulence and in the perfect "
            "storm, and keeps the most net value in every scenario at more than twice the "
            "governance cost (docs/how-to/stress-test-governance-designs.md). A small cohort with "
            "3 replications can rank them differently."
        ),
        new_code_cell("rank_designs(table)"),
        new_code_cell(
            "from IPython.display import Image\n\n"
            'Image(filename=str(folder / "stress.png"))'
        ),
        new_markdown_cell(
            "Where does a design fail? `alliance-sim discover configs/discovery/alliance_function.yaml` "
            "samples the uncertain conditions and finds, with PRIM, the region where the design "
            "fails, as a readable rule with its coverage and density (see "
            "docs/how-to/find-where-a-design-fails.md)."
        ),
    ]


NOTEBOOK_CELLS = {
    "01_quickstart.ipynb": quickstart,
    "02_trainers_counterfactuals.ipynb": trainers,
    "03_strategists_stress_test.ipynb": strategists,
    "04_researchers_sweep_and_sensitivity.ipynb": researchers,
}


def write(name: str, cells: list) -> Path:
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    path = NOTEBOOKS / name
    nbformat.validate(notebook)
    path.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
    return path


def main(prefixes: list[str]) -> None:
    NOTEBOOKS.mkdir(exist_ok=True)
    for name, cells in NOTEBOOK_CELLS.items():
        if not prefixes or any(name.startswith(prefix) for prefix in prefixes):
            print(f"Written: {write(name, cells()).relative_to(NOTEBOOKS.parent)}")


if __name__ == "__main__":
    main(sys.argv[1:])
