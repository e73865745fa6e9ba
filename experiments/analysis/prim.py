"""PRIM boxes: the regions of the sampled conditions where failures concentrate.

The patient rule induction method (Friedman & Fisher 1999) in ema_workbench's implementation
(Kwakkel 2017), on a table of conditions (one numeric column per dimension) and one failed flag
per sample. How a box is chosen from PRIM's peeling trajectory: the box with the largest
coverage x density; then every restriction that is not significant (Bryant & Lempert's quasi-p
value above `significance`) is opened, the weakest first. Further boxes are searched for among
the samples outside the earlier boxes and kept while their density reaches `min_density`, up to
`max_boxes`. Pure functions: they read no folder and know no study.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pydantic import Field, StrictFloat, StrictInt

from experiments.engine.spec import Strict

#: A further box is only searched for while at least this many failed samples lie outside the boxes.
MIN_FAILURES_FOR_A_BOX = 5


class PrimSettings(Strict):
    """How PRIM peels and which boxes are reported (see the module docstring)."""

    peel_alpha: StrictFloat = Field(0.05, gt=0, le=0.5, description="share of samples peeled per step")
    paste_alpha: StrictFloat = Field(0.05, gt=0, le=0.5, description="share of samples pasted per step")
    mass_min: StrictFloat = Field(0.05, gt=0, lt=1, description="smallest share of samples a box may hold")
    min_density: StrictFloat = Field(
        0.8, gt=0, le=1, description="density a box after the first must reach to be reported"
    )
    significance: StrictFloat = Field(0.05, gt=0, le=1, description="largest quasi-p value of a restriction")
    max_boxes: StrictInt = Field(3, ge=1, le=20, description="most boxes reported")


@dataclass
class FailureBox:
    """One box PRIM found: its limits (dimension -> (low, high), nan for an open side) over the
    restricted dimensions (most significant first), its statistics, and the peeling trajectory
    it was chosen from (`chosen` is the row of the trajectory it is)."""

    limits: dict[str, tuple[float, float]]
    coverage: float
    density: float
    mass: float
    n_samples: int
    n_failed: int
    quasi_p: dict[str, float]
    trajectory: pd.DataFrame = field(repr=False)
    chosen: int = 0

    @property
    def restricted(self) -> list[str]:
        return list(self.limits)


def search_failure_boxes(
    conditions: pd.DataFrame, failed: np.ndarray, settings: PrimSettings | None = None
) -> list[FailureBox]:
    """Run PRIM on `conditions` (one row per sample, one numeric column per dimension) against
    `failed` (one bool per sample) and return the boxes chosen as the module docstring says."""
    settings = settings or PrimSettings()
    x, y = _prim_inputs(conditions, failed)
    if not y.any():
        return []
    prim_module = _import_prim()
    with warnings.catch_warnings():  # ema_workbench 3 drops a column in place, which pandas 3 deprecates
        warnings.filterwarnings("ignore", message="The inplace keyword")
        prim = prim_module.Prim(
            x, y, peel_alpha=settings.peel_alpha, paste_alpha=settings.paste_alpha, mass_min=settings.mass_min
        )
    boxes: list[FailureBox] = []
    outside = np.ones(len(y), dtype=bool)
    for _ in range(settings.max_boxes):
        if boxes and y[outside].sum() < MIN_FAILURES_FOR_A_BOX:
            break
        box = prim.find_box()
        if box is None:
            break
        found = _settle(box, prim.box_init, settings)
        if boxes and found.density < settings.min_density:
            break
        boxes.append(found)
        outside[box.yi] = False
    return boxes


def _prim_inputs(conditions: pd.DataFrame, failed: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    y = np.asarray(failed)
    if y.ndim != 1 or len(y) != len(conditions):
        raise ValueError(
            f"failed must have one value per row of conditions ({len(conditions)}), got {y.shape}"
        )
    if y.dtype != bool and not np.isin(y, (0, 1)).all():
        raise ValueError("failed must hold booleans (or 0 and 1)")
    if conditions.shape[1] == 0 or len(conditions) == 0:
        raise ValueError("conditions must have at least one row and one column")
    numeric = [c for c in conditions.columns if pd.api.types.is_numeric_dtype(conditions[c])]
    if len(numeric) != conditions.shape[1]:
        other = [str(c) for c in conditions.columns if c not in numeric]
        raise ValueError(f"every condition must be numeric; not numeric: {', '.join(other)}")
    # ema_workbench's PRIM breaks on int64 columns under pandas 3: every column goes in as float
    x = conditions.astype(float).reset_index(drop=True)
    x.columns = [str(c) for c in x.columns]
    if not np.isfinite(x.to_numpy()).all():
        raise ValueError("conditions must be finite numbers (no NaN or infinity)")
    return x, y.astype(bool)


def _import_prim():
    """ema_workbench's PRIM module, without the warnings about optional packages it does not need."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim
    return prim


