"""The old module names of `experiments`, as aliases of the modules that replaced them.

Before the package was split into layers, `experiments` held one module per topic
(`experiments.sweep`, `experiments.stats`, `experiments.figures.story`, ...). Users' scripts and
notebooks import them, so every old name still imports, and gives the very module object that
replaced it: `import experiments.sweep` is `experiments.studies.sweep`, and
`experiments.figures.story` is `experiments.present.figures.story`.

One finder on `sys.meta_path` (`AliasFinder`, installed by `experiments/__init__.py`) does it: it
answers only for the names of `ALIASES` and the submodules of the aliased packages, and hands
back the new module, which keeps its own name and spec.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

PACKAGE = __name__.partition(".")[0]  # "experiments"
#: Old module name (in PACKAGE) -> the module that replaced it (a package's submodules follow it).
ALIASES: dict[str, str] = {
    "calibration": "experiments.studies.calibrate",
    "cluster": "experiments.engine.cluster",
    "compare": "experiments.studies.compare",
    "designs": "experiments.engine.designs",
    "discovery": "experiments.studies.discover",
    "figures": "experiments.present.figures",
    "outputs": "experiments.engine.outputs",
    "provenance": "experiments.engine.provenance",
    "runner": "experiments.engine.runner",
    "sensitivity": "experiments.studies.sensitivity",
    "spec": "experiments.engine.spec",
    "stats": "experiments.analysis.stats",
    "store": "experiments.engine.store",
    "story": "experiments.studies.story",
    "stress": "experiments.studies.stress",
    "sweep": "experiments.studies.sweep",
    "validation": "experiments.studies.validate",
}


def target(name: str) -> str | None:
    """The module that replaced the old module `name` (or a submodule of an old package), or None."""
    package, _, rest = name.partition(".")
    if package != PACKAGE or not rest:
        return None
    old, _, sub = rest.partition(".")
    new = ALIASES.get(old)
    if new is None:
        return None
    return f"{new}.{sub}" if sub else new


class AliasLoader(importlib.abc.Loader):
    """Loads an old name as the module that replaced it (imported under its own name first)."""

    def __init__(self, new: str):
        self.new = new
        self.spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self.new)
        self.spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # the import system has set the alias's spec on the module: give it back its own
        module.__spec__ = self.spec


class AliasFinder(importlib.abc.MetaPathFinder):
    """Finds the old module names of `ALIASES` (see the module docstring)."""

    def find_spec(self, fullname, path=None, target_module=None):
        new = target(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, AliasLoader(new))


def install() -> None:
    """Put the finder on sys.meta_path, once."""
    if not any(isinstance(finder, AliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, AliasFinder())
