"""How sensitive is each validation target to the main coefficients?

Runs the whole validation (every arm, common random numbers) once per perturbation of a main
coefficient, one at a time, and tabulates each target's measured value and verdict against the
calibrated defaults. The table in docs/VALIDATION.md comes from here:

    .venv/bin/python scripts/validation_sensitivity.py --replications 10 --out results/sensitivity

Each perturbation is a resumable results folder under OUT, so an interrupted run carries on.
Writes OUT/sensitivity.csv and OUT/sensitivity.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from experiments.engine.outputs import write_text_atomic
from experiments.studies.validate import format_measured, validate
from sim.schema import Scenario

#: (coefficient, step down, step up): the least certain coefficients behind the targets, moved one
#: at a time (docs/VALIDATION.md, sensitivity).
PERTURBATIONS = (
    ("coefficients.value.potential_sd", -0.15, +0.15),
    ("coefficients.reviews.trust_reference", -0.1, +0.1),
    ("coefficients.value.expectation_coordination", -0.04, +0.04),
    ("coefficients.learning.function_base_capability", -0.25, +0.2),
    ("coefficients.meetings.cost_in_person", -0.2, +0.2),
    ("coefficients.trust.observed_effort_gain", -0.03, +0.03),
)


def default_of(path: str) -> float:
    node = Scenario()
    for key in path.split("."):
        node = getattr(node, key)
    return node


def settings() -> list[tuple[str, dict]]:
    """('default', {}) and one (label, override) per end of each perturbation."""
    out: list[tuple[str, dict]] = [("calibrated defaults", {})]
    for path, down, up in PERTURBATIONS:
        base = default_of(path)
        for step in (down, up):
            value = type(base)(round(base + step, 4))
            out.append((f"{path.split('.')[-1]} = {value:g} (default {base:g})", {path: value}))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=25)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--out", type=Path, default=Path("results/sensitivity"))
    args = parser.parse_args()
    rows = []
    for number, (label, overrides) in enumerate(settings()):
        folder = args.out / f"setting-{number:02d}"
        report = validate(folder, replications=args.replications, workers=args.workers, overrides=overrides)
        for _, row in report.iterrows():
            rows.append(
                {
                    "setting": label,
                    "target": row["target"],
                    "measured": format_measured(row),
                    "passed": bool(row["passed"]),
                }
            )
        print(f"{label}: {int(report['passed'].sum())} of {len(report)} pass", flush=True)
    table = pd.DataFrame(rows)
    write_text_atomic(args.out / "sensitivity.csv", table.to_csv(index=False))
    wide = table.assign(
        cell=[f"{m} {'pass' if p else 'FAIL'}" for m, p in zip(table["measured"], table["passed"])]
    )
    wide = wide.pivot(index="target", columns="setting", values="cell")
    wide = wide.reindex(
        index=list(dict.fromkeys(table["target"])), columns=list(dict.fromkeys(table["setting"]))
    )
    lines = ["| target | " + " | ".join(wide.columns) + " |", "|---" * (len(wide.columns) + 1) + "|"]
    lines += [f"| {target} | " + " | ".join(row) + " |" for target, row in wide.iterrows()]
    write_text_atomic(args.out / "sensitivity.md", "\n".join(lines) + "\n")
    print(f"Written: {args.out / 'sensitivity.md'}")


if __name__ == "__main__":
    main()
