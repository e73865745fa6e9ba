"""Submodel reviews: partners check the alliance against agreed metrics and decide.

Every `governance.review_interval_weeks` after launch each partner reviews the alliance:

1. Opportunism since the last review is found with chance 1 - (1 - detection_per_review)^weeks;
   a detected act is a betrayal of the co-partners (submodel trust: trust cut, lasting ceiling).
2. With `early_completion` on (off by default: a successful alliance runs on to its term), an
   operating alliance whose every partner has already realised all it expected ends early,
   successfully (restructured, if it was renegotiated); the others go on.
3. Satisfaction = value_weight * judged + trust_weight * (trust - trust_reference), where
   judged = 1 + w * (ratio - 1),
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

Each of the two (`review`, `weekly_checks`) is one compiled kernel a week over the running
alliances; the kernels decide which alliances end and how, and `lifecycle.end` then ends them in
one call (the rules themselves are the `formula` functions below and in `sim.outcome`).
"""

from __future__ import annotations

import numpy as np

from sim import outcome as oc
from sim.compiled import formula, kernel, kernel_helper, pick
from sim.events import EVENT_CODE, record
from sim.mechanisms import lifecycle
from sim.mechanisms import trust as trust_mech
from sim.mechanisms.lifecycle import is_due
from sim.randomness import uniform_at
from sim.state import OPERATE, RESTRUCTURE
from sim.world import slot_entity

DETECTED = EVENT_CODE["opportunism_detected"]
TRUST_SAMPLED = EVENT_CODE["trust"]
REVIEWED = EVENT_CODE["review"]
EXITED = EVENT_CODE["exit"]
RENEGOTIATED = EVENT_CODE["restructured"]


@formula
def detection_probability(undetected_weeks: np.ndarray, per_review: float) -> np.ndarray:
    """Chance a review finds opportunism that went on for `undetected_weeks` weeks."""
    return 1.0 - np.power(1.0 - per_review, undetected_weeks)


@formula
def value_ratio(realized_operating, expected_rate, operate_weeks, grace_weeks: int) -> np.ndarray:
    """Realised over expected value so far; 1 while value is not yet judged."""
    expected = expected_rate * operate_weeks
    judged = (operate_weeks >= max(grace_weeks, 1)) & (expected > 0)
    ratio = pick(judged, realized_operating / pick(expected > 0, expected, 1.0), 1.0)
    return np.minimum(ratio, 1.5)


@formula
def judgement_weight(operate_weeks, grace_weeks: int, ramp_weeks: int) -> np.ndarray:
    """Weight of results in satisfaction: 0 until `grace_weeks` of operation, then rising
    linearly to 1 over `ramp_weeks` (at once when `ramp_weeks` is 0)."""
    weeks = operate_weeks - grace_weeks
    if ramp_weeks == 0:
        return pick(weeks >= 0, 1.0, 0.0)
    return np.minimum(np.maximum(weeks / ramp_weeks, 0.0), 1.0)


@formula
def judged_ratio(ratio, weight) -> np.ndarray:
    """The value ratio as the partner weighs it: on target (1) moved toward `ratio` by `weight`."""
    return 1.0 + weight * (ratio - 1.0)


@formula
def satisfaction(ratio, trust, coef) -> np.ndarray:
    """A partner's satisfaction: its judged value ratio, plus trust above (less trust below) the
    neutral `trust_reference`."""
    return coef.value_weight * ratio + coef.trust_weight * (trust - coef.trust_reference)


@formula
def logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


@formula
def act_probability(sat, coef) -> np.ndarray:
    """Chance a partner acts (restructures or exits) at this review.

    0 while satisfied; for dissatisfaction d = threshold - satisfaction > 0 it rises smoothly
    from 0 along a logistic curve centred at `exit_margin` with scale `exit_temperature`,
    rescaled so that it starts at exactly 0 and tends to 1.
    """
    d = coef.satisfaction_threshold - sat
    t = coef.exit_temperature
    floor = logistic(-coef.exit_margin / t)
    p = (logistic((d - coef.exit_margin) / t) - floor) / (1.0 - floor)
    return pick(d > 0, np.minimum(np.maximum(p, 0.0), 1.0), 0.0)


