"""Submodel reviews: partners check the alliance against agreed metrics and decide.

Every `governance.review_interval_weeks` after launch each partner reviews the alliance:

1. Opportunism since the last review is found with chance 1 - (1 - detection_per_review)^weeks;
   a detected act is a betrayal of the co-partners (submodel trust: trust cut, lasting ceiling).
2. If every partner of an operating alliance has already realised all it expected, the alliance
   ends early, successfully (restructured, if it was renegotiated); the others go on.
3. Satisfaction = value_weight * judged + trust_weight * trust, where judged = 1 + w * (ratio - 1),
   ratio = min(realised / expected value, 1.5) with value counted since the alliance last
   entered the operate phase (after investing, or after a restructuring), and w the weight of
   results: 0 for the first `grace_weeks` of operation (the value term counts as on target),
   then rising linearly to 1 over `judgement_ramp_weeks` (a honeymoon: partners judge a young
   alliance on its results gradually, so early reviews rarely end it; Fichman & Levinthal's
   explanation of the inverted-U hazard that Park & Russo observed).
4. An unhappy partner (satisfaction below `satisfaction_threshold`) acts with a chance that
   rises smoothly from 0 with its dissatisfaction (`act_probability`: a logistic curve centred
   at `exit_margin`, scale `exit_temperature`, rescaled to start at 0). Acting, it restructures
   with chance restructure_base + restructure_proactive * its manager's proactiveness (proactive
   leaders renegotiate rather than walk away) if trust and the count of past restructurings allow,
   and otherwise exits: the alliance fails, with the reason given by `sim.outcome.failure_reason`.

Every week, not only at reviews: a partner whose trust falls below `trust_collapse` exits at once,
and an alliance that reaches its planned term ends with the outcome `sim.outcome.term_outcome`.
"""

from __future__ import annotations

import numpy as np

from sim import outcome as oc
from sim.mechanisms import lifecycle
from sim.mechanisms import trust as trust_mech
from sim.state import OPERATE, RESTRUCTURE, slot_all, slot_any, slot_min


def detection_probability(undetected_weeks: np.ndarray, per_review: float) -> np.ndarray:
    return 1.0 - (1.0 - per_review) ** undetected_weeks


def value_ratio(realized_operating, expected_rate, operate_weeks, grace_weeks: int) -> np.ndarray:
    """Realised over expected value so far; 1 while value is not yet judged."""
    expected = expected_rate * operate_weeks
    judged = (operate_weeks >= max(grace_weeks, 1)) & (expected > 0)
    ratio = np.where(judged, realized_operating / np.where(expected > 0, expected, 1.0), 1.0)
    return np.minimum(ratio, 1.5)


def judgement_weight(operate_weeks, grace_weeks: int, ramp_weeks: int) -> np.ndarray:
    """Weight of results in satisfaction: 0 until `grace_weeks` of operation, then rising
    linearly to 1 over `ramp_weeks` (at once when `ramp_weeks` is 0)."""
    weeks = np.asarray(operate_weeks, dtype=np.float64) - grace_weeks
    if ramp_weeks == 0:
        return (weeks >= 0).astype(np.float64)
    return np.clip(weeks / ramp_weeks, 0.0, 1.0)


def judged_ratio(ratio, weight) -> np.ndarray:
    """The value ratio as the partner weighs it: on target (1) moved toward `ratio` by `weight`."""
    return 1.0 + weight * (ratio - 1.0)


def satisfaction(ratio, trust, coef) -> np.ndarray:
    return coef.value_weight * ratio + coef.trust_weight * trust


