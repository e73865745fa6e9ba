"""Experiments on the alliance model: sweeps, their results store and analysis, and the command line.

    from experiments import run_sweep, load_runs, load_outcomes, summarize
    runs = run_sweep("configs/experiments/governance.yaml", "results/governance")

    from experiments import stress_test, rank_designs, discover, sensitivity
    table = stress_test("configs/stress/governance.yaml", out="results/stress")

The package is in layers, each importing only the ones before it (tests/test_layers.py):
`experiments.engine` (specs, designs, runner, cluster, sweep, results store, provenance),
`experiments.analysis` (statistics on the runs), `experiments.present` (text formats and figures),
`experiments.studies` (one module per kind of study, each registered by name), and on top
`experiments.report` (HTML), `experiments.dashboard` (the workshop page) and `experiments.cli`.
The old module names (`experiments.sweep`, `experiments.stats`, `experiments.figures`, ...) are
aliases of the modules that replaced them (`experiments._aliases`).

Four old module names are also public functions: `compare`, `story`, `sensitivity` and
`provenance`. `from experiments import compare` is always the function, even after
`import experiments.compare` (which would otherwise set the package's attribute to the module).
"""


from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

from experiments import _aliases

_aliases.install()

#: Public name -> the module that defines it. Imported on first use (PEP 562), so that a worker
#: process importing `experiments.engine.runner` does not also import every study, the report
#: and the command line: that would add about a second to every worker's start.
EXPORTS: dict[str, str] = {
    "ClusterError": "experiments.engine.runner",
    "SpecError": "experiments.engine.spec",
    "StoreError": "experiments.engine.store",
    "Story": "experiments.studies.story",
    "SweepInterrupted": "experiments.engine.sweep",
    "analyze_indices": "experiments.studies.sensitivity",
    "compare": "experiments.studies.compare",
    "discover": "experiments.studies.discover",
    "find_failure_boxes": "experiments.studies.discover",
    "format_story": "experiments.studies.story",
    "load_events": "experiments.engine.sweep",
    "load_outcomes": "experiments.engine.sweep",
    "load_runs": "experiments.engine.sweep",
    "load_spec": "experiments.engine.spec",
    "load_timeseries": "experiments.engine.sweep",
    "provenance": "experiments.engine.provenance",
    "rank_designs": "experiments.studies.stress",
    "run_sweep": "experiments.studies.sweep",
    "sensitivity": "experiments.studies.sensitivity",
    "story": "experiments.studies.story",
    "stress_test": "experiments.studies.stress",
    "summarize": "experiments.studies.sweep",
    "trust_bands": "experiments.present.figures.trajectories",
    "trust_trajectories": "experiments.present.figures.trajectories",
    "wilson_interval": "experiments.analysis.stats",
    "write_json_atomic": "experiments.engine.provenance",
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


class _Package(ModuleType):
    """The package's module type: importing a submodule does not replace a public function
    of the same name (`compare`, `story`, `sensitivity`, `provenance`) with the module."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in EXPORTS and isinstance(value, ModuleType):
            return  # the import system setting the submodule as an attribute; the function stays
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
