"""The old module names of `experiments` still import, as the modules that replaced them.

tests/old_module_names.json lists every module of `experiments` before it was split into layers
(commit ac1e9cb) with its public top-level names (functions, classes, constants; generated from
that commit's files with `ast`). Each must import and expose those names; an alias must be the
very module object of its new home. The imports written in the docs, notebooks, scripts,
benchmarks and README are checked as written.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from experiments import _aliases

ROOT = Path(__file__).resolve().parents[1]
OLD_NAMES: dict[str, list[str]] = json.loads((ROOT / "tests" / "old_module_names.json").read_text())
DOCUMENTED = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "notebooks").glob("*.ipynb")]
DOCUMENTED += [*(ROOT / "scripts").glob("*.py"), *(ROOT / "benchmarks").glob("*.py")]
FROM_IMPORT = re.compile(r"from (experiments(?:\.\w+)*) import ([\w, ]+)")
PLAIN_IMPORT = re.compile(r"^\s*\"?import (experiments(?:\.\w+)*)", re.MULTILINE)


@pytest.mark.parametrize("old", sorted(OLD_NAMES))
def test_every_old_module_imports_and_exposes_its_names(old):
    module = importlib.import_module(old)
    missing = [name for name in OLD_NAMES[old] if not hasattr(module, name)]
    assert missing == []


@pytest.mark.parametrize("old", sorted(f"experiments.{name}" for name in _aliases.ALIASES))
def test_an_alias_is_the_new_module_itself(old):
    new = _aliases.target(old)
    module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    assert module.__name__ == new and module.__spec__.name == new  # it keeps its own identity
    assert sys.modules[old] is module


def test_a_submodule_of_an_old_package_is_its_new_submodule():
    from experiments.present.figures import story as new_story

    assert importlib.import_module("experiments.figures.story") is new_story
    assert importlib.import_module("experiments.designs.grid") is importlib.import_module(
        "experiments.engine.designs.grid"
    )


def documented_imports() -> list[tuple[str, str, tuple[str, ...]]]:
    found = []
    for path in DOCUMENTED:
        text = path.read_text(encoding="utf-8")
        for module, names in FROM_IMPORT.findall(text):
            found.append((path.name, module, tuple(n.strip() for n in names.split(",") if n.strip())))
        for module in PLAIN_IMPORT.findall(text):
            found.append((path.name, module, ()))
    return sorted(set(found))


def test_the_documents_import_something():
    modules = {module for _, module, _ in documented_imports()}
    assert {"experiments", "experiments.stress", "experiments.compare", "experiments.stats"} <= modules


@pytest.mark.parametrize(("where", "module", "names"), documented_imports())
def test_every_documented_import_works(where, module, names):
    imported = importlib.import_module(module)
    assert [name for name in names if not hasattr(imported, name)] == []


def test_public_functions_named_like_old_modules_stay_functions():
    # importing the submodules first sets the package's attribute, which must not replace the function
    code = (
        "import experiments.compare, experiments.story, experiments.sensitivity, experiments.provenance\n"
        "import experiments.studies.compare, experiments.studies.story, experiments.engine.provenance\n"
        "from experiments import compare, story, sensitivity, provenance\n"
        "import experiments, types\n"
        "for f in (compare, story, sensitivity, provenance):\n"
        "    assert callable(f) and not isinstance(f, types.ModuleType), f\n"
        "assert experiments.compare is compare\n"
        "from experiments.compare import compare as same\n"
        "assert same is compare\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
