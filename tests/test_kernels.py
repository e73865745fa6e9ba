"""Each compiled kernel against its submodel's rules applied with numpy over whole arrays.

The submodels' rules are small functions (`trust.build`, `value.shares`, `meetings.is_in_person`,
...) that tests elsewhere pin one by one. The weekly kernels apply them alliance by alliance in
compiled loops, some with the per-slot arithmetic written out for speed. Here a model whose
alliances launch week after week is run to the middle of its life (so phases, schedules,
backlogs, trust, effort and opportunism are all in play), its state is copied, the week's rules are
applied to the copy with numpy as the docstrings state them, and the kernel must land on the same
numbers: in dyads (two-slot tables, with their own fast paths) and in tables of up to four partners.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from sim import AllianceModel
from sim import outcome as oc
from sim.mechanisms import (
    contribution,
    friction,
    lifecycle,
    meetings,
    resolution,
    reviews,
    shocks,
    trust,
    turnover,
    value,
)
from sim.randomness import binomial_from_uniform, poisson_from_uniform
from sim.state import ENDED, INVEST, NEGOTIATE, OPERATE, RESTRUCTURE, AllianceTable

SCENARIOS = {
    "dyads": {"governance__meeting_mode": "mixed", "governance__meeting_interval_weeks": 2},
    "multi": {
        "formation__multi_partner_share": 0.6,
        "formation__max_partners": 4,
        "governance__meeting_mode": "mixed",
        "governance__mixed_in_person_share": 0.25,
        "governance__meeting_interval_weeks": 3,
        "firms__opportunistic_share": 0.4,
    },
}


def ongoing_model(seed: int, horizon: int = 300, **overrides) -> AllianceModel:
    """A model whose alliances launch week after week: every phase and schedule at once."""
    return AllianceModel(
        rng=seed,
        formation__mode="ongoing",
        formation__rate_per_week=3.0,
        firms__count=160,
        simulation__horizon_weeks=horizon,
        **overrides,
    )


def mid_run(name: str, weeks: int) -> AllianceModel:
    model = ongoing_model(11, **SCENARIOS[name])
    for _ in range(weeks):
        model.step()
    assert model.world.n > 10
    return model


def week_start(model: AllianceModel):
    """The model's world as the submodels see it at the start of the next week (through lifecycle)."""
    world = model.world
    world.week = model.week = model.steps + 1
    world.begin_week()
    return world


def assert_same(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-15)


@pytest.fixture(params=[("dyads", 60), ("dyads", 130), ("multi", 40), ("multi", 120)], ids=str)
def world(request):
    return week_start(mid_run(*request.param))


def test_trust_kernel_applies_the_rules(world):
    al, n, c = world.alliances, world.n, world.coef.trust
    before = copy.deepcopy(al)
    member, ceiling = before.member[:n], before.trust_ceiling[:n]
    push = trust.backlog_push(
        before.open_issues[:n], before.open_age[:n], c.backlog_erosion, c.age_scale_weeks
    )
    org = trust.erode(before.trust_org[:n], push[:, None], c.erosion_to_growth, ceiling)
    ip = trust.erode(before.trust_ip[:n], push[:, None], c.erosion_to_growth, ceiling)
    seen = trust.co_partner_effort(before.effort[:n], member)
    org = trust.build(org, c.observed_effort_gain * seen, ceiling)
    org = trust.pull(org, ip, c.interpersonal_spillover, ceiling)
    trust.weekly_update(world)
    assert_same(al.trust_org[:n], np.where(member, org, 0.0))
    assert_same(al.trust_ip[:n], np.where(member, ip, 0.0))


