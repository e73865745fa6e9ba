"""Statistics for reporting simulation results.

* `wilson_interval` - confidence interval for a success rate (Wilson score, via scipy's binomtest).
* `paired_difference` - mean difference of paired replications (common random numbers) with a
  t-based confidence interval.
* `success_summary` - decided alliances, successes, success rate and its Wilson interval.
* `kaplan_meier` - survival function of alliance duration with right-censoring (scipy.stats.ecdf).
* `hazard_by_period` - actuarial life table: termination hazard per period of alliance age.
* `describe_point` - one design point's per-alliance outcomes summarised in one flat dict.

For the survival functions the event is "the alliance ended, whatever its outcome" (success,
restructured or failure); alliances still running at the horizon (`censored`) are right-censored
at their age at the horizon.

`wilson_interval`, `success_summary` and `describe_point` make the one-row metrics of every run,
so they live in the engine (`experiments.engine.metrics`) and are imported here.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from experiments.engine.metrics import (
    DECIDED,
    POINT_COLUMNS,
    describe_point,
    success_summary,
    wilson_interval,
)


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")


def paired_difference(
    baseline: ArrayLike, alternative: ArrayLike, confidence: float = 0.95
) -> dict[str, Any]:
    """Mean of the paired differences `alternative - baseline`, with a t confidence interval.

    For two arms run on the same replications (same seeds, common random numbers), so pair i of
    `baseline` and `alternative` share their randomness. Method: the differences d_i are treated
    as one sample; mean = mean(d), sd = sample standard deviation (ddof=1), se = sd / sqrt(n)
    (scipy.stats.sem) and the interval is mean +/- t_{(1+confidence)/2, n-1} * se
    (scipy.stats.t.interval). This is the interval of the paired t-test (scipy.stats.ttest_rel).

    Returns a dict with n, mean, sd, se, ci_low, ci_high and confidence. With n < 2 the spread
    and the interval are nan (mean is nan too when n is 0); with zero variance (every pair differs
    by the same amount) the interval collapses to the mean. A nan in either input propagates.

    Raises ValueError if the inputs are not one-dimensional or have different lengths.
    """
    _check_confidence(confidence)
    base = np.asarray(baseline, dtype=float)
    alt = np.asarray(alternative, dtype=float)
    if base.ndim != 1 or alt.ndim != 1:
        raise ValueError("paired_difference needs one-dimensional samples")
    if base.shape != alt.shape:
        raise ValueError(
            f"paired samples must have the same length: baseline has {base.size}, alternative {alt.size}"
        )
    diff = alt - base
    n = int(diff.size)
    nan = float("nan")
    mean = float(diff.mean()) if n else nan
    if n < 2:
        sd = se = low = high = nan
    else:
        sd = float(diff.std(ddof=1))
        se = float(stats.sem(diff))
        if se == 0:
            low = high = mean  # no spread: t.interval would give nan for scale 0
        else:
            low, high = (float(x) for x in stats.t.interval(confidence, df=n - 1, loc=mean, scale=se))
    return {
        "n": n,
        "mean": mean,
        "sd": sd,
        "se": se,
        "ci_low": low,
        "ci_high": high,
        "confidence": confidence,
    }


def _survival_inputs(durations: ArrayLike, ended: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validated (durations as float, ended as bool) arrays of equal length."""
    time = np.asarray(durations, dtype=float)
    flag = np.asarray(ended)
    if time.ndim != 1 or flag.ndim != 1:
        raise ValueError("durations and ended must be one-dimensional")
    if time.shape != flag.shape:
        raise ValueError(f"durations ({time.size}) and ended ({flag.size}) must have the same length")
    if flag.dtype != bool:
        if flag.size and not np.isin(flag, [0, 1]).all():
            raise ValueError("ended must be boolean (True = the alliance ended, False = censored)")
        flag = flag.astype(bool)
    if not np.isfinite(time).all() or (time < 0).any():
        raise ValueError("durations must be finite and non-negative")
    return time, flag


