"""The mechanisms behind credible magnitudes: planned terms, rapport, the reason rule, early
completion and the plausible range every lever documents."""

from __future__ import annotations

from typing import Annotated, get_args, get_origin

import numpy as np
import pytest
from conftest import SMALL, run_small_model
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import AllianceModel, build_scenario
from sim import outcome as oc
from sim import schema as S
from sim.mechanisms import formation
from sim.schema import TermWeeks, TrustCoefficients

LEVER_SECTIONS = (S.Formation, S.Incentives, S.Firms, S.Managers, S.Governance, S.Environment)
#: numeric fields of those sections that size the population rather than describe a lever
SIZES = {
    ("Formation", "n_alliances"), ("Formation", "max_partners"), ("Firms", "count"), ("Managers", "per_firm"),
}  # fmt: skip


def _numeric(annotation):
    """int or float for a plain or Annotated number, else None."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation if annotation in (int, float) else None


class TestPlausibleRanges:
    @pytest.mark.parametrize("section", LEVER_SECTIONS, ids=lambda c: c.__name__)
    def test_every_numeric_lever_documents_a_plausible_range_inside_its_bounds(self, section):
        for name, field in section.model_fields.items():
            if _numeric(field.annotation) is None:
                continue
            if (section.__name__, name) in SIZES:
                continue
            span = S.plausible_range(section, name)
            assert span is not None, f"{section.__name__}.{name} has no plausible range"
            low, high = span
            assert low <= field.default <= high, f"{section.__name__}.{name}: default outside {span}"
            # the hard bounds hold the whole plausible range
            build_scenario({}, {})  # defaults are valid
            for value in (low, high):
                section(**{name: value})

    def test_a_field_without_a_range_says_so(self):
        assert S.plausible_range(S.Firms, "count") is None
        assert S.plausible_range(S.Governance, "meeting_interval_weeks") == (1, 13)


class TestPlannedTerms:
    def test_uniform_terms_cover_every_week_between_the_bounds(self):
        term = TermWeeks(distribution="uniform", min=10, max=14)
        weeks = {formation.planned_term(u, term) for u in np.linspace(0, 0.9999, 400)}
        assert weeks == {10, 11, 12, 13, 14}

    def test_lognormal_terms_have_their_median_and_stay_within_bounds(self):
        term = TermWeeks(median=416, sd_log=1.0, min=52, max=1040)
        u = (np.arange(20_000) + 0.5) / 20_000
        weeks = np.array([formation.planned_term(x, term) for x in u])
        assert np.median(weeks) == pytest.approx(416, abs=2)
        assert weeks.min() == 52 and weeks.max() == 1040
        assert formation.planned_term(0.0, term) == 52

    @given(st.floats(0, 1, exclude_max=True), st.integers(4, 600), st.floats(0, 3))
    @settings(max_examples=200, deadline=None)
    def test_any_draw_gives_a_term_within_bounds(self, u, median, sd):
        term = TermWeeks(median=median, sd_log=sd, min=20, max=700)
        assert 20 <= formation.planned_term(u, term) <= 700

    def test_terms_are_long_and_skewed_at_the_defaults(self):
        out = run_small_model(2, simulation__horizon_weeks=60).outcomes()
        years = out["planned_term_weeks"] / 52
        assert years.median() > 5 and years.max() > 2 * years.median()


class TestRapport:
    def test_rapport_caps_trust_from_the_start(self):
        al = AllianceModel(rng=4, **SMALL, coefficients__trust__rapport_sd=0.3).world.alliances
        n = al.n
        member = al.member[:n]
        ceiling = al.trust_ceiling[:n][member]
        assert ceiling.std() > 0.1
        assert (al.trust_org[:n][member] <= ceiling + 1e-12).all()
        assert (ceiling >= TrustCoefficients().rapport_min).all() and (ceiling <= 1.0).all()

    def test_partners_of_one_alliance_share_its_rapport(self):
        al = AllianceModel(rng=4, **SMALL).world.alliances
        n = al.n
        assert np.array_equal(al.trust_ceiling[:n, 0], al.trust_ceiling[:n, 1])

    def test_without_spread_rapport_is_its_mean(self):
        z = np.array([-2.0, 0.0, 2.0])
        coef = TrustCoefficients(rapport_sd=0.0, rapport_mean=0.9)
        assert np.allclose(formation.trust_rapport(z, coef), 0.9)


class TestReasonRule:
    def reason(self, ratio=1.0, value_short=0.0, trust_short=0.0, betrayed=-100, drift=-100, week=100):
        return int(oc.failure_reason(week, betrayed, drift, ratio, 0.7, value_short, trust_short, 26, 26))

    def test_a_recent_betrayal_comes_first_then_a_strategic_shift(self):
        assert self.reason(ratio=0.1, value_short=0.9, betrayed=90, drift=95) == oc.DETECTED_OPPORTUNISM
        assert self.reason(ratio=0.1, value_short=0.9, drift=95) == oc.STRATEGIC_DRIFT

    def test_the_larger_deficit_names_the_cause(self):
        assert self.reason(ratio=0.5, value_short=0.5, trust_short=0.2) == oc.VALUE_SHORTFALL
        assert self.reason(ratio=0.5, value_short=0.2, trust_short=0.5) == oc.TRUST_COLLAPSE

    def test_value_met_means_the_relationship_was_the_cause(self):
        assert self.reason(ratio=0.8, value_short=0.2, trust_short=0.0) == oc.TRUST_COLLAPSE

    def test_a_forced_trust_exit_is_a_trust_collapse(self):
        assert self.reason(ratio=0.1, value_short=0.9, trust_short=np.inf) == oc.TRUST_COLLAPSE

    def test_the_deficits_are_those_satisfaction_feels(self):
        assert oc.value_deficit(0.6, 1.0) == pytest.approx(0.4)
        assert oc.value_deficit(1.2, 1.0) == 0.0
        assert oc.trust_deficit(0.3, 0.6, 1.3) == pytest.approx(0.39)
        assert oc.trust_deficit(0.8, 0.6, 1.3) == 0.0

    def test_relationships_fail_in_runs_as_well_as_value(self):
        out = run_small_model(5, simulation__horizon_weeks=400).outcomes()
        reasons = out.loc[out["outcome"] == "failure", "reason"].value_counts()
        assert reasons.get("trust_collapse", 0) > 0 and reasons.get("value_shortfall", 0) > 0


class TestEarlyCompletion:
    def test_without_early_completion_successes_run_their_term(self):
        out = run_small_model(6, simulation__horizon_weeks=500).outcomes()
        done = out[out["outcome"] == "success"]
        assert len(done) > 0
        assert (done["duration_weeks"] >= done["planned_term_weeks"]).all()

    def test_with_early_completion_some_successes_end_before_their_term(self):
        out = run_small_model(
            6,
            simulation__horizon_weeks=500,
            coefficients__reviews__early_completion=True,
            coefficients__value__expectation_coordination=0.15,
        ).outcomes()
        done = out[out["outcome"] == "success"]
        assert (done["duration_weeks"] < done["planned_term_weeks"]).any()
