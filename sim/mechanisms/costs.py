"""Submodel costs: what governance costs each partner, week by week.

Governance is not free. Each week, from the invest phase on, every partner of a running alliance
pays (in value units, `coefficients.costs`):

    function_per_year(its firm's alliance function) / 52 / the firm's running alliances
    + (training x training_per_year + hiring_for_collaboration x hiring_per_year
       + informal incentives x informal_per_year + leadership consistency x leadership_per_year
       + the conflict-resolution mode's per_year) / 52
    + steering_per_meeting          in a week its steering committee is due
    + review_per_review             in a week a review is due

The firm's alliance function is an overhead shared over the alliances the firm runs: a firm with
one alliance pays all of its function's cost there, one with four pays a quarter in each.

The other levers are priced where they act: meetings (submodel meetings), risk clinics (submodel
shocks), the charter and the insight workshop at launch (submodel formation), renegotiation
(submodel reviews) and formal incentives, paid out of the partner's share of value (submodel
value). Every one of these is added to the partner's `governance_cost` as well as taken from its
realised value, so `governance_cost` is the whole price of the design. Effort is also costly
while the alliance runs (`value.effort_cost_per_week`), but that is the cost of doing the
alliance's work, not of governing it, and is not counted as governance.
"""

from __future__ import annotations

import numpy as np

from sim.compiled import formula, kernel
from sim.mechanisms.lifecycle import is_due
from sim.state import NEGOTIATE, by_function_type

WEEKS_PER_YEAR = 52.0


@formula
def function_cost_per_week(function_type, firm_alliances, coef):
    """A firm's weekly alliance-function cost borne by one of its alliances (shared equally)."""
    per_year = by_function_type(
        function_type,
        0.0,
        coef.function_per_year_central_function,
        coef.function_per_year_center_of_excellence,
        coef.function_per_year_community_of_practice,
    )
    return per_year / WEEKS_PER_YEAR / np.maximum(firm_alliances, 1)


@formula
def practice_cost_per_week(training, hiring, informal, consistency, mode_per_year, coef):
    """Weekly cost to one partner of its firm's people practices, incentives and conflict mode."""
    return (
        training * coef.training_per_year
        + hiring * coef.hiring_per_year
        + informal * coef.informal_per_year
        + consistency * coef.leadership_per_year
        + mode_per_year
    ) / WEEKS_PER_YEAR


def mode_cost_per_year(conflict_resolution: str, coef) -> float:
    """Yearly time cost of the conflict-resolution mode (ad hoc costs nothing)."""
    return {
        "collaborative": coef.collaborative_per_year,
        "escalation": coef.escalation_per_year,
        "ad_hoc": 0.0,
    }[conflict_resolution]


def any_cost(coef) -> bool:
    """True when some weekly cost of this submodel is not zero (otherwise the week is skipped)."""
    charged_elsewhere = ("charter", "formal_incentive_payout")
    return any(getattr(coef, name) > 0 for name in type(coef).model_fields if name not in charged_elsewhere)


def apply(world) -> None:
    """Charge this week's governance costs to every partner of the alliances past negotiation."""
    al, n = world.alliances, world.n
    coef = world.coef.costs
    if n == 0 or not any_cost(coef):
        return
    gov, f = world.scenario.governance, world.firms
    _weekly(
        n=n,
        week=world.week,
        phase=al.phase,
        start_week=al.start_week,
        member=al.member,
        firm=al.firm,
        function_type=f.function_type,
        firm_alliances=f.active_alliances,
        training=f.training,
        hiring=f.hiring_for_collaboration,
        informal=f.incentives_informal,
        consistency=f.leadership_consistency,
        mode_per_year=float(mode_cost_per_year(gov.conflict_resolution, coef)),
        steering=gov.steering_committee,
        steering_interval=gov.steering_interval_weeks,
        review_interval=gov.review_interval_weeks,
        realized=al.realized,
        realized_operating=al.realized_operating,
        governance_cost=al.governance_cost,
        c=world.const.costs,
    )


@kernel
def _weekly(
    n, week, phase, start_week, member, firm, function_type, firm_alliances, training, hiring, informal,
    consistency, mode_per_year, steering, steering_interval, review_interval, realized, realized_operating,
    governance_cost, c,
):  # fmt: skip
    c = c[0]
    for r in range(n):
        if phase[r] == NEGOTIATE:
            continue
        age = week - start_week[r]
        due = 0.0
        if steering and is_due(age, steering_interval):
            due += c.steering_per_meeting
        if is_due(age, review_interval):
            due += c.review_per_review
        for k in range(member.shape[1]):
            if not member[r, k]:
                continue
            g = firm[r, k]
            practices = practice_cost_per_week(
                training[g], hiring[g], informal[g], consistency[g], mode_per_year, c
            )
            cost = function_cost_per_week(function_type[g], firm_alliances[g], c) + practices + due
            realized[r, k] -= cost
            realized_operating[r, k] -= cost
            governance_cost[r, k] += cost