def kaplan_meier(
    durations: ArrayLike,
    ended: ArrayLike,
    confidence: float = 0.95,
    method: Literal["linear", "log-log"] = "linear",
) -> pd.DataFrame:
    """Kaplan-Meier (product-limit) survival function of alliance duration.

    The event is "the alliance ended, whatever its outcome": `ended[i]` is True when alliance i
    ended after `durations[i]` weeks, False when it was still running at the horizon, i.e.
    right-censored at that age. S(t) is the probability that an alliance is still running at
    age t: S(t) = prod over event times t_j <= t of (1 - d_j / n_j), with d_j alliances ending
    at t_j out of n_j still at risk (duration >= t_j, so alliances censored at t_j count as at
    risk then). Computed by `scipy.stats.ecdf` on `scipy.stats.CensoredData.right_censored`.

    The pointwise interval comes from `res.sf.confidence_interval(confidence, method=method)`:
    "linear" is Greenwood's formula (clipped to [0, 1]), "log-log" the exponential Greenwood
    formula. Both are undefined (nan) where the survival estimate has dropped to 0; scipy's
    RuntimeWarning about it is silenced here.

    Returns a DataFrame with columns time, survival, ci_low, ci_high: one row per distinct
    observed duration (events and censorings; the function is a step that holds between rows),
    preceded by a row at time 0 with survival 1 (interval [1, 1]) unless some alliances lasted
    0 weeks, in which case the first row is time 0 with S(0) < 1.
    """
    _check_confidence(confidence)
    time, flag = _survival_inputs(durations, ended)
    res = stats.ecdf(stats.CensoredData.right_censored(time, ~flag))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The confidence interval is undefined", RuntimeWarning)
        ci = res.sf.confidence_interval(confidence, method=method)
    frame = pd.DataFrame(
        {
            "time": np.asarray(res.sf.quantiles, dtype=float),
            "survival": np.asarray(res.sf.probabilities, dtype=float),
            "ci_low": np.asarray(ci.low.probabilities, dtype=float),
            "ci_high": np.asarray(ci.high.probabilities, dtype=float),
        }
    )
    if len(frame) == 0 or frame["time"].iloc[0] > 0:
        origin = pd.DataFrame({"time": [0.0], "survival": [1.0], "ci_low": [1.0], "ci_high": [1.0]})
        frame = pd.concat([origin, frame], ignore_index=True)
    return frame


def hazard_by_period(
    durations: ArrayLike, ended: ArrayLike, period_weeks: float, max_weeks: float | None = None
) -> pd.DataFrame:
    """Actuarial life table of alliance termination by period of alliance age.

    The event is "the alliance ended, whatever its outcome"; `ended` False means still running
    at the horizon (censored). Periods are (start, end] in weeks of age with end = start +
    `period_weeks`; the first, [0, period_weeks], also takes alliances that lasted 0 weeks. An
    alliance lasting d weeks falls in the period whose end is the first multiple of
    `period_weeks` >= d, so an alliance ended at its first annual review (d = 52 with 52-week
    periods) counts in the first year.

    Per period: at_risk = alliances still running at its start (duration > start; all of them
    for the first period), ended and censored = alliances ending / censored within it, and
    hazard = ended / (at_risk - censored / 2): the conditional probability of ending within the
    period given running at its start, with the actuarial adjustment that an alliance censored
    within the period was at risk for half of it on average. hazard is nan when nobody is at
    risk. Without censoring, the product of (1 - hazard) over periods equals the Kaplan-Meier
    survival at the end of the last of them.

    Periods run from 0 to the longest duration, or to `max_weeks` if given (to put several
    tables on the same rows). Returns columns start, end, at_risk, ended, censored, hazard.
    """
    time, flag = _survival_inputs(durations, ended)
    if not period_weeks > 0:
        raise ValueError(f"period_weeks must be positive, got {period_weeks!r}")
    horizon = float(time.max(initial=0.0)) if max_weeks is None else float(max_weeks)
    n_periods = max(1, int(np.ceil(horizon / period_weeks)))
    period = np.maximum(np.ceil(time / period_weeks).astype(np.int64) - 1, 0)
    length = max(n_periods, int(period.max(initial=0)) + 1)
    ended_n = np.bincount(period[flag], minlength=length)
    censored_n = np.bincount(period[~flag], minlength=length)
    leaving = ended_n + censored_n
    at_risk = leaving[::-1].cumsum()[::-1]  # alliances in this period or a later one
    exposed = at_risk - censored_n / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        hazard = np.where(exposed > 0, ended_n / exposed, np.nan)
    start = np.arange(n_periods) * float(period_weeks)
    return pd.DataFrame(
        {
            "start": start,
            "end": start + period_weeks,
            "at_risk": at_risk[:n_periods].astype(np.int64),
            "ended": ended_n[:n_periods].astype(np.int64),
            "censored": censored_n[:n_periods].astype(np.int64),
            "hazard": hazard[:n_periods],
        }
    )


__all__ = [
    "DECIDED",
    "POINT_COLUMNS",
    "describe_point",
    "hazard_by_period",
    "kaplan_meier",
    "paired_difference",
    "success_summary",
    "wilson_interval",
]
