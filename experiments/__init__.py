"""Experiments on the alliance model: sweeps, their results store and analysis, and the command line.

    from experiments import run_sweep, load_runs, load_outcomes, summarize
    runs = run_sweep("configs/experiments/governance.yaml", "results/governance")

    from experiments import stress_test, rank_designs, discover, sensitivity
    table = stress_test("configs/stress/governance.yaml", out="results/stress")

`experiments.spec` reads experiment specs, `experiments.designs` makes design points (one module
per design), `experiments.runner` executes runs, `experiments.store` is the results folder,
`experiments.sweep` puts them together, `experiments.analysis` and `experiments.stats` hold the
statistics, `experiments.figures` the plots, `experiments.cli` the `alliance-sim` command line,
`experiments.outputs` and `experiments.provenance` the files of a single run. One module per
experiment kind: `compare` and `story` (counterfactuals), `validation`, `calibration`, `stress`,
`discovery` (PRIM), `sensitivity` (Sobol, Morris), `report` (HTML); `cluster` runs sweeps on Dask.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> the module that defines it. Imported on first use (PEP 562), so that a worker
#: process importing `experiments.runner` does not also import every experiment kind, the report
#: and the command line: that would add about a second to every worker's start.
EXPORTS: dict[str, str] = {
    "ClusterError": "experiments.runner",
    "SpecError": "experiments.spec",
    "StoreError": "experiments.store",
    "Story": "experiments.story",
    "SweepInterrupted": "experiments.sweep",
    "analyze_indices": "experiments.sensitivity",
    "compare": "experiments.compare",
    "discover": "experiments.discovery",
    "find_failure_boxes": "experiments.discovery",
    "format_story": "experiments.story",
    "load_events": "experiments.sweep",
    "load_outcomes": "experiments.sweep",
    "load_runs": "experiments.sweep",
    "load_spec": "experiments.spec",
    "load_timeseries": "experiments.sweep",
    "provenance": "experiments.provenance",
    "rank_designs": "experiments.stress",
    "run_sweep": "experiments.sweep",
    "sensitivity": "experiments.sensitivity",
    "story": "experiments.story",
    "stress_test": "experiments.stress",
    "summarize": "experiments.sweep",
    "trust_bands": "experiments.figures.trajectories",
    "trust_trajectories": "experiments.figures.trajectories",
    "wilson_interval": "experiments.stats",
    "write_json_atomic": "experiments.provenance",
    "write_report": "experiments.report",
}

__all__ = sorted(EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in EXPORTS:
        raise AttributeError(f"module 'experiments' has no attribute {name!r}")
    value = getattr(importlib.import_module(EXPORTS[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(EXPORTS))
