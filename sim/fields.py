"""The building blocks of the scenario schema: the base section, documented fields, value types.

Every section of `sim.schema` (inputs) and `sim.coefficients` (one section per submodel) is a
`Section`: unknown keys are errors, assignments are validated, floats are finite. `_f` declares a
documented field, optionally with the plausible real-world range of a lever (`plausible_range`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
# upper bounds for the non-negative coefficients, far beyond any sensible value but small enough
# that the arithmetic stays finite (an unbounded rate or weight overflows into inf and NaN)
Rate = Annotated[float, Field(ge=0.0, le=100.0)]  # events per week
Weight = Annotated[float, Field(ge=0.0, le=100.0)]  # weights, factors and ratios
Amount = Annotated[float, Field(ge=0.0, le=1e6)]  # value units
WEEKS_MAX = 10_400  # the longest horizon (simulation.horizon_weeks)

ALLIANCE_FUNCTIONS = ("none", "central_function", "center_of_excellence", "community_of_practice")
AllianceFunctionType = Literal["none", "central_function", "center_of_excellence", "community_of_practice"]
MEETING_MODES = ("in_person", "virtual", "mixed")
CONFLICT_MODES = ("collaborative", "escalation", "ad_hoc")
RISK_CLINIC_MODES = ("none", "launch", "periodic")


class Section(BaseModel):
    """Base of every schema section: unknown keys are errors, assignments are validated."""

    # strict: no silent coercion (true is not 1, "2" is not 2); YAML and --set values are typed;
    # every float is finite (.inf and .nan are refused)
    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True, allow_inf_nan=False)


def _f(default, description: str, plausible: tuple | None = None, **bounds):
    """A documented field; `plausible` is the (low, high) range a real alliance could show, which
    lies inside the hard bounds that only say what the model can compute."""
    extra = {"plausible": list(plausible)} if plausible is not None else None
    return Field(default, description=description, json_schema_extra=extra, **bounds)


def plausible_range(section: type[BaseModel], name: str) -> tuple | None:
    """The plausible real-world range of a field, or None if it has none (not a lever)."""
    extra = section.model_fields[name].json_schema_extra
    return tuple(extra["plausible"]) if isinstance(extra, dict) and "plausible" in extra else None