def test_value_kernel_applies_the_rules(world):
    al, n, c = world.alliances, world.n, world.coef.value
    before = copy.deepcopy(al)
    member, phase = before.member[:n], before.phase[:n]
    firm_capability = world.firms.capability[np.where(member, before.firm[:n], 0)]
    coord = value.coordination(
        AllianceTable.slot_mean(before.trust_org[:n], member),
        before.open_issues[:n],
        friction.rigidity_penalty(
            world.scenario.governance.role_clarity, world.coef.friction.rigidity_value_cost
        ),
        c,
        AllianceTable.slot_mean(firm_capability, member),
    )
    v = value.joint_value(
        before.complementarity[:n], value.geometric_mean_effort(before.effort[:n], member), coord, c
    )
    v = v * ((phase == OPERATE) + c.restructure_value_factor * (phase == RESTRUCTURE)) * before.potential[:n]
    gained = value.shares(v, member, before.opportunistic[:n], world.coef.contribution.appropriation)
    formal = world.firms.incentives_formal[np.where(member, before.firm[:n], 0)]
    paid = value.incentive_payout(gained, formal, world.coef.costs.formal_incentive_payout) * member
    invested = (c.invest_cost_per_week * (phase == INVEST))[:, None] * before.effort[:n] * member
    running_phase = (phase == OPERATE) | (phase == RESTRUCTURE)
    running = (c.effort_cost_per_week * running_phase)[:, None] * before.effort[:n] * member
    assert (phase == OPERATE).any() and (gained > 0).any() and (paid > 0).any() and (running > 0).any()
    value.apply(world)
    assert_same(al.realized[:n], (before.realized[:n] - invested - running) + (gained - paid))
    assert_same(al.realized_operating[:n], (before.realized_operating[:n] - running) + (gained - paid))
    assert_same(al.governance_cost[:n], before.governance_cost[:n] + paid)
    assert_same(al.value_created[:n], before.value_created[:n] + gained)
    assert_same(al.other_cost[:n], before.other_cost[:n] + invested + running)


def test_meetings_kernel_applies_the_rules(world):
    al, n, c, gov = world.alliances, world.n, world.coef.meetings, world.scenario.governance
    before = copy.deepcopy(al)
    member = before.member[:n]
    due = meetings.is_due(world.week - before.start_week[:n], gov.meeting_interval_weeks)
    held = before.meetings_held[:n]
    in_person = meetings.is_in_person(held, gov.meeting_mode, gov.mixed_in_person_share)
    w = np.where(due, meetings.mode_weight(in_person, c.virtual_weight), 0.0)[:, None]
    managers = world.managers
    position = np.where(member, before.manager[:n], 0)
    quality = 0.5 * (managers.skill[position] + managers.emotional_intelligence[position])
    ceiling = before.trust_ceiling[:n]
    org = trust.build(before.trust_org[:n], c.organisational_gain * w, ceiling)
    ip = trust.build(before.trust_ip[:n], c.interpersonal_gain * w * (0.5 + quality), ceiling)
    cost = np.where(due & member.T, np.where(in_person, c.cost_in_person, c.cost_virtual), 0.0).T
    assert due.any() and (~due).any() and (due & in_person).any() and (due & ~in_person).any()
    meetings.apply(world)
    assert_same(al.trust_org[:n], np.where(due[:, None] & member, org, before.trust_org[:n]))
    assert_same(al.trust_ip[:n], np.where(due[:, None] & member, ip, before.trust_ip[:n]))
    familiarity = before.familiarity[:n]
    assert_same(al.familiarity[:n], familiarity + c.familiarity_gain * w[:, 0] * (1 - familiarity))
    np.testing.assert_array_equal(al.meetings_held[:n], held + due)
    assert_same(al.realized[:n], before.realized[:n] - cost)
    np.testing.assert_array_equal(world.meeting_today[:n], due)
    surface = np.where(in_person, c.surface_in_person, c.surface_virtual)
    assert_same(world.meeting_surface[:n], np.where(due, surface, 0.0))


