"""Dimensions: how a scenario value reads in a sentence or on an axis, from the schema.

A `Dimension` is one scenario value (a dotted path) as people read it: a label, the schema's
description, and its unit (`*_per_year` a rate a year, `*_weeks` weeks, a share or a probability
in [0, 1] a percentage). Scenario discovery writes its rules and axes with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from experiments.engine.spec import SpecError
from sim.schema import Scenario

#: Words that mark a [0, 1] value as a share or a probability, written as a percentage.
PERCENT_WORDS = ("probability", "share")
PER_YEAR, WEEKS = "_per_year", "_weeks"


@dataclass(frozen=True)
class Dimension:
    """An uncertain condition as people read it: a label, the schema's description, and its unit."""

    path: str
    label: str
    description: str
    per_year: bool = False
    weeks: bool = False
    percent: bool = False
    bounds: tuple[float | None, float | None] = (None, None)

    def value(self, number: float) -> str:
        """`number` in this dimension's unit: '25% a year', '1.20 a year', '13 weeks', '0.63'."""
        if self.percent:
            text = f"{100 * number:.0f}%"
        elif self.weeks:
            return f"{number:.0f} weeks"
        else:
            text = f"{number:.2f}"
        return f"{text} a year" if self.per_year else text

    @property
    def axis_label(self) -> str:
        """The label with its unit, for a figure's axis."""
        if self.percent:
            unit = "share a year" if self.per_year else "share"
        elif self.weeks:
            unit = "weeks"
        elif self.per_year:
            unit = "per year"
        elif self.bounds == (0.0, 1.0):
            unit = "0 to 1"
        else:
            return self.label
        return f"{self.label} ({unit})"


def schema_fields(path: str) -> list[Any]:
    """The pydantic FieldInfo of every part of dotted scenario `path`, outermost first."""
    found = []
    section: type[BaseModel] | None = Scenario
    for key in path.split("."):
        info = section.model_fields.get(key) if section is not None else None
        if info is None:
            raise SpecError(f"'{path}' is not a scenario value (no '{key}' there)")
        found.append(info)
        annotation = info.annotation
        section = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return found


def describe_dimension(path: str, label: str | None = None) -> Dimension:
    """The dimension at scenario `path` described from the schema: its description (a trait's
    mean or sd is described by its trait), its unit from the name (`*_per_year`, `*_weeks`) and
    description (a share or a probability is a percentage), and its bounds."""
    fields = schema_fields(path)
    parts = path.split(".")
    leaf, leaf_name = fields[-1], parts[-1]
    description = leaf.description or ""
    if leaf_name in ("mean", "sd") and len(fields) > 1:
        trait = fields[-2].description or parts[-2].replace("_", " ")
        statistic = "mean" if leaf_name == "mean" else "standard deviation"
        description = f"{trait} (the {statistic} of this trait)"
        default_label = parts[-2].replace("_", " ") + (" (sd)" if leaf_name == "sd" else "")
    else:
        stem = leaf_name.removesuffix(PER_YEAR).removesuffix(WEEKS)
        default_label = stem.replace("_", " ")
    low = high = None
    for rule in leaf.metadata:
        low = getattr(rule, "ge", low)
        high = getattr(rule, "le", high)
    return Dimension(
        path=path,
        label=label or default_label,
        description=description,
        per_year=leaf_name.endswith(PER_YEAR),
        weeks=leaf_name.endswith(WEEKS),
        percent=description.lower().startswith(PERCENT_WORDS) and (low, high) == (0.0, 1.0),
        bounds=(low, high),
    )


def plain_dimension(name: str) -> Dimension:
    """A dimension that is not a scenario value (a column of made-up data): its name, plain numbers."""
    return Dimension(path=name, label=name, description="")
