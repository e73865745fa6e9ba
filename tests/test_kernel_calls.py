"""Kernels are called by keyword from Python, so a swapped pair of arguments cannot go unseen.

A kernel (`sim.compiled.kernel`) takes its state arrays and settings as arguments, many of them of
the same type: two float matrices swapped at a call site compile and run, silently wrong. So every
call from Python into a kernel names its parameters (`trust_ceiling=al.trust_ceiling`), and a splat
of arguments is a dict keyed by parameter name (`**_seating(world)`), never a `*` tuple.

`positional_kernel_calls` walks the source with `ast`: it finds every function decorated with
`kernel` in the scanned packages, follows the imports of each module (`from sim.randomness import
uniform_at`, `from sim.mechanisms import reviews` then `reviews._review`, aliases included) and
reports every call outside compiled code that passes a positional argument or a `*` splat. Calls
inside `kernel`, `kernel_helper` and `formula` functions are compiled calls and may stay
positional. What it cannot see: a kernel reached through a variable or `getattr`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from sim.mechanisms import trust
from sim.randomness import Streams, uniform_at

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("sim", "experiments", "tests", "benchmarks", "scripts")
COMPILED_DECORATORS = {"kernel", "kernel_helper", "formula"}


def _decorator_names(fn: ast.FunctionDef) -> set[str]:
    names = set()
    for d in fn.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        if isinstance(target, ast.Name):
            names.add(target.id)
        elif isinstance(target, ast.Attribute):
            names.add(target.attr)
    return names


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_sources() -> dict[str, str]:
    """Module name -> source of every Python file in the scanned folders."""
    out = {}
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if ".venv" not in path.parts:
                out[_module_name(path)] = path.read_text()
    return out


def _kernels(tree: ast.Module) -> set[str]:
    """Names of the module's top-level functions decorated with `kernel`."""
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and "kernel" in _decorator_names(n)}


def _scope(tree: ast.Module, name: str, modules, kernels) -> dict[str, tuple[str, str]]:
    """Local name -> ("module", module name) or ("kernel", qualified kernel name) in module `name`."""
    scope = {k: ("kernel", f"{name}.{k}") for k in kernels[name]}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                scope[local] = ("module", alias.name if alias.asname else local)
        elif isinstance(node, ast.ImportFrom):  # (the project uses no relative imports)
            base = node.module or ""
            for alias in node.names:
                local = alias.asname or alias.name
                if f"{base}.{alias.name}" in modules:
                    scope[local] = ("module", f"{base}.{alias.name}")
                elif alias.name in kernels.get(base, ()):
                    scope[local] = ("kernel", f"{base}.{alias.name}")
    return scope


def _resolve(expr, scope, kernels) -> list[str]:
    """Qualified names of the kernels a called expression may be (both branches of `a if c else b`)."""
    if isinstance(expr, ast.IfExp):
        return sorted(set(_resolve(expr.body, scope, kernels) + _resolve(expr.orelse, scope, kernels)))
    if isinstance(expr, ast.Name):
        kind, target = scope.get(expr.id, ("", ""))
        return [target] if kind == "kernel" else []
    dotted = []
    while isinstance(expr, ast.Attribute):
        dotted.insert(0, expr.attr)
        expr = expr.value
    if dotted and isinstance(expr, ast.Name) and scope.get(expr.id, ("", ""))[0] == "module":
        module = ".".join([scope[expr.id][1], *dotted[:-1]])
        if dotted[-1] in kernels.get(module, ()):
            return [f"{module}.{dotted[-1]}"]
    return []


def _python_side_calls(node, compiled: bool = False):
    """Every call in `node` that is not inside a `kernel`, `kernel_helper` or `formula` function."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        compiled = compiled or bool(_decorator_names(node) & COMPILED_DECORATORS)
    if isinstance(node, ast.Call) and not compiled:
        yield node
    for child in ast.iter_child_nodes(node):
        yield from _python_side_calls(child, compiled)


def positional_kernel_calls(sources: dict[str, str]) -> list[str]:
    """'module:line: kernel(...) passes ...' for each Python-side kernel call with a positional or
    `*` argument (`**` dicts are keyword arguments and pass)."""
    trees = {name: ast.parse(src) for name, src in sources.items()}
    kernels = {name: _kernels(tree) for name, tree in trees.items()}
    problems = []
    for name, tree in trees.items():
        scope = _scope(tree, name, trees, kernels)
        for call in _python_side_calls(tree):
            if not call.args:
                continue
            splats = sum(isinstance(a, ast.Starred) for a in call.args)
            what = f"{len(call.args) - splats} positional argument(s), {splats} * splat(s)"
            for target in _resolve(call.func, scope, kernels):
                problems.append(f"{name}:{call.lineno}: {target}(...) passes {what}")
    return problems


def test_every_python_side_kernel_call_binds_its_arguments_by_name():
    sources = project_sources()
    assert "sim.mechanisms.reviews" in sources and "tests.test_compiled" in sources
    assert positional_kernel_calls(sources) == []


SYNTHETIC = {
    "pkg.kernels": (
        "from sim.compiled import kernel, kernel_helper\n"
        "@kernel_helper\n"
        "def helper(a, b):\n"
        "    return a - b\n"
        "@kernel\n"
        "def k(a, b):\n"
        "    return helper(a, b)\n"  # compiled call: may stay positional
        "def fine(x, y):\n"
        "    return k(a=x, b=y)\n"
        "def swapped(x, y):\n"
        "    return k(y, x)\n"
    ),
    "pkg.user": (
        "from pkg import kernels as kn\n"
        "from pkg.kernels import k as other\n"
        "def splat(args):\n"
        "    return kn.k(*args)\n"
        "def mixed(x, y, flag):\n"
        "    return (other if flag else kn.k)(x, b=y)\n"
        "def by_dict(kw):\n"
        "    return other(**kw)\n"
    ),
}


def test_the_check_finds_positional_calls_and_splats():
    found = positional_kernel_calls(SYNTHETIC)
    assert found == [
        "pkg.kernels:11: pkg.kernels.k(...) passes 2 positional argument(s), 0 * splat(s)",
        "pkg.user:4: pkg.kernels.k(...) passes 0 positional argument(s), 1 * splat(s)",
        "pkg.user:6: pkg.kernels.k(...) passes 1 positional argument(s), 0 * splat(s)",
    ]


def test_a_misspelt_keyword_raises():
    key = Streams(1).key("shocks")
    assert uniform_at(key=key, entity=3, week=0, draw=0) == Streams(1).uniform("shocks", [3], 0)[0]
    with pytest.raises(TypeError):
        uniform_at(key=key, entity=3, week=0, drew=0)
    state = {name: np.zeros((2, 2)) for name in ("trust_org", "trust_ip", "trust_ceiling", "effort")}
    kwargs = dict(
        n=2, open_issues=np.zeros(2, dtype=np.int64), open_age=np.zeros(2),
        member=np.ones((2, 2), dtype=bool), backlog_erosion=0.1, age_scale_weeks=10.0, erosion_to_growth=3.0,
        observed_effort_gain=0.1, interpersonal_spillover=0.1, **state,
    )  # fmt: skip
    trust._weekly(**kwargs)
    kwargs["ceiling"] = kwargs.pop("trust_ceiling")
    with pytest.raises(TypeError):
        trust._weekly(**kwargs)