def test_turnover_restarts_each_counterpart_once_per_other_leaver():
    """Two of three managers leave in one week: the third partner's trust in the newcomers restarts
    by 1 / (partners - 1) for each of them in turn (ODD 7.3), and each leaver's own trust restarts."""
    model = AllianceModel(
        rng=5,
        formation__n_alliances=30,
        firms__count=90,
        formation__multi_partner_share=1.0,
        formation__max_partners=3,
        managers__turnover_per_year=0.0,
        simulation__horizon_weeks=200,
    )
    for _ in range(40):
        model.step()
    world = model.world
    al, mgr, c = world.alliances, world.managers, world.coef.turnover
    rows = np.flatnonzero(al.n_partners[: world.n] == 3)
    assert rows.size
    r = int(rows[0])
    week = model.steps + 1
    world.week = model.week = week
    leaving = al.manager[r, :2]
    assert len(set(leaving.tolist())) == 2
    mgr.departure_week[leaving] = week
    before = al.trust_ip[r].copy()
    ceiling = al.trust_ceiling[r]
    handover = turnover.handover_share(world.firms.function_type[al.firm[r]], c)
    # the leavers' own trust restarts, then the others follow each leaver in turn
    expected = before.copy()
    for k in (0, 1):
        expected[k] = min(turnover.restarted_trust(before[k], handover[k], c.replacement_trust), ceiling[k])
    for j in (0, 1):
        for k in range(3):
            if k != j:
                target = turnover.restarted_trust(expected[k], handover[j], c.replacement_trust)
                expected[k] = min(max(expected[k] + (target - expected[k]) / 2, 0.0), ceiling[k])
    familiarity = al.familiarity[r] * np.prod(1 - c.familiarity_loss * (1 - handover[:2]))
    changes = al.manager_changes[r]
    positions = turnover.apply(world)
    assert set(leaving.tolist()) <= set(positions.tolist())
    np.testing.assert_allclose(al.trust_ip[r], expected, rtol=1e-12)
    np.testing.assert_allclose(al.familiarity[r], familiarity, rtol=1e-12)
    assert al.manager_changes[r] == changes + 2


@pytest.mark.parametrize("mode", ["ad_hoc", "collaborative", "escalation"])
@pytest.mark.parametrize(("name", "weeks"), [("dyads", 70), ("multi", 90)])
def test_resolution_kernel_applies_the_rules(name, weeks, mode):
    """The week's issue flow as ODD 7.7 states it, with the array rules and the same draws."""
    model = ongoing_model(
        13,
        governance__conflict_resolution=mode,
        governance__steering_committee=True,
        governance__steering_interval_weeks=5,
        **SCENARIOS[name],
    )
    for _ in range(weeks):
        model.step()
    world = week_start(model)
    meetings.apply(world)  # the meeting flags resolution reads
    al, n, c, week = world.alliances, world.n, world.coef.resolution, world.week
    before = copy.deepcopy(al)
    member = before.member[:n]
    position = np.where(member, before.manager[:n], 0)
    firm = np.where(member, before.firm[:n], 0)
    managers, mean = world.managers, AllianceTable.slot_mean
    u = world.streams.uniform_block("resolution", before.alliance_id[:n], week, (0, 1))
    # 1. surfacing
    p_surface = resolution.combine(
        c.proactive_surface_per_week * mean(managers.proactiveness[position], member),
        world.meeting_surface[:n],
    )
    raised = binomial_from_uniform(u[1], before.hidden_issues[:n], p_surface)
    hidden = before.hidden_issues[:n] - raised
    surfaced = np.flatnonzero(raised)
    friction.add_open(before, surfaced, raised[surfaced])
    open_now = before.open_issues[:n].copy()
    # 2. resolution, every channel at once
    score = resolution.people_score(
        mean(managers.skill[position], member),
        mean(managers.emotional_intelligence[position], member),
        mean(managers.proactiveness[position], member),
        mean(world.firms.capability[firm], member),
        c,
    ) + c.trust_weight * (mean(before.trust_org[:n], member) - 0.5)
    p_team = resolution.resolution_chance(score, mode, c)
    channels = [np.where(world.meeting_today[:n], p_team, 0.0), c.day_to_day_share * p_team]
    due = meetings.is_due(week - before.start_week[:n], world.scenario.governance.steering_interval_weeks)
    channels.append(np.where(due, resolution.resolution_chance(score, mode, c, c.steering_committee), 0.0))
    ceiling, org = before.trust_ceiling[:n], before.trust_org[:n].copy()
    if mode == "escalation":
        escalated = (before.open_age[:n] > c.escalation_age_weeks) & (open_now > 0)
        push = (c.trust_per_escalation * open_now)[:, None]
        eroded = trust.erode(org, push, world.coef.trust.erosion_to_growth, ceiling)
        org = np.where(escalated[:, None], np.where(member, eroded, 0.0), org)
        channels.append(np.where(escalated, c.escalation_resolve, 0.0))
    solved = binomial_from_uniform(u[0], open_now, resolution.combine(*channels))
    if mode == "collaborative":
        built = trust.build(org, (c.trust_per_joint_resolution * solved)[:, None], ceiling)
        org = np.where((solved > 0)[:, None], np.where(member, built, 0.0), org)
    remaining = open_now - solved
    age = np.where(remaining > 0, before.open_age[:n] + 1.0, 0.0)
    assert raised.any() and solved.any() and due.any()
    resolution.apply(world)
    np.testing.assert_array_equal(al.hidden_issues[:n], hidden)
    np.testing.assert_array_equal(al.open_issues[:n], remaining)
    np.testing.assert_array_equal(al.issues_resolved[:n], before.issues_resolved[:n] + solved)
    np.testing.assert_array_equal(al.issues_raised[:n], before.issues_raised[:n])
    assert_same(al.open_age[:n], age)
    assert_same(al.trust_org[:n], org)


