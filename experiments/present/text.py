"""Text: every number, percent and interval format of the command line, the files and the report.

They take numbers (NaN or None for missing, shown as 'n/a') and return strings; they know no study.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

CONFIDENCE_NOTE = "95% CI"


def missing(value: Any) -> bool:
    """None, NaN or pandas' NA."""
    return value is None or value is pd.NA or (isinstance(value, float | np.floating) and math.isnan(value))


def percent(value: Any, decimals: int = 1) -> str:
    """A share as a percentage ('63.0%'), 'n/a' when missing."""
    return "n/a" if missing(value) else f"{float(value):.{decimals}%}"


def percent_interval(rate: Any, low: Any, high: Any) -> str:
    """'63.0% (58.2% to 67.4%)'; without the interval when it is missing."""
    if missing(rate):
        return "n/a"
    if missing(low) or missing(high):
        return percent(rate)
    return f"{percent(rate)} ({percent(low)} to {percent(high)})"


def percent_range(rate: Any, low: Any, high: Any, *, label: str = "", sep: str = "–") -> str:
    """'57.0% (50.1%–63.7%)', or with `label` '57.0% (95% CI 50.1%–63.7%)'."""
    if missing(rate):
        return "n/a"
    return f"{percent(rate)} ({label + ' ' if label else ''}{percent(low)}{sep}{percent(high)})"


def signed_points(difference: Any, unit: str = "points") -> str:
    """A difference of two shares in percentage points, signed: '+13.0 points' ('+13.0 pts')."""
    return "n/a" if missing(difference) else f"{100 * float(difference):+.1f} {unit}".rstrip()


def points(difference: Any) -> str:
    """'+13.0 points'."""
    return signed_points(difference)


def points_interval(difference: Any, low: Any, high: Any) -> str:
    """'+13.0 points (95% CI +11.0 to +15.0)'; without the interval when it is missing."""
    if missing(difference):
        return "n/a"
    if missing(low) or missing(high):
        return points(difference)
    return f"{points(difference)} ({CONFIDENCE_NOTE} {100 * float(low):+.1f} to {100 * float(high):+.1f})"


def points_range(difference: Any, low: Any, high: Any, unit: str = "pts") -> str:
    """'+13.0 pts (+11.0 to +15.0)'; without the interval when it is missing."""
    if missing(difference):
        return "n/a"
    if missing(low) or missing(high):
        return signed_points(difference, unit)
    return f"{signed_points(difference, unit)} ({100 * float(low):+.1f} to {100 * float(high):+.1f})"


def shortfall(difference: Any, unit: str = "points") -> str:
    """A non-negative gap between two shares in percentage points, unsigned: '4.2 points' ('4.2 pts')."""
    return "n/a" if missing(difference) else f"{100 * float(difference):.1f} {unit}"


def number(value: Any) -> str:
    """A plain number with four significant digits ('123.5'), 'n/a' when missing."""
    if missing(value):
        return "n/a"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    return f"{float(value):.4g}"


def signed_interval(difference: Any, low: Any, high: Any) -> str:
    """'+10 (95% CI +2.5 to +17)' for a difference that is not a share."""
    if missing(difference):
        return "n/a"
    text = f"{float(difference):+.4g}"
    if missing(low) or missing(high):
        return text
    return f"{text} ({CONFIDENCE_NOTE} {float(low):+.4g} to {float(high):+.4g})"


def plus_minus(value: Any, half_width: Any, digits: str = ".3f") -> str:
    """'0.620 ± 0.100', or just the value when it has no interval."""
    if missing(half_width):
        return f"{float(value):{digits}}"
    return f"{float(value):{digits}} ± {float(half_width):{digits}}"


def excludes_zero(low: Any, high: Any) -> bool:
    """Whether the interval [low, high] lies entirely on one side of zero."""
    return not (missing(low) or missing(high)) and (float(low) > 0 or float(high) < 0)


def words(name: str) -> str:
    """A column or factor name in words: 'governance.meeting_interval_weeks' -> 'meeting interval weeks'."""
    return str(name).split(".")[-1].replace("_", " ")


def left_aligned(table: Any) -> str:
    """A DataFrame of text as a plain table with left-aligned columns, for reading in a terminal."""
    columns = [[str(name), *map(str, table[name])] for name in table.columns]
    widths = [max(map(len, column)) for column in columns]
    rows = zip(*columns)
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def describe_changes(changes: Mapping[str, Any]) -> str:
    """The changes as `key=value, ...`, the way they were typed."""
    return ", ".join(f"{path}={value_text(value)}" for path, value in changes.items())


def value_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def indices_text(indices: Any, max_pairs: int = 10) -> str:
    """The indices to read in a terminal: one row per parameter (S1, ST, mu*, sigma with their
    intervals), most influential first, then the largest interactions (S2): a sensitivity
    analysis's long table (parameter, method, index, value, ci) as text."""
    import pandas

    from experiments.analysis.indices import per_parameter

    wide = per_parameter(indices)
    sort_by = [column for column in ("ST", "mu_star") if column in wide.columns][0]
    wide = wide.sort_values(sort_by, ascending=False, kind="stable")
    table = pandas.DataFrame({"parameter": wide.index})
    shown = {"S1": "S1", "ST": "ST", "mu_star": "mu*", "mu": "mu", "sigma": "sigma"}
    for index, label in shown.items():
        if index in wide.columns:
            table[label] = [plus_minus(v, c) for v, c in zip(wide[index], wide[f"{index}_ci"])]
    lines = [left_aligned(table)]
    pairs = indices[indices["index"] == "S2"].sort_values("value", ascending=False, kind="stable")
    if not pairs.empty:
        top = pairs.head(max_pairs)
        lines.append("")
        lines.append(f"Interactions (Sobol S2, largest {len(top)} of {len(pairs)}; * interval above zero):")
        listed = pandas.DataFrame(
            {
                "pair": top["parameter"],
                "S2": [
                    plus_minus(v, c) + (" *" if v - c > 0 else "") for v, c in zip(top["value"], top["ci"])
                ],
            }
        )
        lines.append(left_aligned(listed))
    return "\n".join(lines)
