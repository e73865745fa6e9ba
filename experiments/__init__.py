"""Experiments on the alliance model: sweeps, their results store and analysis, and the command line.

    from experiments import run_sweep, load_runs, load_outcomes, summarize
    runs = run_sweep("configs/experiments/governance.yaml", "results/governance")

`experiments.spec` reads experiment specs, `experiments.designs` makes design points (one module
per design), `experiments.runner` executes runs, `experiments.store` is the results folder,
`experiments.sweep` puts them together, `experiments.analysis` and `experiments.stats` hold the
statistics, `experiments.figures` the plots, `experiments.cli` the `alliance-sim` command line,
`experiments.outputs` and `experiments.provenance` the files of a single run.
"""

from experiments.provenance import provenance, write_json_atomic
from experiments.spec import SpecError, load_spec
from experiments.stats import wilson_interval
from experiments.store import StoreError
from experiments.sweep import (
    load_events,
    load_outcomes,
    load_runs,
    load_timeseries,
    run_sweep,
    summarize,
)

__all__ = [
    "SpecError",
    "StoreError",
    "load_events",
    "load_outcomes",
    "load_runs",
    "load_spec",
    "load_timeseries",
    "provenance",
    "run_sweep",
    "summarize",
    "wilson_interval",
    "write_json_atomic",
]
