"""Statistics for reporting simulation results: confidence intervals for success rates."""

from __future__ import annotations

from scipy.stats import binomtest


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion of `successes` out of `n` trials.

    Returns (low, high) as proportions in [0, 1], or (nan, nan) when `n` is 0 (nothing decided,
    so nothing to estimate). Wilson behaves well near 0 and 1 and for small `n`, unlike the
    normal-approximation (Wald) interval.
    """
    if n == 0:
        return float("nan"), float("nan")
    ci = binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)