@formula
def restructure_probability(proactiveness, coef):
    """Chance an acting partner restructures rather than exits (if trust and past restructurings allow)."""
    return np.minimum(
        np.maximum(coef.restructure_base + coef.restructure_proactive * proactiveness, 0.0), 1.0
    )


@formula
def operating_weeks(phase, operate_weeks):
    """Weeks of operation that count for judging value: 0 outside the operate phase."""
    return pick(phase == OPERATE, operate_weeks, 0)


def review(world) -> None:
    """Hold the reviews due this week; end the alliances that complete early or lose a partner."""
    al, n = world.alliances, world.n
    if n == 0:
        return
    coef, events = world.coef, world.events
    ending = np.empty((5, n), dtype=np.int64)
    at, ended = _review(
        n=n, week=world.week, key=world.streams.key("reviews"),
        review_interval_weeks=world.scenario.governance.review_interval_weeks,
        alliance_id=al.alliance_id, start_week=al.start_week, term_weeks=al.term_weeks, phase=al.phase,
        phase_until=al.phase_until, operate_weeks=al.operate_weeks, restructures=al.restructures,
        betrayals=al.betrayals, drift_week=al.drift_week, member=al.member, manager=al.manager,
        proactiveness=world.managers.proactiveness, undetected_weeks=al.undetected_weeks,
        trust_org=al.trust_org, trust_ip=al.trust_ip, trust_ceiling=al.trust_ceiling,
        betrayed_week=al.betrayed_week, realized=al.realized, realized_operating=al.realized_operating,
        expected_rate=al.expected_rate, expected_total=al.expected_total, governance_cost=al.governance_cost,
        c=world.const.reviews,
        detection_per_review=coef.contribution.detection_per_review, betrayal_drop=coef.trust.betrayal_drop,
        betrayal_ceiling=coef.trust.betrayal_ceiling, drift_window_weeks=coef.shocks.drift_window_weeks,
        min_objective=coef.value.min_objective,
        ending=ending, events=events.buffers(n * (3 * al.max_partners + 2)), at=events.count,
    )  # fmt: skip
    events.commit(at)
    _end(world, ending, ended)


def weekly_checks(world) -> None:
    """Trust collapse exits and the end of the planned term (alliances still running)."""
    al, n = world.alliances, world.n
    if n == 0:
        return
    events = world.events
    ending = np.empty((5, n), dtype=np.int64)
    at, ended = _weekly_checks(
        n=n, week=world.week, alliance_id=al.alliance_id, active=al.active, start_week=al.start_week,
        term_weeks=al.term_weeks, phase=al.phase, operate_weeks=al.operate_weeks,
        restructures=al.restructures, drift_week=al.drift_week, member=al.member, trust_org=al.trust_org,
        betrayed_week=al.betrayed_week, realized=al.realized, realized_operating=al.realized_operating,
        expected_rate=al.expected_rate, expected_total=al.expected_total, c=world.const.reviews,
        drift_window_weeks=world.coef.shocks.drift_window_weeks,
        ending=ending, events=events.buffers(n), at=events.count,
    )  # fmt: skip
    events.commit(at)
    _end(world, ending, ended)


def _end(world, ending: np.ndarray, count: int) -> None:
    """End the alliances a kernel decided to end, in one call to `lifecycle.end`.

    `ending` holds, per ending: row, outcome, reason, exiting slot, and the group (the kind of
    ending); alliances end group by group in the order the kernel found them.
    """
    if count == 0:
        return
    rows, outcome, reason, slot, group = ending[:, :count]
    order = np.argsort(group, kind="stable")
    lifecycle.end(world, rows[order], outcome[order], reason[order], slot[order])


@kernel_helper
def _add_ending(ending, count, row, outcome, reason, slot, group):
    ending[0, count] = row
    ending[1, count] = outcome
    ending[2, count] = reason
    ending[3, count] = slot
    ending[4, count] = group
    return count + 1