@pytest.mark.parametrize("market", [False, True], ids=["own shocks", "with a market shock"])
@pytest.mark.parametrize("name", ["dyads", "multi"])
def test_shocks_kernel_applies_the_rules(name, market):
    """Clinics and shocks as ODD 7.4 states them, with the array rules and the same draws."""
    model = ongoing_model(
        17,
        governance__risk_clinic="periodic",
        governance__risk_clinic_interval_weeks=6,
        environment__shock_rate_per_year=8.0,
        environment__market_shock_rate_per_year=10.0 if market else 0.0,
        environment__shock_severity=0.7,
        **SCENARIOS[name],
    )
    env, c = model.config.environment, model.config.coefficients.shocks
    p_market = shocks.weekly_probability(env.market_shock_rate_per_year)
    streams = model.world.streams
    while model.steps < 70 or (streams.uniform("shocks", [-1], model.steps + 1)[0] < p_market) != market:
        model.step()
    world = week_start(model)
    al, n, week = world.alliances, world.n, world.week
    before = copy.deepcopy(al)
    member, ids = before.member[:n], before.alliance_id[:n]
    # clinics: coverage decays, then periodic clinics renew it and build trust, at a cost
    coverage = before.clinic_coverage[:n] * (1.0 - c.clinic_decay_per_week)
    clinic = meetings.is_due(week - before.start_week[:n], 6)
    coverage = np.where(clinic, 1.0, coverage)
    ceiling, org, ip = before.trust_ceiling[:n], before.trust_org[:n], before.trust_ip[:n]
    org = np.where(clinic[:, None] & member, trust.build(org, c.clinic_trust_gain, ceiling), org)
    ip = np.where(clinic[:, None] & member, trust.build(ip, c.clinic_trust_gain, ceiling), ip)
    realized = before.realized[:n] - np.where(clinic[:, None] & member, c.clinic_cost, 0.0)
    # shocks
    u_market = streams.uniform_block("shocks", np.array([-1]), week, (0, 1))[:, 0]
    own = streams.uniform("shocks", ids, week, 0) < shocks.weekly_probability(env.shock_rate_per_year)
    hit = own | market
    u = streams.uniform_block("shocks", ids, week, (1, 2))
    severity = shocks.severity_from_uniform(u[0], env.shock_severity)
    if market:
        market_severity = shocks.severity_from_uniform(u_market[1], env.market_shock_severity)
        severity = np.maximum(severity * own, market_severity)
    response = shocks.agreed_response(AllianceTable.slot_mean(before.risk_tolerance[:n], member))
    loss = c.loss_per_severity * severity * shocks.loss_share(response, coverage, c)
    realized = realized - np.where(hit[:, None] & member, loss[:, None], 0.0)
    rate = shocks.conflict_rate(
        severity, before.risk_mismatch[:n], coverage, model.config.coefficients.friction.per_risk_mismatch,
        c.clinic_conflict_cut,
    )  # fmt: skip
    conflicts = np.where(hit, poisson_from_uniform(u[1], rate), 0)
    drift = hit & (severity > c.drift_threshold)
    shifted = 1 - c.drift_complementarity_loss * (severity - c.drift_threshold)
    complementarity = np.where(drift, before.complementarity[:n] * shifted, before.complementarity[:n])
    assert clinic.any() and own.any() and hit.all() == market and conflicts.any() and drift.any()
    shocks.apply(world)
    assert_same(al.clinic_coverage[:n], coverage)
    assert_same(al.trust_org[:n], org)
    assert_same(al.trust_ip[:n], ip)
    assert_same(al.realized[:n], realized)
    np.testing.assert_array_equal(al.shocks[:n], before.shocks[:n] + hit)
    np.testing.assert_array_equal(al.open_issues[:n], before.open_issues[:n] + conflicts)
    assert_same(al.complementarity[:n], complementarity)
    np.testing.assert_array_equal(al.drift_week[:n], np.where(drift, week, before.drift_week[:n]))