def _settle(box, box_init: pd.DataFrame, settings: PrimSettings) -> FailureBox:
    """Choose the box on `box`'s trajectory, open its insignificant sides, describe it."""
    index = choose_from_trajectory(box.peeling_trajectory)
    box.select(index)
    while True:
        sides = _side_quasi_p(box.p_values[index])
        weak = {side: p for side, p in sides.items() if p > settings.significance}
        if not weak:
            break
        _open_side(box, box_init, index, *max(weak, key=lambda side: (weak[side], side)))
        index = len(box.peeling_trajectory) - 1
    row = box.peeling_trajectory.iloc[index]
    limits = _limits(box.box_lims[index], box_init)
    quasi_p = {dim: min(p for (d, _), p in sides.items() if d == dim) for dim in limits}
    order = sorted(limits, key=lambda dim: (quasi_p[dim], dim))
    return FailureBox(
        limits={dim: limits[dim] for dim in order},
        coverage=float(row["coverage"]),
        density=float(row["density"]),
        mass=float(row["mass"]),
        n_samples=int(row["n"]),
        n_failed=int(row["k"]),
        quasi_p={dim: quasi_p[dim] for dim in order},
        trajectory=box.peeling_trajectory[["coverage", "density", "mass", "n", "k", "res_dim"]].copy(),
        chosen=index,
    )


def _side_quasi_p(values: Mapping[str, Sequence[float]]) -> dict[tuple[str, int], float]:
    """(dimension, side) -> quasi-p value of every restricted side (side 0 the lower limit, 1 the
    upper); ema_workbench gives -1 for a side that is not restricted."""
    return {
        (str(dim), side): float(p)
        for dim, pair in values.items()
        for side, p in enumerate(pair)
        if p is not None and p >= 0 and np.isfinite(p)
    }


def _open_side(box, box_init: pd.DataFrame, index: int, dim: str, side: int) -> None:
    """Append to `box`'s trajectory box `index` with one side of `dim` opened to the data's extent
    (ema_workbench's drop_restriction opens both sides; a box may need one of them)."""
    limits = box.box_lims[index].copy()
    limits.loc[side, dim] = box_init.loc[side, dim]
    remaining = box.prim.yi_remaining
    x = box.prim.x.loc[remaining, limits.columns].to_numpy(dtype=float)
    inside = ((limits.loc[0].to_numpy(dtype=float) <= x) & (x <= limits.loc[1].to_numpy(dtype=float))).all(
        axis=1
    )
    box.update(limits, remaining[inside])


def choose_from_trajectory(trajectory: pd.DataFrame) -> int:
    """Row of the trajectory to report: the box with the largest coverage x density (the square of
    their geometric mean: a box is worth little if it misses most failures or holds few), ties
    going to the earlier row (the larger box)."""
    score = (trajectory["coverage"] * trajectory["density"]).to_numpy(dtype=float)
    return int(np.argmax(score))


def _limits(box_lim: pd.DataFrame, box_init: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """(low, high) of every restricted dimension; nan for a side left at the data's extent."""
    limits = {}
    for dim in box_lim.columns:
        low, high = float(box_lim[dim].iloc[0]), float(box_lim[dim].iloc[1])
        low_init, high_init = float(box_init[dim].iloc[0]), float(box_init[dim].iloc[1])
        low_side = low if low > low_init else math.nan
        high_side = high if high < high_init else math.nan
        if not (math.isnan(low_side) and math.isnan(high_side)):
            limits[str(dim)] = (low_side, high_side)
    return limits