@kernel_helper
def _exit_reason(week, r, slot, ratio, weight, trust_short, betrayed_week, drift_week, c, drift_window_weeks):
    """Why the partner in `slot` of row `r` exits (sim.outcome.failure_reason); the value deficit
    is the one its satisfaction felt (the ratio as judged with the weight of results `weight`)."""
    value_short = oc.value_deficit(judged_ratio(ratio, weight), c.value_weight)
    return oc.failure_reason(
        week, betrayed_week[r, slot], drift_week[r], ratio, c.objective_share, value_short, trust_short,
        c.recent_betrayal_weeks, drift_window_weeks,
    )  # fmt: skip


@kernel
def _review(
    n, week, key, review_interval_weeks, alliance_id, start_week, term_weeks, phase, phase_until,
    operate_weeks, restructures, betrayals, drift_week, member, manager, proactiveness,
    undetected_weeks, trust_org, trust_ip, trust_ceiling, betrayed_week,
    realized, realized_operating, expected_rate, expected_total, governance_cost,
    c, detection_per_review, betrayal_drop, betrayal_ceiling, drift_window_weeks, min_objective,
    ending, events, at,
):  # fmt: skip
    c = c[0]
    slots = member.shape[1]
    ratio = np.empty(slots)
    sat = np.empty(slots)
    ended = 0
    for r in range(n):
        if not is_due(week - start_week[r], review_interval_weeks):
            continue
        aid = alliance_id[r]

        # 1. opportunism since the last review; a detected act betrays the co-partners
        caught = 0
        for k in range(slots):
            weeks = undetected_weeks[r, k]
            undetected_weeks[r, k] = 0
            if weeks > 0:
                p = detection_probability(weeks, detection_per_review)
                if uniform_at(key, slot_entity(aid, k), week, 0) < p:
                    caught |= 1 << k
                    at = record(events, at, week, aid, DETECTED, k, weeks)
        if caught:
            victims = 0
            for k in range(slots):
                if member[r, k] and not caught & (1 << k):
                    victims += 1
                    old_ceiling = trust_ceiling[r, k]
                    org, new_ceiling = trust_mech.betray(
                        trust_org[r, k], old_ceiling, betrayal_drop, betrayal_ceiling
                    )
                    ip, new_ceiling = trust_mech.betray(
                        trust_ip[r, k], old_ceiling, betrayal_drop, betrayal_ceiling
                    )
                    trust_org[r, k] = org
                    trust_ip[r, k] = ip
                    trust_ceiling[r, k] = new_ceiling
                    betrayed_week[r, k] = week
            if victims:
                betrayals[r] += 1

        # 2. each partner's satisfaction
        operating = operating_weeks(phase[r], operate_weeks[r])
        weight = judgement_weight(operating, c.grace_weeks, c.judgement_ramp_weeks)
        at = record(events, at, week, aid, TRUST_SAMPLED, -1, trust_mech.row_mean(trust_org, member, r))
        done = phase[r] == OPERATE and c.early_completion
        for k in range(slots):
            ratio[k] = value_ratio(realized_operating[r, k], expected_rate[r, k], operating, c.grace_weeks)
            sat[k] = np.inf
            if member[r, k]:
                sat[k] = satisfaction(judged_ratio(ratio[k], weight), trust_org[r, k], c)
                at = record(events, at, week, aid, REVIEWED, k, sat[k])
                if not realized[r, k] >= expected_total[r, k]:
                    done = False

        # 3. early completion: every partner has realised all it expected
        if done:
            result = oc.RESTRUCTURED if restructures[r] > 0 else oc.SUCCESS
            ended = _add_ending(ending, ended, r, result, -1, -1, 0)
            continue

        # 4. unhappy partners act: restructure or exit
        can_restructure = restructures[r] < c.max_restructures and phase[r] == OPERATE
        exiting = -1
        redo = False
        for k in range(slots):
            if not member[r, k]:
                continue
            sid = slot_entity(aid, k)
            if not uniform_at(key, sid, week, 1) < act_probability(sat[k], c):
                continue
            if (
                can_restructure
                and trust_org[r, k] >= c.restructure_min_trust
                and uniform_at(key, sid, week, 2) < restructure_probability(proactiveness[manager[r, k]], c)
            ):
                redo = True
            elif exiting < 0 or sat[k] < sat[exiting]:
                exiting = k  # the most dissatisfied of the exiting partners speaks for the exit
        if exiting >= 0:
            at = record(events, at, week, aid, EXITED, exiting, trust_org[r, exiting])
            trust_short = oc.trust_deficit(trust_org[r, exiting], c.trust_reference, c.trust_weight)
            reason = _exit_reason(
                week, r, exiting, ratio[exiting], weight, trust_short, betrayed_week, drift_week, c,
                drift_window_weeks,
            )
            ended = _add_ending(ending, ended, r, oc.FAILURE, reason, exiting, 1)
        elif redo:
            at = _restructure(
                r=r, week=week, aid=aid, start_week=start_week, term_weeks=term_weeks, phase=phase,
                phase_until=phase_until, operate_weeks=operate_weeks, restructures=restructures,
                member=member,
                realized=realized, realized_operating=realized_operating, expected_rate=expected_rate,
                expected_total=expected_total, governance_cost=governance_cost, c=c,
                min_objective=min_objective, events=events, at=at,
            )  # fmt: skip
    return at, ended