def act_probability(sat, coef) -> np.ndarray:
    """Chance a partner acts (restructures or exits) at this review.

    0 while satisfied; for dissatisfaction d = threshold - satisfaction > 0 it rises smoothly
    from 0 along a logistic curve centred at `exit_margin` with scale `exit_temperature`,
    rescaled so that it starts at exactly 0 and tends to 1.
    """
    d = coef.satisfaction_threshold - np.asarray(sat, dtype=np.float64)
    t = coef.exit_temperature

    def logistic(x):
        return 1.0 / (1.0 + np.exp(-x))

    floor = logistic(-coef.exit_margin / t)
    p = (logistic((d - coef.exit_margin) / t) - floor) / (1.0 - floor)
    return np.where(d > 0, np.clip(p, 0.0, 1.0), 0.0)


def _ratio(world, rows):
    al = world.alliances
    return value_ratio(
        al.realized_operating[rows],
        al.expected_rate[rows],
        np.where(al.phase[rows] == OPERATE, al.operate_weeks[rows], 0)[:, None],
        world.coef.reviews.grace_weeks,
    )


def _fail(world, rows: np.ndarray, slot: np.ndarray, ratio_of_slot: np.ndarray) -> None:
    al, c, sc = world.alliances, world.coef.reviews, world.coef.shocks
    reason = oc.failure_reason(
        world.week,
        al.betrayed_week[rows, slot],
        al.drift_week[rows],
        ratio_of_slot,
        c.objective_share,
        c.recent_betrayal_weeks,
        sc.drift_window_weeks,
    )
    world.events.log(world.week, world.ids(rows), "exit", slot=slot, value=al.trust_org[rows, slot])
    lifecycle.end(world, rows, oc.FAILURE, reason, slot)


def detect_opportunism(world, rows: np.ndarray) -> None:
    al, c, tc = world.alliances, world.coef.contribution, world.coef.trust
    weeks = al.undetected_weeks[rows]
    p = detection_probability(weeks, c.detection_per_review)
    caught = world.streams.bernoulli("reviews", world.slot_ids(rows), world.week, p, draw=0) & (weeks > 0)
    al.undetected_weeks[rows] = 0
    hit, cols = np.nonzero(caught)
    if hit.size == 0:
        return
    world.events.log(
        world.week, world.ids(rows[hit]), "opportunism_detected", slot=cols, value=weeks[hit, cols]
    )
    betrayed = np.unique(hit)
    r = rows[betrayed]
    victims = al.member[r] & ~caught[betrayed]
    ceiling = al.trust_ceiling[r]
    for arr in (al.trust_org, al.trust_ip):
        new_t, new_c = trust_mech.betray(arr[r], ceiling, tc.betrayal_drop, tc.betrayal_ceiling)
        arr[r] = np.where(victims, new_t, arr[r])
    al.trust_ceiling[r] = np.where(victims, new_c, ceiling)
    al.betrayed_week[r] = np.where(victims, world.week, al.betrayed_week[r])
    al.betrayals[r] += slot_any(victims)


