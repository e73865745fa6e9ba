"""The golden set: a few runs and one study whose outputs pin the model's results.

Each case is a scenario (the baseline file with dotted overrides) and a seed; `fingerprint`
reduces a run's tables to a small, exact record (row counts, outcome counts and a SHA-256 of each
table written as text with every float at 12 significant digits). The study case is a small
paired comparison through the experiment engine (common random numbers, the results store), so a
change in how studies seed, store or read their runs shows here too.

`tests/test_golden.py` reruns every case and compares it with `tests/golden/golden.json`. A change
that alters results on purpose rewrites that file in the same commit (and says why in the
message) with

    .venv/bin/python tests/golden/cases.py --write

A refactor must leave the file untouched.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).with_name("golden.json")
BASELINE = ROOT / "configs" / "baseline.yaml"

#: name -> (scenario file, overrides by dotted path, seed)
RUN_CASES: dict[str, tuple[Path, dict, int]] = {
    "baseline_seed1": (BASELINE, {}, 1),
    "baseline_seed7": (BASELINE, {}, 7),
    "ongoing": (
        ROOT / "configs" / "ongoing.yaml",
        {"simulation.horizon_weeks": 260},
        3,
    ),
    "multi_partner": (
        BASELINE,
        {
            "formation.n_alliances": 120,
            "formation.multi_partner_share": 0.6,
            "formation.max_partners": 4,
            "firms.alliance_function": {"none": 0.5, "central_function": 0.3, "community_of_practice": 0.2},
        },
        11,
    ),
    "storm": (
        BASELINE,
        {
            "formation.n_alliances": 120,
            "managers.turnover_per_year": 0.5,
            "environment.shock_rate_per_year": 2.0,
            "environment.shock_severity": 0.6,
            "firms.opportunistic_share": 0.3,
            "governance.review_interval_weeks": 4,
            "governance.conflict_resolution": "escalation",
            "governance.steering_committee": True,
            "governance.meeting_mode": "virtual",
            "governance.risk_clinic": "periodic",
        },
        5,
    ),
}

#: the study case: a paired comparison of the baseline against an alliance function
COMPARE_CASE = {
    "changes": {"firms.alliance_function": "central_function"},
    "replications": 3,
    "seed": 2,
    "overrides": {"formation.n_alliances": 80, "firms.count": 120},
}

#: columns that describe how a run went on this machine, not what it computed
MACHINE_COLUMNS = {"seconds", "error", "worker", "started", "finished", "host"}


def table_digest(frame: pd.DataFrame) -> str:
    """SHA-256 of a table written as CSV with floats at 12 significant digits."""
    text = frame.to_csv(index=False, float_format="%.12g", lineterminator="\n")
    return hashlib.sha256(text.encode()).hexdigest()


def describe(frame: pd.DataFrame) -> dict:
    """A table's record: rows, digest and (for outcome tables) its counts by outcome and reason."""
    record: dict = {"rows": int(len(frame)), "sha256": table_digest(frame)}
    if "outcome" in frame.columns:
        record["outcomes"] = {str(k): int(v) for k, v in sorted(frame["outcome"].value_counts().items())}
    if "reason" in frame.columns:
        reasons = frame["reason"].dropna().value_counts()
        record["reasons"] = {str(k): int(v) for k, v in sorted(reasons.items())}
    return record


def run_case(name: str) -> dict:
    """Run one run case and return its record (outcomes, time series and events)."""
    from sim import AllianceModel, load_scenario

    path, overrides, seed = RUN_CASES[name]
    model = AllianceModel(load_scenario(path, overrides), rng=seed).run()
    return {
        "seed": seed,
        "weeks": int(model.week),
        "outcomes": describe(model.outcomes()),
        "timeseries": describe(model.timeseries()),
        "events": describe(model.events()),
    }


def compare_case() -> dict:
    """Run the study case through the engine (one worker) and return its record."""
    from experiments import compare, load_outcomes, load_runs
    from sim import load_scenario

    case = COMPARE_CASE
    scenario = load_scenario(BASELINE, case["overrides"])
    with tempfile.TemporaryDirectory(prefix="alliance-sim-golden-") as scratch:
        folder = Path(scratch) / "compare"
        table = compare(
            scenario,
            case["changes"],
            replications=case["replications"],
            seed=case["seed"],
            out=folder,
            workers=1,
            figure=False,
            command=["golden"],
        )
        runs = load_runs(folder)
        runs = runs[[c for c in runs.columns if c not in MACHINE_COLUMNS]]
        runs = runs.sort_values(["point_id", "replication"], ignore_index=True)
        outcomes = load_outcomes(folder).sort_values(["run_id", "alliance_id"], ignore_index=True)
    return {
        "runs": describe(runs),
        "outcomes": describe(outcomes),
        "comparison": describe(table.reset_index(drop=True)),
    }


def compute_all() -> dict:
    record = {name: run_case(name) for name in RUN_CASES}
    record["compare_alliance_function"] = compare_case()
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compute the golden set; --write stores it.")
    parser.add_argument("--write", action="store_true", help=f"rewrite {GOLDEN.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    record = compute_all()
    text = json.dumps(record, indent=1, sort_keys=True) + "\n"
    if args.write:
        GOLDEN.write_text(text)
        print(f"wrote {GOLDEN.relative_to(ROOT)}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
