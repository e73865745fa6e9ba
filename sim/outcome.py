"""What counts as success: the one place where an alliance's outcome and reason are defined.

An alliance ends in exactly one of four ways:

* `success`: it reached its planned term (or, with `reviews.early_completion` on, earlier, when
  every partner had already realised its whole expected value) with every partner's objectives
  met, never having been restructured. A partner's objectives are met when its realised value,
  net of every cost it bore (investment, running effort, governance, shocks), is at least
  `coefficients.reviews.objective_share` of the value it expected. This follows the studies we
  calibrate against, where success means the alliance met its parents' objectives, not that it
  merely survived.
* `restructured`: as success, but the objectives met are the renegotiated ones. It counts as
  decided and not as a success: the parents' original objectives were missed.
* `failure`: a partner exited (at a review, or at once because its trust collapsed), or the term
  ended with some partner's objectives missed. The reason is one of REASONS: the dominant cause,
  chosen by `failure_reason` below.
* `censored`: still running at the horizon; excluded from success rates.

The success rate of a run is successes / (successes + failures + restructured).
"""

from __future__ import annotations

import numpy as np

from sim.compiled import formula, kernel_helper, pick
from sim.state import slot_all

OUTCOMES = ("success", "failure", "restructured", "censored")
SUCCESS, FAILURE, RESTRUCTURED, CENSORED = range(4)

REASONS = ("trust_collapse", "value_shortfall", "detected_opportunism", "strategic_drift")
TRUST_COLLAPSE, VALUE_SHORTFALL, DETECTED_OPPORTUNISM, STRATEGIC_DRIFT = range(4)


@formula
def objective_met(realized, expected_total, objective_share):
    """True where a partner slot's realised value is at least its share of the expected value."""
    return realized >= objective_share * expected_total


def objectives_met(
    realized: np.ndarray, expected_total: np.ndarray, member: np.ndarray, objective_share: float
) -> np.ndarray:
    """True for alliances (rows) where every used partner slot met its objectives."""
    return slot_all(objective_met(realized, expected_total, objective_share) | ~member)


@kernel_helper
def objectives_met_row(realized, expected_total, member, row, objective_share):
    """`objectives_met` for one running row, in kernels."""
    for k in range(member.shape[1]):
        if member[row, k] and not objective_met(realized[row, k], expected_total[row, k], objective_share):
            return False
    return True


@formula
def term_outcome(all_met, restructures):
    """Outcome at the end of the term: success, restructured, or failure (value shortfall)."""
    return pick(all_met, pick(restructures > 0, RESTRUCTURED, SUCCESS), FAILURE)


@formula
def value_deficit(value_ratio, value_weight):
    """How much value below expectations pulls a partner's satisfaction down (satisfaction units)."""
    return value_weight * np.maximum(1.0 - value_ratio, 0.0)


@formula
def trust_deficit(trust, trust_reference, trust_weight):
    """How much trust below neutral pulls a partner's satisfaction down (satisfaction units)."""
    return trust_weight * np.maximum(trust_reference - trust, 0.0)


@formula
def failure_reason(
    week, betrayed_week, drift_week, value_ratio, objective_share, value_short, trust_short,
    recent_betrayal_weeks, drift_window_weeks,
):  # fmt: skip
    """Why the exiting partner left: the dominant cause (arrays over exits, or one exit in kernels).

    Precedence: a recently detected betrayal -> detected_opportunism; a recent strategic shift
    caused by a shock -> strategic_drift; then whichever pulled the partner's satisfaction down
    more: value below its objective (`value_ratio < objective_share` and the value deficit at
    least the trust deficit) -> value_shortfall; otherwise the relationship -> trust_collapse.
    `value_short` and `trust_short` are `value_deficit` and `trust_deficit`; an exit forced by
    collapsed trust passes an infinite trust deficit.
    """
    value_dominates = (value_ratio < objective_share) & (value_short >= trust_short)
    return np.int8(
        pick(
            week - betrayed_week <= recent_betrayal_weeks,
            DETECTED_OPPORTUNISM,
            pick(
                week - drift_week <= drift_window_weeks,
                STRATEGIC_DRIFT,
                pick(value_dominates, VALUE_SHORTFALL, TRUST_COLLAPSE),
            ),
        )
    )


def success_rate(outcomes) -> float:
    """Successes over decided alliances (censored excluded); nan when none is decided."""
    outcomes = np.asarray(outcomes)
    decided = np.isin(outcomes, ["success", "failure", "restructured"])
    n = int(decided.sum())
    return float(np.sum(outcomes == "success") / n) if n else float("nan")