@kernel_helper
def _restructure(
    r, week, aid, start_week, term_weeks, phase, phase_until, operate_weeks, restructures, member,
    realized, realized_operating, expected_rate, expected_total, governance_cost, c, min_objective, events,
    at,
):  # fmt: skip
    """Renegotiate: expectations move toward what is being realised, at a cost, for a while."""
    weeks = np.maximum(operate_weeks[r], 1)
    remaining = np.maximum(start_week[r] + term_weeks[r] - week - c.restructure_weeks, 0)
    for k in range(member.shape[1]):
        if not member[r, k]:
            expected_rate[r, k] = 0.0
            expected_total[r, k] = 0.0
            continue
        rate = expected_rate[r, k]
        new_rate = np.maximum(
            rate + c.renegotiated_expectation * (realized_operating[r, k] / weeks - rate), 0.0
        )
        realized[r, k] -= c.restructure_cost
        governance_cost[r, k] += c.restructure_cost
        expected_rate[r, k] = new_rate
        expected_total[r, k] = np.maximum(realized[r, k] + new_rate * remaining, min_objective)
    phase[r] = RESTRUCTURE
    phase_until[r] = week + c.restructure_weeks
    restructures[r] += 1
    for k in range(member.shape[1]):
        if member[r, k]:
            at = record(events, at, week, aid, RENEGOTIATED, k, expected_rate[r, k])
    return at


@kernel
def _weekly_checks(
    n, week, alliance_id, active, start_week, term_weeks, phase, operate_weeks, restructures, drift_week,
    member, trust_org, betrayed_week, realized, realized_operating, expected_rate, expected_total,
    c, drift_window_weeks, ending, events, at,
):  # fmt: skip
    c = c[0]
    ended = 0
    for r in range(n):
        if not active[r]:
            continue
        # a partner whose trust collapsed exits at once (the least trusting one, if several)
        weakest = -1
        for k in range(member.shape[1]):
            if member[r, k] and (weakest < 0 or trust_org[r, k] < trust_org[r, weakest]):
                weakest = k
        if weakest >= 0 and trust_org[r, weakest] < c.trust_collapse:
            operating = operating_weeks(phase[r], operate_weeks[r])
            ratio = value_ratio(
                realized_operating[r, weakest], expected_rate[r, weakest], operating, c.grace_weeks
            )
            at = record(events, at, week, alliance_id[r], EXITED, weakest, trust_org[r, weakest])
            # the exit is forced by trust: the relationship is its cause (unless betrayal or drift)
            reason = _exit_reason(
                week, r, weakest, ratio, 1.0, np.inf, betrayed_week, drift_week, c, drift_window_weeks
            )
            ended = _add_ending(ending, ended, r, oc.FAILURE, reason, weakest, 0)
        elif week - start_week[r] >= term_weeks[r]:
            met = oc.objectives_met_row(realized, expected_total, member, r, c.objective_share)
            result = oc.term_outcome(met, restructures[r])
            reason = oc.VALUE_SHORTFALL if result == oc.FAILURE else -1
            ended = _add_ending(ending, ended, r, result, reason, -1, 1)
    return at, ended