def expected_reviews(world) -> dict[str, np.ndarray]:
    """The reviews due this week (ODD 7.13) applied with the array rules to a copy of the state."""
    al, n, week = copy.deepcopy(world.alliances), world.n, world.week
    c, coef, streams = world.coef.reviews, world.coef, world.streams
    interval = world.scenario.governance.review_interval_weeks
    rows = np.flatnonzero(meetings.is_due(week - al.start_week[:n], interval))
    member, slot_ids = al.member[rows], world.slot_ids(rows)
    # 1. opportunism since the last review; a detected act betrays the co-partners
    weeks = al.undetected_weeks[rows]
    p = reviews.detection_probability(weeks, coef.contribution.detection_per_review)
    caught = streams.bernoulli("reviews", slot_ids, week, p, draw=0) & (weeks > 0)
    al.undetected_weeks[rows] = 0
    victims = member & ~caught & caught.any(axis=1)[:, None]
    for arr in (al.trust_org, al.trust_ip):
        betrayed, ceiling = trust.betray(arr[rows], al.trust_ceiling[rows], coef.trust.betrayal_drop,
                                         coef.trust.betrayal_ceiling)  # fmt: skip
        arr[rows] = np.where(victims, betrayed, arr[rows])
    al.trust_ceiling[rows] = np.where(victims, ceiling, al.trust_ceiling[rows])
    al.betrayed_week[rows] = np.where(victims, week, al.betrayed_week[rows])
    al.betrayals[rows] += victims.any(axis=1)
    # 2. satisfaction
    operating = np.where(al.phase[rows] == OPERATE, al.operate_weeks[rows], 0)[:, None]
    ratio = reviews.value_ratio(al.realized_operating[rows], al.expected_rate[rows], operating, c.grace_weeks)
    weight = reviews.judgement_weight(operating, c.grace_weeks, c.judgement_ramp_weeks)
    judged = reviews.judged_ratio(ratio, weight)
    sat = np.where(member, reviews.satisfaction(judged, al.trust_org[rows], c), np.inf)
    # 3. early completion
    realised_all = (al.realized[rows] >= al.expected_total[rows]) | ~member
    done = realised_all.all(axis=1) & (al.phase[rows] == OPERATE) & c.early_completion
    al.outcome[rows[done]] = np.where(al.restructures[rows[done]] > 0, oc.RESTRUCTURED, oc.SUCCESS)
    # 4. unhappy partners act
    acts = streams.bernoulli("reviews", slot_ids, week, reviews.act_probability(sat, c), draw=1) & member
    pro = world.managers.proactiveness[np.where(member, al.manager[rows], 0)]
    prefers = streams.bernoulli("reviews", slot_ids, week, reviews.restructure_probability(pro, c), draw=2)
    can = (
        (al.restructures[rows] < c.max_restructures)[:, None]
        & (al.trust_org[rows] >= c.restructure_min_trust)
        & (al.phase[rows] == OPERATE)[:, None]
    )
    redo_slots = acts & can & prefers & ~done[:, None]
    exits = acts & ~redo_slots & ~done[:, None]
    failing = exits.any(axis=1)
    f = rows[failing]
    slot = np.argmin(np.where(exits[failing], sat[failing], np.inf), axis=1)
    al.outcome[f] = oc.FAILURE
    al.exiting_slot[f] = slot
    exit_ratio = ratio[failing][np.arange(f.size), slot]
    exit_weight = np.broadcast_to(weight, ratio.shape)[failing][np.arange(f.size), slot]
    value_short = oc.value_deficit(reviews.judged_ratio(exit_ratio, exit_weight), c.value_weight)
    trust_short = oc.trust_deficit(al.trust_org[f, slot], c.trust_reference, c.trust_weight)
    al.reason[f] = oc.failure_reason(
        week, al.betrayed_week[f, slot], al.drift_week[f], exit_ratio, c.objective_share, value_short,
        trust_short, c.recent_betrayal_weeks, coef.shocks.drift_window_weeks,
    )  # fmt: skip
    ended = rows[done | failing]
    al.active[ended] = False
    al.phase[ended] = ENDED
    al.end_week[ended] = week
    # restructuring
    r = rows[redo_slots.any(axis=1) & ~failing]
    m = al.member[r]
    rate = al.expected_rate[r]
    realised_rate = al.realized_operating[r] / np.maximum(al.operate_weeks[r], 1)[:, None]
    new_rate = np.maximum(rate + c.renegotiated_expectation * (realised_rate - rate), 0.0)
    remaining = np.maximum(al.start_week[r] + al.term_weeks[r] - week - c.restructure_weeks, 0)[:, None]
    al.realized[r] -= np.where(m, c.restructure_cost, 0.0)
    al.governance_cost[r] += np.where(m, c.restructure_cost, 0.0)
    al.expected_rate[r] = np.where(m, new_rate, 0.0)
    objective = np.maximum(al.realized[r] + new_rate * remaining, coef.value.min_objective)
    al.expected_total[r] = np.where(m, objective, 0.0)
    al.phase[r] = RESTRUCTURE
    al.phase_until[r] = week + c.restructure_weeks
    al.restructures[r] += 1
    counts = {"caught": int(caught.sum()), "completed": int(done.sum()), "exits": int(failing.sum()),
              "restructured": int(r.size)}  # fmt: skip
    return {name: getattr(al, name)[:n].copy() for name in REVIEWED_COLUMNS}, counts


