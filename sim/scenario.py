"""Reading scenarios: YAML files, dotted-path overrides, and one clear message for every bad input.

`load_scenario(path, overrides)` reads a YAML file (with `sim.safe_yaml`: a bounded regular file,
PyYAML's safe loader, aliases bounded, duplicate keys refused, YAML 1.2 numbers), applies overrides
given as dotted paths (`governance.meeting_interval_weeks`) and validates the result against
`sim.schema.Scenario`. Anything wrong raises `ScenarioError`, whose message names the key, what was
given and what is allowed; the command line turns it into exit status 2 without a traceback.
"""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from sim.guards import SizeError, check_scenario_fits
from sim.safe_yaml import YamlError, load_yaml, read_yaml_text
from sim.schema import Scenario


class ScenarioError(ValueError):
    """A scenario (file, override or value) that cannot be used; the message says why."""


def _allowed_keys(model_cls: type[BaseModel]) -> list[str]:
    return list(model_cls.model_fields)


def _model_class(annotation: Any) -> type[BaseModel] | None:
    """`annotation` if it is a pydantic model class, else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _section_at(path: list[str], root: type[BaseModel] = Scenario) -> type[BaseModel] | None:
    """The schema class found by following `path` from `root`, or None if it leads to a leaf.

    A field typed `dict[str, Model]` is a section whose keys are free: the key after it is
    skipped and the walk goes on in `Model`.
    """
    cls: type[BaseModel] = root
    keys = iter(path)
    for key in keys:
        field = cls.model_fields.get(key)
        if field is None:
            return None
        annotation = field.annotation
        if get_origin(annotation) is dict:
            value_cls = _model_class(get_args(annotation)[1])
            if value_cls is None or next(keys, None) is None:
                return None
            cls = value_cls
            continue
        next_cls = _model_class(annotation)
        if next_cls is None:
            return None
        cls = next_cls
    return cls


def _unknown_key_message(path: list[str], key: str, root: type[BaseModel] = Scenario) -> str:
    section = _section_at(path, root)
    where = ".".join(path) if path else "the top level"
    full = ".".join([*path, key])
    if section is None:
        return f"unknown key '{full}': '{where}' is a value, not a section"
    allowed = _allowed_keys(section)
    hint = difflib.get_close_matches(key, allowed, n=1)
    msg = f"unknown key '{full}'"
    if hint:
        msg += f" (did you mean '{'.'.join([*path, hint[0]])}'?)"
    return msg + f"; allowed in {where}: {', '.join(allowed)}"


def format_validation_error(
    err: ValidationError,
    source: str = "",
    override_keys=(),
    root: type[BaseModel] = Scenario,
    what: str = "scenario",
) -> str:
    """One readable line per problem: where it came from, the key, what is wrong, what was given.

    Problems with a key set by an override are labelled `--set KEY`, the others with `source`.
    `root` is the schema that was validated (for the allowed keys of a section) and `what` names
    it in the heading of a multi-line message.
    """
    lines = []
    for problem in err.errors():
        loc = [str(p) for p in problem.get("loc", ()) if not str(p).startswith("function-after")]
        # pydantic adds the union branch name ('str', 'dict[...]', literal type) to locations
        loc = [p for p in loc if not (p.startswith("dict[") or p.startswith("literal[") or p == "str")]
        key = ".".join(loc) or f"({what})"
        from_override = any(key == k or key.startswith(k + ".") for k in override_keys)
        origin = "--set " if from_override else (f"{source}: " if source else "")
        kind = problem.get("type", "")
        if kind == "extra_forbidden":
            lines.append(origin + _unknown_key_message(loc[:-1], loc[-1], root))
            continue
        msg = problem.get("msg", "invalid value")
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        given = problem.get("input")
        text = f"{origin}{key}: {msg}"
        if kind not in ("missing",) and not isinstance(given, (dict, BaseModel)):
            text += f" (got {_short_repr(given)})"
        lines.append(text)
    # a union (e.g. alliance_function) reports one line per branch: keep them, de-duplicated
    unique = list(dict.fromkeys(lines))
    if len(unique) == 1:
        return unique[0]
    return f"invalid {what}:\n  " + "\n  ".join(unique)


_REPR = reprlib.Repr(maxstring=200, maxother=200, maxlist=10, maxdict=10, maxlevel=3, maxlong=200)


def _short_repr(value: Any) -> str:
    """repr of `value`, cut short for a long or deeply nested one (a message never holds a huge input)."""
    return _REPR.repr(value)


def set_dotted(data: dict, dotted: str, value: Any) -> None:
    """Set `value` at `dotted` (a.b.c) inside nested dict `data`, creating sections as needed.

    A mapping set at a section (`governance={meeting_mode: virtual}`) is merged into the section:
    the keys it gives replace theirs and the others keep their values. Raises ScenarioError for a
    path that the schema does not know.
    """
    parts = dotted.split(".")
    if not all(parts):
        raise ScenarioError(
            f"bad key '{dotted}': a key is names joined by dots, like governance.role_clarity"
        )
    cls: type[BaseModel] | None = Scenario
    node = data
    for depth, key in enumerate(parts):
        if cls is None:
            raise ScenarioError(_unknown_key_message(parts[:depth], key))
        if key not in cls.model_fields:
            raise ScenarioError(_unknown_key_message(parts[:depth], key))
        last = depth == len(parts) - 1
        if last:
            current = node.get(key)
            if isinstance(value, Mapping) and isinstance(current, dict) and _section_at(parts) is not None:
                node[key] = _merged(current, value, parts)
            else:
                node[key] = value
            return
        child = node.get(key)
        if not isinstance(child, dict):
            child = {} if child is None or isinstance(child, BaseModel) else child
            if not isinstance(child, dict):
                raise ScenarioError(f"'{'.'.join(parts[: depth + 1])}' is a value, not a section")
            node[key] = child
        node = child
        cls = _section_at(parts[: depth + 1])


def _merged(section: dict, given: Mapping, path: list[str]) -> dict:
    """`section` (at `path`) with the values of `given` in it, its sub-sections merged the same way
    (a mapping that is a value, like firms.alliance_function's shares, is replaced)."""
    out = dict(section)
    for key, value in given.items():
        inner = [*path, str(key)]
        if isinstance(value, Mapping) and isinstance(out.get(key), dict) and _section_at(inner) is not None:
            out[key] = _merged(out[key], value, inner)
        else:
            out[key] = value
    return out


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse a command-line `KEY=VALUE`; VALUE is read as YAML (numbers, true/false, lists, maps)."""
    if "=" not in text:
        raise ScenarioError(
            f"bad --set '{text}': expected KEY=VALUE, e.g. governance.meeting_interval_weeks=2"
        )
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise ScenarioError(f"bad --set '{text}': the key before '=' is empty")
    try:
        value = load_yaml(raw) if raw.strip() else ""
    except (yaml.YAMLError, YamlError) as exc:
        raise ScenarioError(f"bad --set '{text}': the value is not valid YAML ({exc})") from None
    return key, value


def read_yaml(
    path: str | Path,
    what: str = "scenario",
    contents: str = "sections (simulation, formation, firms, ...)",
    error: type[ValueError] = ScenarioError,
) -> dict:
    """Read a YAML mapping from `path` (see `sim.safe_yaml`); `error` (ScenarioError) for anything else.

    `what` names the kind of file in messages and `contents` what its mapping holds.
    """
    path = Path(path)
    try:
        text = read_yaml_text(path)
    except FileNotFoundError:
        raise error(f"{what} file not found: {path}") from None
    except YamlError as exc:
        raise error(str(exc)) from None
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = load_yaml(text)
    except YamlError as exc:
        raise error(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(f"{path}: malformed YAML{where}: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        article = "an" if what[0] in "aeiou" else "a"
        raise error(f"{path}: {article} {what} is a YAML mapping of {contents}, got a {type(data).__name__}")
    return data


def build_scenario(
    data: Mapping | Scenario | None = None,
    overrides: Mapping[str, Any] | None = None,
    source: str = "",
) -> Scenario:
    """Validate `data` (a mapping or a Scenario) with dotted-path `overrides` applied."""
    if isinstance(data, Scenario):
        base = data.model_dump(mode="python")
    else:
        base = _plain(dict(data or {}))
    for dotted, value in (overrides or {}).items():
        set_dotted(base, dotted, value)
    try:
        scenario = Scenario.model_validate(base)
    except ValidationError as err:
        raise ScenarioError(format_validation_error(err, source, tuple(overrides or ()))) from None
    try:
        check_scenario_fits(scenario)
    except SizeError as exc:
        raise ScenarioError(f"{source}: {exc}" if source else str(exc)) from None
    return scenario


def _plain(obj):
    if isinstance(obj, Mapping):
        return {k: _plain(v) for k, v in obj.items()}
    return obj


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Read the YAML scenario at `path`, apply dotted-path `overrides`, validate and return it."""
    return build_scenario(read_yaml(path), overrides, source=str(path))


def kwargs_to_overrides(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Turn Mesa-style keyword arguments (`governance__meeting_interval_weeks=2`) into dotted paths."""
    return {key.replace("__", "."): value for key, value in kwargs.items()}


def scenario_to_yaml(scenario: Scenario) -> str:
    """The resolved scenario as YAML text (every default written out)."""
    return yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False)
