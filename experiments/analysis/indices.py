"""Sensitivity indices: Sobol (first, total and second order) and Morris, from SALib, as one long table.

`analyze_indices` takes SALib's problem dict, the design points (as
`experiments.engine.designs.sample_design` makes them) and one output per point, and returns the
rows of `COLUMNS` (parameter, method, index, value, ci: the half-width of the 95% bootstrap
interval). It works on any outputs (the tests check it on Ishigami's function). Pure functions:
they read no folder and know no study.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from SALib.analyze import morris as salib_morris
from SALib.analyze import sobol as salib_sobol

METHODS = ("sobol", "morris")
COLUMNS = ("parameter", "method", "index", "value", "ci")
#: The indices of each method, in the order indices.csv lists them.
SOBOL_INDICES = ("S1", "ST", "S2")
MORRIS_INDICES = ("mu", "mu_star", "sigma")
#: How a Sobol interaction's two parameters are joined in the `parameter` column ("a x b").
PAIR_SEPARATOR = " x "
CONF_LEVEL = 0.95
#: Bootstrap resamples behind SALib's confidence intervals.
NUM_RESAMPLES = 1000
#: Mixed into the spec's seed for the bootstrap of the analysis (distinct from the runs' and
#: the design's seeds).
ANALYSIS_SEED_TAG = 0x5A11B


def analysis_seed(seed: int) -> int:
    """A 32-bit seed for SALib's bootstrap, derived from the spec's seed."""
    return int(np.random.SeedSequence([seed, ANALYSIS_SEED_TAG]).generate_state(1)[0])


def analyze_indices(
    problem: Mapping[str, Any],
    design_points: pd.DataFrame,
    outputs: np.ndarray | Sequence[float],
    method: str,
    *,
    second_order: bool = True,
    morris_levels: int = 4,
    seed: int = 0,
    num_resamples: int = NUM_RESAMPLES,
) -> pd.DataFrame:
    """Sobol or Morris indices of `outputs`, one value per row of `design_points`.

    `design_points` is a design as `experiments.engine.designs.sample_design` makes it: `point_id` (the
    sampler's order, which SALib's analysers rely on) and a `u:<name>` column per parameter of
    `problem` (its coordinates in problem space, which Morris needs). Rows may come in any order;
    they are put back in point_id order with their outputs. `second_order` and `morris_levels`
    must be what the design used. Returns the long table of `COLUMNS`: S1, ST and (with
    `second_order`) S2 for "a x b" pairs, or mu, mu_star and sigma, each with the half-width of
    its 95% bootstrap interval in `ci` (NaN where SALib gives none). Raises ValueError for outputs
    that do not fit the design or are not all finite.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    names = list(problem["names"])
    values = np.asarray(outputs, dtype=float).ravel()
    if len(values) != len(design_points):
        raise ValueError(f"{len(values)} outputs for {len(design_points)} design points")
    if not np.isfinite(values).all():
        raise ValueError(f"{int((~np.isfinite(values)).sum())} outputs are not finite numbers")
    if np.ptp(values) == 0:
        raise ValueError(
            f"every output is {values[0]:g}: there is no variance to attribute to the parameters "
            "(widen their ranges, or choose a metric that varies)"
        )
    order = np.argsort(design_points["point_id"].to_numpy(), kind="stable")
    values = values[order]
    if method == "sobol":
        result = salib_sobol.analyze(
            dict(problem),
            values,
            calc_second_order=second_order,
            num_resamples=num_resamples,
            conf_level=CONF_LEVEL,
            print_to_console=False,
            seed=seed,
        )
        return sobol_table(names, result, second_order)
    missing = [f"u:{name}" for name in names if f"u:{name}" not in design_points.columns]
    if missing:
        raise ValueError(f"design_points lacks the problem-space columns {', '.join(missing)}")
    inputs = design_points[[f"u:{name}" for name in names]].to_numpy(dtype=float)[order]
    result = salib_morris.analyze(
        dict(problem),
        inputs,
        values,
        num_resamples=num_resamples,
        conf_level=CONF_LEVEL,
        print_to_console=False,
        num_levels=morris_levels,
        seed=seed,
    )
    return morris_table(names, result)


def sobol_table(names: Sequence[str], result: Mapping[str, Any], second_order: bool) -> pd.DataFrame:
    """SALib's Sobol result as rows of `COLUMNS`: S1 and ST per parameter, S2 per pair."""
    rows = [
        (name, "sobol", index, result[index][j], result[f"{index}_conf"][j])
        for index in ("S1", "ST")
        for j, name in enumerate(names)
    ]
    if second_order:
        for i, j in combinations(range(len(names)), 2):
            pair = f"{names[i]}{PAIR_SEPARATOR}{names[j]}"
            rows.append((pair, "sobol", "S2", result["S2"][i, j], result["S2_conf"][i, j]))
    return _frame(rows)


def morris_table(names: Sequence[str], result: Mapping[str, Any]) -> pd.DataFrame:
    """SALib's Morris result as rows of `COLUMNS`: mu, mu_star (with its interval) and sigma."""
    confidence = {"mu_star": result["mu_star_conf"]}
    nan = np.full(len(names), np.nan)
    rows = [
        (name, "morris", index, result[index][j], confidence.get(index, nan)[j])
        for index in MORRIS_INDICES
        for j, name in enumerate(names)
    ]
    return _frame(rows)


def _frame(rows: list[tuple[str, str, str, float, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["value"] = frame["value"].astype(float)
    frame["ci"] = frame["ci"].astype(float)
    return frame


def per_parameter(indices: pd.DataFrame) -> pd.DataFrame:
    """The single-parameter indices wide: one row per parameter (in the table's order), one column
    per index and `<index>_ci` for its half-width."""
    single = indices[indices["index"] != "S2"]
    order = list(dict.fromkeys(single["parameter"]))
    wide = single.pivot(index="parameter", columns="index", values="value").reindex(order)
    ci = single.pivot(index="parameter", columns="index", values="ci").reindex(order).add_suffix("_ci")
    return wide.join(ci)