REVIEWED_COLUMNS = (
    "active", "end_week", "outcome", "reason", "exiting_slot", "trust_org", "trust_ip", "trust_ceiling",
    "betrayed_week", "betrayals", "undetected_weeks", "phase", "phase_until", "restructures", "realized",
    "expected_rate", "expected_total", "governance_cost",
)  # fmt: skip


def test_reviews_kernel_applies_the_rules_week_after_week(monkeypatch):
    """Every review week of a run with opportunists and restructuring, checked as it happens."""
    model = ongoing_model(
        19,
        horizon=220,
        governance__review_interval_weeks=6,
        firms__opportunistic_share=0.4,
        formation__multi_partner_share=0.5,
        formation__max_partners=4,
        coefficients__reviews__early_completion=True,  # off by default; its branch is checked here
        formation__term_weeks={"distribution": "uniform", "min": 60, "max": 200},
    )
    needs = ("caught", "completed", "exits", "restructured")
    run_checking_every_week(monkeypatch, model, reviews, "review", expected_reviews, needs)


def run_checking_every_week(monkeypatch, model, module, name, expect, needs) -> None:
    """Run `model` with `module.name` checked against `expect` every week it is called.

    `expect(world)` gives the expected alliance columns and counts of what happened; the run must
    see each of `needs` at least once, so the rules' branches are all exercised.
    """
    real = getattr(module, name)
    seen = dict.fromkeys(needs, 0)

    def checked(world):
        expected, counts = expect(world)
        real(world)
        for column, values in expected.items():
            assert_same(getattr(world.alliances, column)[: world.n], values)
        for key in seen:
            seen[key] += counts[key]

    monkeypatch.setattr(module, name, checked)
    model.run()
    assert all(count > 0 for count in seen.values()), seen