def review(world) -> None:
    """Hold the reviews due this week."""
    al, c, gov, week, n = world.alliances, world.coef.reviews, world.scenario.governance, world.week, world.n
    age = week - al.start_week[:n]
    rows = np.flatnonzero((age > 0) & (age % gov.review_interval_weeks == 0))
    if rows.size == 0:
        return
    detect_opportunism(world, rows)

    member = al.member[rows]
    ratio = _ratio(world, rows)
    operating = np.where(al.phase[rows] == OPERATE, al.operate_weeks[rows], 0)[:, None]
    judged = judged_ratio(ratio, judgement_weight(operating, c.grace_weeks, c.judgement_ramp_weeks))
    sat = np.where(member, satisfaction(judged, al.trust_org[rows], c), np.inf)
    world.events.log(week, world.ids(rows), "trust", value=al.slot_mean(al.trust_org[rows], member))
    r, cols = np.nonzero(member)
    world.events.log(week, world.ids(rows[r]), "review", slot=cols, value=sat[r, cols])

    # early completion: every partner has realised all it expected
    done = slot_all((al.realized[rows] >= al.expected_total[rows]) | ~member) & (al.phase[rows] == OPERATE)
    if done.any():
        d = rows[done]
        lifecycle.end(world, d, np.where(al.restructures[d] > 0, oc.RESTRUCTURED, oc.SUCCESS))
        keep = ~done
        rows, member, ratio, sat = rows[keep], member[keep], ratio[keep], sat[keep]
        if rows.size == 0:
            return

    slots = world.slot_ids(rows)
    acts = world.streams.bernoulli("reviews", slots, week, act_probability(sat, c), draw=1) & member
    pro = world.team.proactiveness[rows]
    can_restructure = (
        (al.restructures[rows] < c.max_restructures)[:, None]
        & (al.trust_org[rows] >= c.restructure_min_trust)
        & (al.phase[rows] == OPERATE)[:, None]
    )
    prefers = world.streams.bernoulli(
        "reviews",
        slots,
        week,
        np.clip(c.restructure_base + c.restructure_proactive * pro, 0, 1),
        draw=2,
    )
    restructures = acts & can_restructure & prefers
    exits = acts & ~restructures

    failing = slot_any(exits)
    if failing.any():
        f_ids = rows[failing]
        # the most dissatisfied of the exiting partners speaks for the exit
        slot = np.argmin(np.where(exits[failing], sat[failing], np.inf), axis=1)
        _fail(world, f_ids, slot, ratio[failing][np.arange(f_ids.size), slot])

    redo = slot_any(restructures) & ~failing
    if redo.any():
        restructure(world, rows[redo])


def restructure(world, rows: np.ndarray) -> None:
    """Renegotiate: expectations move toward what is being realised, at a cost, for a while."""
    al, c, week = world.alliances, world.coef.reviews, world.week
    member = al.member[rows]
    weeks = np.maximum(al.operate_weeks[rows], 1)[:, None]
    realised_rate = al.realized_operating[rows] / weeks
    new_rate = al.expected_rate[rows] + c.renegotiated_expectation * (realised_rate - al.expected_rate[rows])
    new_rate = np.maximum(new_rate, 0.0)
    remaining = np.maximum(al.start_week[rows] + al.term_weeks[rows] - week - c.restructure_weeks, 0)[:, None]
    al.realized[rows] -= np.where(member, c.restructure_cost, 0.0)
    al.expected_rate[rows] = np.where(member, new_rate, 0.0)
    objective = np.maximum(al.realized[rows] + new_rate * remaining, world.coef.value.min_objective)
    al.expected_total[rows] = np.where(member, objective, 0.0)
    al.phase[rows] = RESTRUCTURE
    al.phase_until[rows] = week + c.restructure_weeks
    al.restructures[rows] += 1
    r, cols = np.nonzero(member)
    world.events.log(week, world.ids(rows[r]), "restructured", slot=cols, value=new_rate[r, cols])


def weekly_checks(world) -> None:
    """Trust collapse exits and the end of the planned term (alliances still running)."""
    al, c, week = world.alliances, world.coef.reviews, world.week
    rows = np.flatnonzero(al.active[: world.n])
    if rows.size == 0:
        return
    member = al.member[rows]
    trust = np.where(member, al.trust_org[rows], np.inf)
    collapsed = slot_min(trust) < c.trust_collapse
    if collapsed.any():
        f_ids = rows[collapsed]
        slot = np.argmin(trust[collapsed], axis=1)
        ratio = _ratio(world, f_ids)[np.arange(f_ids.size), slot]
        _fail(world, f_ids, slot, ratio)
        rows = rows[~collapsed]
    at_term = week - al.start_week[rows] >= al.term_weeks[rows]
    if at_term.any():
        t_ids = rows[at_term]
        met = oc.objectives_met(
            al.realized[t_ids], al.expected_total[t_ids], al.member[t_ids], c.objective_share
        )
        result = oc.term_outcome(met, al.restructures[t_ids])
        reason = np.where(result == oc.FAILURE, oc.VALUE_SHORTFALL, -1)
        lifecycle.end(world, t_ids, result, reason)
