"""The source's structure: layers import downward only, no import cycles, no module over 600 lines.

    sim <- experiments.engine <- experiments.analysis <- experiments.present <- experiments.studies
        <- experiments.report, experiments.dashboard, experiments.cli (and the old names' aliases)

Every import counts: top-level and lazy ones inside functions, `importlib.import_module("...")`
and any string constant that names a module of the project (registries such as the study
registry and `experiments.EXPORTS`). A module may import its own layer and the layers below it;
within a layer the imports may not form a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sim", "experiments")
MAX_LINES = 600

#: (prefix, layer): the longest matching prefix decides a module's layer.
LAYERS: tuple[tuple[str, int], ...] = (
    ("sim", 0),
    ("experiments.engine", 1),
    ("experiments.analysis", 2),
    ("experiments.present", 3),
    ("experiments.studies", 4),
    ("experiments.report", 5),
    ("experiments.dashboard", 5),
    ("experiments.cli", 5),
    ("experiments", 5),  # the package's lazy EXPORTS and the aliases of the old module names
)
LAYER_NAMES = {0: "sim", 1: "engine", 2: "analysis", 3: "present", 4: "studies", 5: "report/dashboard/cli"}


# --------------------------------------------------------------------------- the import graph


def source_modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the packages."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def resolve(name: str, modules: Mapping[str, Path]) -> str | None:
    """The project module `name` refers to (itself, or the package holding a name imported from it)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imported_names(
    tree: ast.AST, module: str, is_package: bool, modules: Mapping[str, Path]
) -> Iterable[str]:
    """Every dotted name the module imports or names as a string, wherever in the file."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:  # a submodule by its own name, else the module it comes from
                yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if text.split(".")[0] in PACKAGES and all(part.isidentifier() for part in text.split(".")):
                yield text  # importlib.import_module("..."), registries of module names


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the project modules it imports (itself excluded)."""
    modules = source_modules(root)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = set()
        for name in imported_names(tree, module, path.name == "__init__.py", modules):
            target = resolve(name, modules)
            if target is not None and target != module:
                targets.add(target)
        graph[module] = targets
    return graph


# --------------------------------------------------------------------------- the rules


def layer_of(module: str, layers: Iterable[tuple[str, int]] = LAYERS) -> int:
    best = None
    for prefix, layer in layers:
        if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > best[0]):
            best = (len(prefix), layer)
    if best is None:
        raise ValueError(f"{module} is in no layer")
    return best[1]


def upward_imports(graph: Mapping[str, set[str]], layers=LAYERS) -> list[str]:
    """'a (layer) imports b (higher layer)' for every import against the layers."""
    found = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            if layer_of(target, layers) > layer_of(module, layers):
                found.append(
                    f"{module} ({LAYER_NAMES.get(layer_of(module, layers))}) imports {target} "
                    f"({LAYER_NAMES.get(layer_of(target, layers))})"
                )
    return found


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The import cycles: strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


# --------------------------------------------------------------------------- the checks


def test_no_module_imports_a_higher_layer():
    assert upward_imports(import_graph()) == []


def test_there_is_no_import_cycle():
    assert cycles(import_graph()) == []


def test_sim_imports_nothing_from_experiments():
    graph = import_graph()
    outside = {(m, t) for m, targets in graph.items() if m.split(".")[0] == "sim" for t in targets}
    assert {(m, t) for m, t in outside if t.split(".")[0] != "sim"} == set()


def test_the_walk_sees_lazy_imports_import_module_and_registry_strings():
    graph = import_graph()
    assert "experiments.studies.run" in graph["experiments.studies.registry"]  # a registry's string
    assert "experiments.engine.sweep" in graph["experiments"]  # EXPORTS
    assert any(t.startswith("experiments.present.figures") for t in graph["experiments.studies.sweep"])


def test_no_source_module_is_over_600_lines():
    long = {
        str(path.relative_to(ROOT)): n
        for path in source_modules().values()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


# --------------------------------------------------------------------------- the checks can fail

SYNTHETIC_LAYERS = (("low", 0), ("mid", 1), ("high", 2))


def test_an_upward_import_is_found_on_a_synthetic_graph():
    graph = {"low.a": {"mid.b"}, "mid.b": {"low.a"}, "high.c": {"mid.b", "low.a"}}
    assert upward_imports(graph, SYNTHETIC_LAYERS) == ["low.a (sim) imports mid.b (engine)"]


def test_a_cycle_within_a_layer_is_found_on_a_synthetic_graph():
    graph = {"mid.a": {"mid.b"}, "mid.b": {"mid.c"}, "mid.c": {"mid.a"}, "high.d": {"mid.a"}}
    assert cycles(graph) == [["mid.a", "mid.b", "mid.c"]]
    assert cycles({"mid.a": {"mid.b"}, "mid.b": set()}) == []


def test_lazy_and_string_imports_are_edges(tmp_path):
    package = tmp_path / "experiments"
    (package / "engine").mkdir(parents=True)
    (package / "studies").mkdir()
    for folder in (package, package / "engine", package / "studies"):
        (folder / "__init__.py").write_text("")
    (tmp_path / "sim").mkdir()
    (tmp_path / "sim" / "__init__.py").write_text("")
    (package / "studies" / "x.py").write_text("")
    (package / "engine" / "lazy.py").write_text("def f():\n    from experiments.studies import x\n")
    (package / "engine" / "named.py").write_text(
        "import importlib\nMODULES = ('experiments.studies.x',)\nimportlib.import_module('sim')\n"
    )
    graph = import_graph(tmp_path)
    assert graph["experiments.engine.lazy"] == {"experiments.studies.x"}
    assert graph["experiments.engine.named"] == {"experiments.studies.x", "sim"}
    assert len(upward_imports(graph)) == 2


@pytest.mark.parametrize("module, layer", [("sim.mechanisms.trust", 0), ("experiments.cli", 5)])
def test_layer_of(module, layer):
    assert layer_of(module) == layer