def expected_weekly_checks(world) -> dict[str, np.ndarray]:
    """Trust collapse and the end of the planned term (ODD 7.13) with the array rules, on a copy."""
    al, n, week, c = copy.deepcopy(world.alliances), world.n, world.week, world.coef.reviews
    rows = np.flatnonzero(al.active[:n])
    trust_now = np.where(al.member[rows], al.trust_org[rows], np.inf)
    collapsed = trust_now.min(axis=1) < c.trust_collapse
    f = rows[collapsed]
    slot = np.argmin(trust_now[collapsed], axis=1)
    operating = np.where(al.phase[f] == OPERATE, al.operate_weeks[f], 0)
    ratio = reviews.value_ratio(
        al.realized_operating[f, slot], al.expected_rate[f, slot], operating, c.grace_weeks
    )
    # an exit forced by collapsed trust: an infinite trust deficit (a trust collapse unless
    # betrayal or drift came first)
    al.reason[f] = oc.failure_reason(
        week, al.betrayed_week[f, slot], al.drift_week[f], ratio, c.objective_share,
        oc.value_deficit(ratio, c.value_weight), np.inf, c.recent_betrayal_weeks,
        world.coef.shocks.drift_window_weeks,
    )  # fmt: skip
    al.outcome[f] = oc.FAILURE
    al.exiting_slot[f] = slot
    t = rows[~collapsed][week - al.start_week[rows[~collapsed]] >= al.term_weeks[rows[~collapsed]]]
    met = oc.objectives_met(al.realized[t], al.expected_total[t], al.member[t], c.objective_share)
    al.outcome[t] = oc.term_outcome(met, al.restructures[t])
    al.reason[t] = np.where(al.outcome[t] == oc.FAILURE, oc.VALUE_SHORTFALL, -1)
    ended = np.concatenate([f, t])
    al.active[ended] = False
    al.phase[ended] = ENDED
    al.end_week[ended] = week
    counts = {"collapsed": int(f.size), "at term": int(t.size), "term failures": int((~met).sum())}
    return {name: getattr(al, name)[:n].copy() for name in REVIEWED_COLUMNS}, counts


def expected_contribution(world) -> dict[str, np.ndarray]:
    """Effort and opportunism (ODD 7.9) with the array rules and the same draws, on a copy."""
    al, n, c = copy.deepcopy(world.alliances), world.n, world.coef.contribution
    working = (al.phase[:n] != NEGOTIATE)[:, None] & al.member[:n]
    influence = world.managers.influence[np.where(al.member[:n], al.manager[:n], 0)]
    inc, cons, risk = al.incentives[:n], al.consistency[:n], al.risk_tolerance[:n]
    trust_now = al.trust_org[:n]
    e = contribution.effort(inc, cons, trust_now, risk, influence, c)
    deterrence = contribution.deterrence_factor(world.scenario.governance.review_interval_weeks, c)
    horizontal = (al.kind[:n] == 1)[:, None].astype(np.float64)
    p = contribution.opportunism_probability(
        horizontal, al.propensity[:n], risk, trust_now, inc, cons, deterrence, c
    )
    cheat = (world.streams.uniform("contribution", world.slot_ids(), world.week) < p) & working
    if working.any():
        al.effort[:n] = np.where(working, np.where(cheat, e * (1.0 - c.withheld_effort), e), al.effort[:n])
        al.opportunistic[:n] = cheat
        al.undetected_weeks[:n] += cheat
    counts = {"working": int(working.sum()), "cheats": int(cheat.sum())}
    columns = ("effort", "opportunistic", "undetected_weeks")
    return {name: getattr(al, name)[:n].copy() for name in columns}, counts


