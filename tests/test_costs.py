"""Governance costs, the partners' accounts and the luck governance cannot remove.

Every lever has a price (submodel costs and the levers priced where they act), the accounts add
up (realised = created - governance cost - other costs, per partner and so per alliance), and
an alliance's value potential spreads realised value around expectations without moving them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL, run_small_model

from sim import AllianceModel
from sim.mechanisms import costs, formation, reviews, value
from sim.schema import CostCoefficients, ReviewCoefficients, ValueCoefficients

ALL_COSTS = {
    "coefficients__costs__function_per_year_central_function": 30.0,
    "coefficients__costs__steering_per_meeting": 1.5,
    "coefficients__costs__review_per_review": 0.5,
    "coefficients__costs__training_per_year": 4.0,
    "coefficients__costs__hiring_per_year": 3.0,
    "coefficients__costs__formal_incentive_payout": 0.1,
    "coefficients__costs__informal_per_year": 2.0,
    "coefficients__costs__leadership_per_year": 2.0,
    "coefficients__costs__charter": 2.0,
    "coefficients__costs__collaborative_per_year": 3.0,
    "coefficients__value__effort_cost_per_week": 0.3,
    "firms__alliance_function": "central_function",
    "governance__steering_committee": True,
    "governance__charter": True,
    "governance__conflict_resolution": "collaborative",
}


#: every price switched off (meetings and renegotiation keep theirs), no luck, no spread
NO_COSTS = {f"coefficients__costs__{name}": 0.0 for name in CostCoefficients.model_fields}
NEUTRAL = {
    **NO_COSTS,
    "coefficients__value__effort_cost_per_week": 0.0,
    "coefficients__value__potential_sd": 0.0,
    "coefficients__value__top_down_sd": 0.0,
}


def _accounts(model):
    out = model.outcomes()
    return out, out["value_created"] - out["governance_cost"] - out["other_cost"] - out["net_value"]


class TestAccounts:
    def test_the_accounts_add_up_for_every_alliance_with_every_cost_on(self):
        out, gap = _accounts(run_small_model(3, **ALL_COSTS))
        assert np.abs(gap).max() < 1e-8 * max(1.0, out["value_created"].abs().max())
        assert (out["net_value"] == out["value_realized"]).all()

    def test_the_accounts_add_up_at_the_defaults(self):
        _, gap = _accounts(run_small_model(3))
        assert np.abs(gap).max() < 1e-8

    def test_the_accounts_add_up_slot_by_slot_in_multi_partner_alliances(self):
        model = run_small_model(
            4, formation__multi_partner_share=0.7, formation__max_partners=4, **ALL_COSTS
        )
        for t in (model.world.alliances, model.world.alliances.archive):
            n = t.n
            gap = t.value_created[:n] - t.governance_cost[:n] - t.other_cost[:n] - t.realized[:n]
            assert np.abs(np.where(t.member[:n], gap, 0.0)).max() < 1e-8

    def test_switching_costs_on_raises_governance_cost_and_lowers_net_value(self):
        free = run_small_model(5, **{**ALL_COSTS, **NO_COSTS})
        paid = run_small_model(5, **ALL_COSTS)
        a, b = free.outcomes(), paid.outcomes()
        assert (b["governance_cost"] > a["governance_cost"]).all()
        assert b["net_value"].mean() < a["net_value"].mean()

    def test_meetings_and_renegotiation_are_the_governance_cost_at_the_defaults(self):
        model = run_small_model(6, governance__meeting_mode="virtual", **NO_COSTS)
        out = model.outcomes()
        coef = model.config.coefficients
        per_meeting = coef.meetings.cost_virtual
        expected = out["n_partners"] * (
            out["meetings"] * per_meeting + out["restructures"] * coef.reviews.restructure_cost
        )
        assert out["restructures"].sum() > 0
        assert np.allclose(out["governance_cost"], expected)


class TestCostFormulas:
    def test_a_function_is_shared_over_the_firms_alliances(self):
        coef = CostCoefficients(function_per_year_central_function=52.0)
        one, four = costs.function_cost_per_week(np.array([1, 1]), np.array([1, 4]), coef)
        assert one == pytest.approx(1.0) and four == pytest.approx(0.25)
        assert costs.function_cost_per_week(0, 1, coef) == 0.0  # no function, no cost

    def test_practice_costs_scale_with_each_lever(self):
        coef = CostCoefficients(
            training_per_year=52.0, hiring_per_year=104.0, informal_per_year=52.0, leadership_per_year=52.0
        )
        assert costs.practice_cost_per_week(1.0, 0.0, 0.0, 0.0, 0.0, coef) == pytest.approx(1.0)
        assert costs.practice_cost_per_week(0.0, 0.5, 0.0, 0.0, 0.0, coef) == pytest.approx(1.0)
        assert costs.practice_cost_per_week(0.0, 0.0, 0.0, 0.0, 52.0, coef) == pytest.approx(1.0)
        low = costs.practice_cost_per_week(0.2, 0.2, 0.2, 0.2, 0.0, coef)
        high = costs.practice_cost_per_week(0.8, 0.8, 0.8, 0.8, 0.0, coef)
        assert high > low > 0

    def test_collaborative_and_escalation_cost_time_and_ad_hoc_nothing(self):
        coef = CostCoefficients(collaborative_per_year=3.0, escalation_per_year=1.0)
        assert costs.mode_cost_per_year("collaborative", coef) == 3.0
        assert costs.mode_cost_per_year("escalation", coef) == 1.0
        assert costs.mode_cost_per_year("ad_hoc", coef) == 0.0

    def test_incentives_are_paid_out_of_gains_never_out_of_losses(self):
        assert value.incentive_payout(10.0, 0.5, 0.2) == pytest.approx(1.0)
        assert value.incentive_payout(-10.0, 0.5, 0.2) == 0.0
        assert value.incentive_payout(10.0, 0.0, 0.2) == 0.0

    def test_the_submodel_is_skipped_only_when_every_weekly_cost_is_zero(self):
        free = {name: 0.0 for name in CostCoefficients.model_fields}
        assert not costs.any_cost(CostCoefficients(**free))
        assert not costs.any_cost(CostCoefficients(**{**free, "charter": 5.0}))
        assert costs.any_cost(CostCoefficients(**{**free, "review_per_review": 0.1}))
        assert costs.any_cost(CostCoefficients())  # the defaults price the levers


class TestLuck:
    def test_potential_is_one_without_luck(self):
        out = run_small_model(3, coefficients__value__potential_sd=0.0).outcomes()
        assert (out["potential"] == 1.0).all()

    def test_potential_is_lognormal_with_mean_one(self):
        z = np.random.default_rng(0).standard_normal(200_000)
        p = formation.value_potential(z, ValueCoefficients(potential_sd=0.4))
        assert p.mean() == pytest.approx(1.0, abs=0.01)
        assert np.log(p).std() == pytest.approx(0.4, abs=0.01)
        assert (p > 0).all()

    def test_luck_spreads_realised_value_but_leaves_expectations_alone(self):
        at_formation = lambda **kw: AllianceModel(rng=7, **SMALL, **kw).world.alliances  # noqa: E731
        calm = at_formation(coefficients__value__potential_sd=0.0)
        lucky = at_formation(coefficients__value__potential_sd=0.5)
        n = calm.n
        assert np.array_equal(calm.expected_total[:n], lucky.expected_total[:n])
        assert np.array_equal(calm.complementarity[:n], lucky.complementarity[:n])
        assert lucky.potential[:n].std() > 0.3
        # a fixed term and no exits at reviews, so every alliance's value covers the same weeks
        fixed = {
            "formation__term_weeks": {"distribution": "uniform", "min": 150, "max": 150},
            "coefficients__reviews__satisfaction_threshold": 0.0,
            "coefficients__reviews__early_completion": False,
        }
        calm_out = run_small_model(7, coefficients__value__potential_sd=0.0, **fixed).outcomes()
        lucky_out = run_small_model(7, coefficients__value__potential_sd=0.5, **fixed).outcomes()
        # alliances that ran their whole term as planned in both worlds (no renegotiation)
        whole = (
            (calm_out["duration_weeks"] == 150) & (calm_out["restructures"] == 0)
            & (lucky_out["duration_weeks"] == 150) & (lucky_out["restructures"] == 0)
        )  # fmt: skip
        assert whole.sum() > 10
        ratio = lambda o: (o["value_created"] / o["value_expected"])[whole]  # noqa: E731
        assert np.log(ratio(lucky_out)).std() > np.log(ratio(calm_out)).std()
        # more potential, more value: the same alliance creates more in the luckier world
        gain = np.log(lucky_out["value_created"][whole] / calm_out["value_created"][whole])
        assert np.corrcoef(np.log(lucky_out["potential"][whole]), gain)[0, 1] > 0.5

    def test_top_down_alliances_keep_a_drawn_share_of_complementarity(self):
        al = AllianceModel(rng=8, **SMALL, coefficients__value__top_down_sd=0.15).world.alliances
        n = al.n
        top_down = al.top_down[:n]
        kept = al.complementarity[:n] / al.perceived_complementarity[:n]
        assert top_down.sum() > 10
        assert kept[top_down].std() > 0.05
        assert kept[top_down].mean() == pytest.approx(ValueCoefficients().top_down_complementarity, abs=0.06)
        assert ((kept[top_down] >= 0.05) & (kept[top_down] <= 1.0 + 1e-12)).all()
        assert np.array_equal(kept[~top_down], np.ones((~top_down).sum()))

    def test_without_spread_top_down_keeps_exactly_the_set_share(self):
        z = np.array([-3.0, 0.0, 3.0])
        coef = ValueCoefficients(top_down_sd=0.0)
        assert np.allclose(formation.top_down_retained(z, coef), coef.top_down_complementarity)


class TestRunningEffortAndTrust:
    def test_running_effort_costs_and_expectations_plan_for_it(self):
        at_formation = lambda cost: AllianceModel(  # noqa: E731
            rng=9, **SMALL, coefficients__value__effort_cost_per_week=cost
        ).world.alliances
        plain, costly = at_formation(0.0), at_formation(0.4)
        n = plain.n
        assert (costly.expected_total[:n] <= plain.expected_total[:n]).all()
        assert (costly.expected_total[:n] < plain.expected_total[:n]).any()
        # the planned rate is net of the effort partners assume they will spend
        drop = plain.expected_rate[:n][plain.member[:n]] - costly.expected_rate[:n][costly.member[:n]]
        assert np.allclose(drop, 0.4 * ValueCoefficients().expectation_effort)
        free, paid = (run_small_model(9, coefficients__value__effort_cost_per_week=c) for c in (0.0, 0.4))
        assert paid.outcomes()["other_cost"].mean() > free.outcomes()["other_cost"].mean()

    def test_low_trust_lowers_satisfaction_below_a_neutral_reference(self):
        neutral = ReviewCoefficients(trust_reference=0.5)
        happy = reviews.satisfaction(1.0, 0.5, neutral)
        assert happy == pytest.approx(neutral.value_weight)
        assert reviews.satisfaction(1.0, 0.1, neutral) < neutral.satisfaction_threshold
        assert reviews.satisfaction(1.0, 0.9, neutral) > happy
        # without a reference any trust adds (the older rule)
        old_rule = ReviewCoefficients(trust_reference=0.0, trust_weight=0.5, satisfaction_threshold=0.95)
        assert reviews.satisfaction(1.0, 0.1, old_rule) > old_rule.satisfaction_threshold


class TestStressTableAccounts:
    """The stress table carries what each design costs and keeps, with regret on each objective."""

    @staticmethod
    def runs(cells):
        rows = []
        for point, (successes, decided, alliances, cost, net) in enumerate(cells):
            for replication in range(2):
                rows.append(
                    {
                        "point_id": point, "replication": replication, "status": "ok",
                        "successes": successes, "decided": decided, "alliances": alliances,
                        "mean_governance_cost": cost[replication], "mean_net_value": net[replication],
                    }
                )  # fmt: skip
        return pd.DataFrame(rows)

    def test_costs_and_net_value_are_per_alliance_pooled_over_replications(self):
        from experiments.analysis.regret import stress_table

        runs = self.runs([(50, 100, 100, (10.0, 30.0), (100.0, 300.0))])
        table = stress_table(runs, [("a", "normal")])
        assert table.loc[0, "governance_cost"] == pytest.approx(20.0)
        assert table.loc[0, "net_value"] == pytest.approx(200.0)

    def test_regret_on_each_objective_and_best_in(self):
        from experiments.analysis.regret import rank_designs, stress_table

        # design a: more success; design b: more net value; in both scenarios
        cells = [
            (70, 100, 100, (50.0, 50.0), (300.0, 300.0)),
            (60, 100, 100, (20.0, 20.0), (400.0, 400.0)),
            (50, 100, 100, (50.0, 50.0), (200.0, 200.0)),
            (55, 100, 100, (20.0, 20.0), (250.0, 250.0)),
        ]
        names = [("a", "normal"), ("b", "normal"), ("a", "storm"), ("b", "storm")]
        table = stress_table(self.runs(cells), names)
        assert table.loc[0, "regret"] == 0 and table.loc[1, "regret"] == pytest.approx(0.1)
        assert table.loc[1, "regret_net_value"] == 0
        assert table.loc[0, "regret_net_value"] == pytest.approx(100)
        ranking = rank_designs(table).set_index("design")
        assert ranking.loc["a", "best_in"] == 1 and ranking.loc["b", "best_in"] == 1
        assert ranking.loc["b", "rank_net_value"] == 1 and ranking.loc["a", "rank_net_value"] == 2
        assert ranking.loc["a", "mean_governance_cost"] == pytest.approx(50.0)

    def test_runs_stored_before_the_accounts_still_make_a_table(self):
        from experiments.analysis.regret import rank_designs, stress_table

        runs = self.runs([(50, 100, 100, (1.0, 1.0), (1.0, 1.0))]).drop(
            columns=["mean_governance_cost", "mean_net_value"]
        )
        table = stress_table(runs, [("a", "normal")])
        assert np.isnan(table.loc[0, "net_value"]) and table.loc[0, "success_rate"] == pytest.approx(0.5)
        assert "rank_net_value" not in rank_designs(table).columns


def test_a_comparison_reports_what_a_lever_costs_and_what_partners_keep():
    from experiments import compare

    tiny = {
        "name": "tiny",
        "formation": {"n_alliances": 30, "term_weeks": {"distribution": "uniform", "min": 60, "max": 140}},
        "firms": {"count": 45},
        "simulation": {"horizon_weeks": 156},
    }
    table = compare(tiny, {"governance.steering_committee": True}, replications=3, seed=2, workers=1)
    table = table.set_index("metric")
    assert table.loc["mean_governance_cost", "difference"] > 0
    assert table.loc["mean_governance_cost", "ci_low"] > 0
    assert np.isfinite(table.loc["mean_net_value", "difference"])


def test_the_stress_report_says_where_each_design_is_best_and_what_it_keeps():
    from experiments.studies.stress import _best_in_and_value

    frame = pd.DataFrame(
        {
            "design": ["a", "b", "a", "b"],
            "scenario": ["normal", "normal", "storm", "storm"],
            "success_rate": [0.7, 0.6, 0.4, 0.5],
            "governance_cost": [50.0, 20.0, 50.0, 20.0],
            "net_value": [300.0, 400.0, 200.0, 250.0],
        }
    )
    lines = _best_in_and_value(frame)
    assert lines[0] == "Best design by scenario: a in 1; b in 1."
    assert lines[1].startswith("b keeps the most net value") and "cheapest design to govern is b" in lines[1]
    assert len(_best_in_and_value(frame.drop(columns=["governance_cost", "net_value"]))) == 1
