"""Submodel formation: which firms ally, and how a new alliance starts.

`cohort` mode forms `formation.n_alliances` alliances at week 0; `ongoing` mode forms a Poisson
number (mean `formation.rate_per_week`) every week. Either way one alliance forms like this:

1. An initiator is drawn among the firms with a free seat (fewer than `max_alliances_per_firm`
   active alliances).
2. Partners are added one at a time, each drawn among the other firms with a free seat with
   probability proportional to exp(complementarity_preference * complementarity with the
   initiator + prior_trust_preference * how much more it trusts it than a stranger, after a
   previous alliance), so firms prefer complementary partners and partners they already trust:
   repeat ties happen (Gulati).
3. The alliance is a dyad, or with chance `multi_partner_share` has 3..max_partners partners;
   it is horizontal with chance `horizontal_share`, formed top-down without strategic insight with
   chance `top_down_share`, and has a planned term drawn from `term_weeks` (lognormal around
   its median by default: alliance lives are skewed, most mid-length, a few very long).
4. Perceived complementarity is the mean over partner pairs of a pair trait; actual
   complementarity is lower for top-down alliances (`top_down_complementarity`) unless an insight
   workshop recovers part of it. Expectations are set from the perceived value.
5. Trust starts near `trust.initial_mean` (never below `reviews.trust_collapse`: partners who
   trusted each other less would not have signed), capped by the alliance's drawn rapport (the
   ceiling its trust can grow to); for repeat partners it is a blend that gives
   `repeat_partner_carryover` weight to the trust they parted with. Familiarity starts from their
   joint history.
6. Each side is run by the firm's least loaded manager. A risk clinic at launch is held if the
   governance asks for one.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from sim.mechanisms import shocks
from sim.mechanisms.contribution import incentive_index
from sim.mechanisms.friction import kogut_singh
from sim.mechanisms.value import expected_rate
from sim.state import NEGOTIATE, slot_max, slot_min

# draw indices in the `formation` stream, per formation
_DRAW_INITIATOR, _DRAW_KIND, _DRAW_TOP_DOWN, _DRAW_SIZE, _DRAW_SIZE_N, _DRAW_TERM = range(6)
_DRAW_PARTNER0 = 16  # + seat number


def pair_complementarity(world, a: int, b: np.ndarray) -> np.ndarray:
    """Perceived complementarity of firm `a` with each firm in `b` (symmetric, fixed per pair).

    Normal with the scenario's mean and sd, clipped to [0.05, 1]; the draw is addressed by the
    pair (stream `pairs`), so it is the same whenever the two firms consider each other.
    """
    b = np.asarray(b, dtype=np.int64)
    z = world.streams.pair_normal("pairs", np.minimum(a, b), np.maximum(a, b))
    dist = world.scenario.formation.complementarity
    return np.clip(dist.mean + dist.sd * z, 0.05, 1.0)


def trust_advantage(world, a: int, candidates: np.ndarray) -> np.ndarray:
    """How much more firm `a` trusts each candidate than a stranger, from their last alliance.

    Strangers count 0; a former partner counts (trust at parting - trust.initial_mean), so one
    that parted on bad terms is avoided, not preferred.
    """
    hist = world.firms.partner_history.get(a)
    out = np.zeros(candidates.shape[0])
    if hist:
        start = world.coef.trust.initial_mean
        out = np.array([hist[g][1] - start if g in hist else 0.0 for g in candidates.tolist()])
    return out


def _pick(weights: np.ndarray, u: float) -> int:
    cdf = np.cumsum(weights)
    return int(min(np.searchsorted(cdf, u * cdf[-1], side="right"), weights.size - 1))


def choose_partners(world, entity: int, week: int, n_partners: int) -> list[int] | None:
    """The firms of one new alliance, or None if too few firms have a free seat."""
    f, c = world.firms, world.coef.formation
    cap = world.scenario.formation.max_alliances_per_firm
    free = np.flatnonzero(f.active_alliances < cap)
    if free.size < n_partners:
        return None
    s = world.streams
    ent = np.array([entity])
    initiator = int(
        free[
            min(
                int(s.uniform("formation", ent, week, _DRAW_INITIATOR)[0] * free.size),
                free.size - 1,
            )
        ]
    )
    group = [initiator]
    for seat in range(1, n_partners):
        cands = free[~np.isin(free, group)]
        logit = c.complementarity_preference * pair_complementarity(
            world, initiator, cands
        ) + c.prior_trust_preference * trust_advantage(world, initiator, cands)
        w = np.exp(logit - logit.max())
        u = float(s.uniform("formation", ent, week, _DRAW_PARTNER0 + seat)[0])
        group.append(int(cands[_pick(w, u)]))
    return group


def form(world, count: int, week: int) -> np.ndarray:
    """Form up to `count` alliances this week; return the rows of those formed."""
    fm = world.scenario.formation
    s = world.streams
    groups, kinds, top_down, terms = [], [], [], []
    for k in range(count):
        ent = np.array([k])
        n = 2
        if (
            fm.multi_partner_share > 0
            and s.uniform("formation", ent, week, _DRAW_SIZE)[0] < fm.multi_partner_share
        ):
            span = fm.max_partners - 2
            n = (
                3 + min(int(s.uniform("formation", ent, week, _DRAW_SIZE_N)[0] * span), span - 1)
                if span > 0
                else 2
            )
        group = choose_partners(world, k, week, n)
        if group is None:
            break
        world.firms.active_alliances[group] += 1
        groups.append(group)
        kinds.append(int(s.uniform("formation", ent, week, _DRAW_KIND)[0] < fm.horizontal_share))
        top_down.append(bool(s.uniform("formation", ent, week, _DRAW_TOP_DOWN)[0] < fm.top_down_share))
        terms.append(planned_term(s.uniform("formation", ent, week, _DRAW_TERM)[0], fm.term_weeks))
    if not groups:
        return np.zeros(0, dtype=np.int64)
    return launch(world, groups, np.array(kinds), np.array(top_down), np.array(terms), week)


def launch(world, groups: list[list[int]], kinds, top_down, terms, week: int) -> np.ndarray:
    """Write new alliances into the table and hold their launch activities; return their rows."""
    al, f, mgr, sc = world.alliances, world.firms, world.managers, world.scenario
    tc, vc = world.coef.trust, world.coef.value
    rows = al.add(len(groups))
    per_firm = sc.managers.per_firm
    for a, group in zip(rows.tolist(), groups):
        for k, firm in enumerate(group):
            al.member[a, k] = True
            al.firm[a, k] = firm
            positions = np.arange(firm * per_firm, (firm + 1) * per_firm)
            m = int(positions[np.argmin(mgr.load[positions])])
            al.manager[a, k] = m
            mgr.load[m] += 1
        al.n_partners[a] = len(group)
        pairs = [
            pair_complementarity(world, group[i], np.array([group[j]]))[0]
            for i in range(len(group))
            for j in range(i + 1, len(group))
        ]
        al.perceived_complementarity[a] = float(np.mean(pairs))
    member = al.member[rows]
    al.active[rows] = True
    al.phase[rows] = NEGOTIATE
    al.phase_until[rows] = week + sc.formation.negotiate_weeks
    al.kind[rows] = kinds
    al.top_down[rows] = top_down
    al.start_week[rows] = week
    al.term_weeks[rows] = terms
    firms = np.where(member, al.firm[rows], 0)
    # the firms' traits that stay fixed for the run, kept per slot
    al.incentives[rows] = incentive_index(
        f.incentives_formal[firms], f.incentives_informal[firms], world.coef.contribution.formal_share
    )
    al.consistency[rows] = f.leadership_consistency[firms]
    al.risk_tolerance[rows] = f.risk_tolerance[firms]
    al.propensity[rows] = f.opportunism_propensity[firms]
    al.cultural_distance[rows] = kogut_singh(
        f.culture[firms], member, world.coef.friction.reference_culture_variance
    )
    risk = f.risk_tolerance[firms]
    al.risk_mismatch[rows] = slot_max(np.where(member, risk, -np.inf)) - slot_min(
        np.where(member, risk, np.inf)
    )

    perceived = al.perceived_complementarity[rows]
    ids = world.ids(rows)
    kept = top_down_retained(world.streams.normal("potential", ids, week, draw=1), vc)
    actual = np.where(top_down, perceived * kept, perceived)
    al.complementarity[rows] = actual
    al.potential[rows] = value_potential(world.streams.normal("potential", ids, week, draw=0), vc)

    # initial trust, familiarity: from scratch or from a previous alliance of the same partners
    slots = world.slot_ids(rows)
    # partners who trusted each other less than the collapse threshold would not have signed:
    # initial trust starts at that threshold at least (so no alliance collapses in its first week)
    floor = world.coef.reviews.trust_collapse
    base = np.clip(
        tc.initial_mean + tc.initial_sd * world.streams.normal("trust_init", slots, week), floor, 1.0
    )
    carried = np.zeros_like(base)
    known = np.zeros(base.shape, dtype=bool)  # this partner has allied with a co-partner before
    history_years = np.zeros(rows.shape[0])
    for row, group in enumerate(groups):
        for k, firm in enumerate(group):
            hist = f.partner_history.get(firm, {})
            past = [hist[g] for g in group if g != firm and g in hist]
            if past:
                known[row, k] = True
                carried[row, k] = np.mean([t for _, t in past])
                history_years[row] = max(history_years[row], max(y for y, _ in past))
    # repeat partners start from a blend of a fresh start and the trust they parted with
    trust0 = np.where(
        known, tc.repeat_partner_carryover * carried + (1 - tc.repeat_partner_carryover) * base, base
    )
    trust0 = np.maximum(trust0, floor)  # a repeat partner's blended start too
    al.trust_org[rows] = np.where(member, trust0, 0.0)
    al.trust_ip[rows] = np.where(member, trust0, 0.0)
    # rapport: how far trust between these partners can grow (relational fit, drawn per alliance)
    rapport = trust_rapport(world.streams.normal("potential", ids, week, draw=2), tc)
    al.trust_ceiling[rows] = np.where(member, rapport[:, None], 1.0)
    al.trust_org[rows] = np.minimum(al.trust_org[rows], al.trust_ceiling[rows])
    al.trust_ip[rows] = np.minimum(al.trust_ip[rows], al.trust_ceiling[rows])
    lc = world.coef.learning
    al.familiarity[rows] = np.minimum(
        lc.max_initial_familiarity, lc.partner_familiarity_per_year * history_years
    )

    # expectations over the term (what the partners plan on: no luck, the effort they assume)
    # per operating week: the value they expect to create, less the effort they expect to spend
    rate = expected_rate(perceived, al.n_partners[rows], vc) - vc.effort_cost_per_week * vc.expectation_effort
    operate_weeks = np.maximum(terms - sc.formation.negotiate_weeks - sc.formation.invest_weeks, 0)
    invest = vc.invest_cost_per_week * vc.expectation_effort * sc.formation.invest_weeks
    al.expected_rate[rows] = np.where(member, rate[:, None], 0.0)
    objective = np.maximum(rate * operate_weeks - invest, vc.min_objective)
    al.expected_total[rows] = np.where(member, objective[:, None], 0.0)

    world.events.log(week, world.ids(rows), "formed", value=perceived)

    gov = sc.governance
    if gov.charter and world.coef.costs.charter > 0:
        charge(al, rows, world.coef.costs.charter)
    if gov.insight_workshop:
        td = rows[top_down]
        if td.size:
            p = al.perceived_complementarity[td]
            recovered = al.complementarity[td] + vc.insight_recovery * (p - al.complementarity[td])
            al.complementarity[td] = recovered
            charge(al, td, vc.insight_workshop_cost)
            world.events.log(week, world.ids(td), "insight_workshop", value=recovered)
    if gov.risk_clinic in ("launch", "periodic"):
        shocks.hold_clinic(world, rows)
    return rows


def planned_term(u: float, term) -> int:
    """A planned term in weeks from a uniform draw `u` in [0, 1) (`formation.term_weeks`)."""
    if term.distribution == "uniform":
        return term.min + min(int(u * (term.max - term.min + 1)), term.max - term.min)
    weeks = term.median * np.exp(term.sd_log * float(ndtri(u))) if u > 0 else term.min
    return int(min(max(round(weeks), term.min), term.max))


def trust_rapport(z, coef):
    """The ceiling trust between an alliance's partners can reach, from a normal draw `z`."""
    return np.clip(coef.rapport_mean + coef.rapport_sd * z, coef.rapport_min, 1.0)


def value_potential(z, coef):
    """An alliance's value potential from a standard normal draw: lognormal with mean 1."""
    sd = coef.potential_sd
    return np.exp(sd * z - 0.5 * sd * sd)


def top_down_retained(z, coef):
    """Share of the perceived complementarity a top-down alliance really has (from a normal draw)."""
    return np.clip(coef.top_down_complementarity + coef.top_down_sd * z, 0.05, 1.0)


def charge(al, rows: np.ndarray, cost: float) -> None:
    """A one-off governance cost at launch to every partner of `rows` (realised value and governance cost)."""
    due = np.where(al.member[rows], cost, 0.0)
    al.realized[rows] -= due
    al.governance_cost[rows] += due


def apply(world) -> np.ndarray:
    """Ongoing mode: form this week's new alliances."""
    fm = world.scenario.formation
    if fm.mode != "ongoing":
        return np.zeros(0, dtype=np.int64)
    count = int(world.streams.poisson("formation", np.array([-1]), world.week, fm.rate_per_week, draw=0)[0])
    return form(world, count, world.week) if count else np.zeros(0, dtype=np.int64)