def expected_friction(world) -> dict[str, np.ndarray]:
    """New hidden issues and eruptions (ODD 7.5) with the array rules and the same draws, on a copy."""
    al, n, c, gov = copy.deepcopy(world.alliances), world.n, world.coef.friction, world.scenario.governance
    u = world.streams.uniform_block("friction", al.alliance_id[:n], world.week, (0, 1))
    felt = friction.effective_distance(al.cultural_distance[:n], al.familiarity[:n], c.familiarity_discount)
    ambiguity = friction.role_ambiguity(gov.role_clarity, gov.charter, c.charter_ambiguity_cut)
    hidden = al.hidden_issues[:n] + poisson_from_uniform(u[0], friction.issue_rate(felt, ambiguity, c))
    erupted = binomial_from_uniform(u[1], hidden, c.erupt_per_week)
    al.hidden_issues[:n] = hidden - erupted
    hit = np.flatnonzero(erupted)
    friction.add_open(al, hit, erupted[hit])
    tc = world.coef.trust
    for arr in (al.trust_org, al.trust_ip):
        eroded = trust.erode(arr[hit], (tc.eruption_loss * erupted[hit])[:, None], tc.erosion_to_growth,
                             al.trust_ceiling[hit])  # fmt: skip
        arr[hit] = np.where(al.member[hit], eroded, 0.0)
    columns = ("hidden_issues", "open_issues", "open_age", "issues_raised", "trust_org", "trust_ip")
    return {name: getattr(al, name)[:n].copy() for name in columns}, {"eruptions": int(hit.size)}


def expected_lifecycle(world) -> dict[str, np.ndarray]:
    """Phases (ODD 7.2) with the array rules, on a copy."""
    al, n, week = copy.deepcopy(world.alliances), world.n, world.week
    changed = 0
    for _ in range(2):  # a zero-length invest phase passes straight to operate
        phase = al.phase[:n]
        timed = (phase == NEGOTIATE) | (phase == INVEST) | (phase == RESTRUCTURE)
        rows = np.flatnonzero(timed & (week >= al.phase_until[:n]))
        new = lifecycle.next_phase(al.phase[rows])
        al.phase[rows] = new
        invest_until = week + world.scenario.formation.invest_weeks
        al.phase_until[rows] = np.where(new == INVEST, invest_until, al.phase_until[rows])
        back = rows[new == OPERATE]
        al.operate_weeks[back] = 0
        al.realized_operating[back] = 0.0
        changed += rows.size
    al.operate_weeks[:n] += al.phase[:n] == OPERATE
    columns = ("phase", "phase_until", "operate_weeks", "realized_operating")
    return {name: getattr(al, name)[:n].copy() for name in columns}, {"phase changes": changed}


@pytest.mark.parametrize(
    ("module", "name", "expect", "needs"),
    [
        (reviews, "weekly_checks", expected_weekly_checks, ("collapsed", "at term", "term failures")),
        (contribution, "apply", expected_contribution, ("working", "cheats")),
        (friction, "apply", expected_friction, ("eruptions",)),
        (lifecycle, "apply", expected_lifecycle, ("phase changes",)),
    ],
    ids=["weekly checks", "contribution", "friction", "lifecycle"],
)
def test_kernel_applies_the_rules_week_after_week(monkeypatch, module, name, expect, needs):
    """Every week of a run in poor conditions (so alliances collapse, cheat and reach their term)."""
    model = ongoing_model(
        23,
        horizon=260,
        firms__opportunistic_share=0.4,
        firms__culture_dispersion=1.0,
        governance__meeting_mode="virtual",
        governance__meeting_interval_weeks=12,
        formation__multi_partner_share=0.5,
        formation__max_partners=4,
    )
    run_checking_every_week(monkeypatch, model, module, name, expect, needs)
