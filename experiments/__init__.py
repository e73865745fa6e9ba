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

from experiments.compare import compare
from experiments.discovery import discover, find_failure_boxes
from experiments.figures.trajectories import trust_bands, trust_trajectories
from experiments.provenance import provenance, write_json_atomic
from experiments.report import write_report
from experiments.runner import ClusterError
from experiments.sensitivity import analyze_indices, sensitivity
from experiments.spec import SpecError, load_spec
from experiments.stats import wilson_interval
from experiments.store import StoreError
from experiments.story import Story, format_story, story
from experiments.stress import rank_designs, stress_test
from experiments.sweep import (
    SweepInterrupted,
    load_events,
    load_outcomes,
    load_runs,
    load_timeseries,
    run_sweep,
    summarize,
)

__all__ = [
    "ClusterError",
    "Story",
    "SpecError",
    "StoreError",
    "SweepInterrupted",
    "analyze_indices",
    "compare",
    "discover",
    "find_failure_boxes",
    "format_story",
    "load_events",
    "load_outcomes",
    "load_runs",
    "load_spec",
    "load_timeseries",
    "provenance",
    "rank_designs",
    "run_sweep",
    "sensitivity",
    "story",
    "stress_test",
    "summarize",
    "trust_bands",
    "trust_trajectories",
    "wilson_interval",
    "write_json_atomic",
    "write_report",
]
