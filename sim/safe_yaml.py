"""Reading YAML that may be hostile: bounded files, bounded aliases, no duplicate keys, YAML 1.2 numbers.

Every YAML the program reads from a user (scenarios, experiment, stress, discovery and calibration
specs, `--set` values) goes through `load_yaml` or `read_yaml_text`:

* `read_yaml_text(path)` reads only a regular file (not a folder, a FIFO, /dev/zero or
  /dev/urandom) of at most `MAX_FILE_BYTES`, opened without blocking.
* `load_yaml(text)` parses with PyYAML's safe loader (no Python tags) and refuses
  - a mapping with the same key twice (PyYAML keeps the last one silently);
  - anchors and aliases (`&a`, `*a`) whose expansion would exceed `MAX_EXPANDED_NODES` values or
    that are used more than `MAX_ALIASES` times: a kilobyte of nested aliases ("billion laughs")
    expands to more values than any machine holds;
  and reads numbers as YAML 1.2 does: `1e308`, `1E-3` and `2.5e3` are floats (YAML 1.1, which
  PyYAML implements, needs a dot and a signed exponent and reads `1e308` as a string).

Problems raise `YamlError` (a ValueError) with a short message; callers add the file name.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

#: Largest YAML file read (scenarios and specs are a few kilobytes).
MAX_FILE_BYTES = 4 * 2**20
#: Most values (scalars, lists, mappings) a document may hold once its aliases are expanded.
MAX_EXPANDED_NODES = 100_000
#: Most alias uses (`*name`) in one document.
MAX_ALIASES = 1_000

# YAML 1.2 core schema floats (https://yaml.org/spec/1.2.2/#1032-tag-resolution), minus what the
# YAML 1.1 resolver already reads as an int or a float
_FLOAT_12 = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


class YamlError(ValueError):
    """YAML that is refused; the message says why (without the file name)."""


class _Loader(yaml.SafeLoader):
    """SafeLoader with duplicate keys refused, aliases bounded and YAML 1.2 floats."""

    def __init__(self, stream):
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                event = self.peek_event()
                raise YamlError(
                    f"more than {MAX_ALIASES} aliases (*name){_where(event.start_mark)}; "
                    "write the values out instead"
                )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node)
                except TypeError:  # an unhashable key: SafeConstructor reports it
                    continue
                if first is not key_node:
                    raise YamlError(
                        f"duplicate key '{key}'{_where(key_node.start_mark)} (first at line "
                        f"{first.start_mark.line + 1}); a key may appear once in a mapping"
                    )
        return super().construct_mapping(node, deep=deep)


_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+.0123456789"))


def _where(mark) -> str:
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def _expanded_size(root: yaml.Node) -> int:
    """How many nodes the document holds with every alias expanded (shared nodes counted each time);
    stops counting past MAX_EXPANDED_NODES."""
    sizes: dict[int, int] = {}
    limit = MAX_EXPANDED_NODES + 1

    def size(node: yaml.Node, depth: int = 0) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        if depth > 200:
            raise YamlError("the document is nested more than 200 levels deep")
        sizes[id(node)] = limit  # a node that contains itself (a recursive alias) expands for ever
        total = 1
        if isinstance(node, yaml.SequenceNode):
            for child in node.value:
                total = min(limit, total + size(child, depth + 1))
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                total = min(limit, total + size(key, depth + 1) + size(value, depth + 1))
        sizes[id(node)] = total
        return total

    return size(root)


def load_yaml(text: str) -> Any:
    """The one YAML document in `text`, as plain Python values; YamlError or yaml.YAMLError if refused."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node) > MAX_EXPANDED_NODES:
            raise YamlError(
                f"the aliases (*name) expand to more than {MAX_EXPANDED_NODES:,} values; write the "
                "values out, or use fewer, smaller anchors (&name)"
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def read_yaml_text(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The text of the regular file at `path` (UTF-8, at most `max_bytes`).

    Raises YamlError for a folder, a device, a FIFO or a socket, for a larger file and for bytes
    that are not UTF-8; OSError if the file cannot be opened.
    """
    path = Path(path)
    info = os.stat(path)  # follows a symbolic link; FileNotFoundError if missing
    _require_regular(info, path)
    # O_NONBLOCK: should the path be swapped for a FIFO after the check, open does not hang
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        _require_regular(info, path)
        if info.st_size > max_bytes:
            raise YamlError(f"{path} has {info.st_size:,} bytes; a YAML file here has at most {max_bytes:,}")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise YamlError(
            f"{path} has more than {max_bytes:,} bytes; a YAML file here has at most {max_bytes:,}"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(
            f"{path} is not UTF-8 text (byte {exc.start}: {data[exc.start : exc.start + 1]!r})"
        ) from None


def _require_regular(info: os.stat_result, path: Path) -> None:
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        kind = "a folder"
    elif stat.S_ISFIFO(mode):
        kind = "a FIFO (named pipe)"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    else:
        kind = "not a regular file"
    raise YamlError(f"{path} is {kind}; give a YAML file")
