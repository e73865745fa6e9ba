"""The study registry: every kind of study, by name, in the order the command line lists them.

A study is one module of this package defining `STUDY = Study(...)` (see `experiments.studies.base`);
to add one, write the module and list it in STUDY_MODULES (docs/how-to/add-a-study.md).
"""

from __future__ import annotations

import importlib
from functools import cache

from experiments.studies.base import Study

#: The modules of the studies, in the order `alliance-sim --help` lists their commands.
STUDY_MODULES: tuple[str, ...] = (
    "experiments.studies.run",
    "experiments.studies.sweep",
    "experiments.studies.validate",
    "experiments.studies.calibrate",
    "experiments.studies.compare",
    "experiments.studies.story",
    "experiments.studies.stress",
    "experiments.studies.discover",
    "experiments.studies.sensitivity",
)


@cache
def studies() -> dict[str, Study]:
    """Study name -> Study, every registered one (imported on first use)."""
    found: dict[str, Study] = {}
    for module_name in STUDY_MODULES:
        study = importlib.import_module(module_name).STUDY
        if study.name in found:
            raise ValueError(f"two studies are named {study.name!r}")
        found[study.name] = study
    return found


def study(name: str) -> Study:
    """The study called `name`; KeyError naming the known ones otherwise."""
    known = studies()
    if name not in known:
        raise KeyError(f"no study is called {name!r}; known: {', '.join(known)}")
    return known[name]
