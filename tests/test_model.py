"""The whole model: determinism, invariants, outputs, agents, and Mesa's batch_run."""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import OUTCOMES, REASONS, Alliance, AllianceModel, Firm, Manager, ScenarioError
from sim.model import TIMESERIES_COLUMNS

SMALL = dict(formation__n_alliances=40, firms__count=60, simulation__horizon_weeks=120)


def small(seed=1, **kw):
    return AllianceModel(rng=seed, **{**SMALL, **kw}).run()


# ---------------------------------------------------------------- determinism


def test_same_seed_same_everything():
    a, b = small(7), small(7)
    pd.testing.assert_frame_equal(a.outcomes(), b.outcomes())
    pd.testing.assert_frame_equal(a.timeseries(), b.timeseries())
    pd.testing.assert_frame_equal(a.events(), b.events())


def test_different_seed_different_run():
    a, b = small(1), small(2)
    assert not a.outcomes()["end_week"].equals(b.outcomes()["end_week"])


def test_seed_is_recorded_when_drawn_fresh():
    m = AllianceModel(rng=None, **SMALL)
    m.run()
    again = AllianceModel(rng=m.seed, **SMALL).run()
    pd.testing.assert_frame_equal(m.outcomes(), again.outcomes())


def test_generator_and_seed_sequence_are_accepted():
    m = AllianceModel(rng=np.random.default_rng(3), **SMALL)
    assert isinstance(m.seed, int)
    s = AllianceModel(rng=np.random.SeedSequence(11), **SMALL)
    assert s.seed == 11


# ---------------------------------------------------------------- invariants

scenario_strategy = st.fixed_dictionaries(
    {
        "formation__n_alliances": st.integers(2, 30),
        "simulation__horizon_weeks": st.integers(1, 160),
        "governance__meeting_interval_weeks": st.integers(1, 20),
        "governance__meeting_mode": st.sampled_from(["in_person", "virtual", "mixed"]),
        "governance__conflict_resolution": st.sampled_from(["collaborative", "escalation", "ad_hoc"]),
        "governance__risk_clinic": st.sampled_from(["none", "launch", "periodic"]),
        "governance__steering_committee": st.booleans(),
        "governance__review_interval_weeks": st.integers(1, 30),
        "managers__turnover_per_year": st.floats(0, 1),
        "formation__multi_partner_share": st.floats(0, 1),
        "firms__opportunistic_share": st.floats(0, 1),
        "environment__shock_rate_per_year": st.floats(0, 6),
        "formation__negotiate_weeks": st.integers(0, 10),
        "formation__invest_weeks": st.integers(0, 20),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=scenario_strategy, seed=st.integers(0, 2**32))
def test_invariants_hold_for_any_scenario(params, seed):
    m = AllianceModel(rng=seed, firms__count=max(40, 3 * params["formation__n_alliances"]), **params)
    al = m.world.alliances
    lo, hi = 1.0, 0.0
    while m.running:
        m.step()
        n = al.n
        assert al.active[:n].all()  # running rows are packed at the top after each week
        used = al.member[:n]
        for arr in (al.trust_org, al.trust_ip):
            vals = arr[:n][used]
            if vals.size:
                lo, hi = min(lo, vals.min()), max(hi, vals.max())
        assert np.all(al.trust_org[:n][used] <= al.trust_ceiling[:n][used] + 1e-12)
        assert np.all(al.open_issues[:n] >= 0) and np.all(al.hidden_issues[:n] >= 0)
        assert np.all(m.world.firms.active_alliances >= 0)
    assert 0.0 <= lo and hi <= 1.0

    out = m.outcomes()
    # outcome counts add up, censored exactly the ones still active
    assert out["outcome"].isin(OUTCOMES).all()
    assert len(out) == al.formed == al.n + al.archive.n
    assert out["alliance_id"].tolist() == list(range(al.formed))
    assert (out["outcome"] == "censored").sum() == al.n
    # reasons only for failures, and every failure has one
    failures = out["outcome"] == "failure"
    assert out.loc[failures, "reason"].isin(REASONS).all()
    assert out.loc[~failures, "reason"].isna().all()
    assert (out["end_week"] >= out["start_week"]).all()
    assert (out["duration_weeks"] <= out["planned_term_weeks"]).all()
    # no alliance ends twice
    events = m.events()
    ended = events[events["event"] == "ended"]
    assert not ended["alliance_id"].duplicated().any()
    assert len(ended) == (out["outcome"] != "censored").sum()
    # the last time-series row agrees with the outcomes
    last = m.timeseries().iloc[-1]
    assert last["successes"] == (out["outcome"] == "success").sum()
    assert last["failures"] == failures.sum()
    assert last["active_alliances"] == (out["outcome"] == "censored").sum()
    assert sum(last[f"failures_{r}"] for r in REASONS) == last["failures"]
    # seats and manager loads are released when alliances end
    seats = np.bincount(al.firm[: al.n][al.member[: al.n]], minlength=m.world.firms.count)
    assert np.array_equal(seats, m.world.firms.active_alliances)
    assert m.world.managers.load.sum() == al.member[: al.n].sum()


# ---------------------------------------------------------------- outputs


def test_outcome_columns_and_types():
    out = small().outcomes()
    required = {
        "alliance_id",
        "partner_ids",
        "kind",
        "start_week",
        "end_week",
        "outcome",
        "reason",
        "cultural_distance",
        "final_trust",
        "value_realized",
        "value_expected",
    }
    assert required <= set(out.columns)
    assert all(isinstance(p, list) and len(p) == 2 for p in out["partner_ids"])
    assert set(out["kind"]) <= {"vertical", "horizontal"}
    assert out["final_trust"].between(0, 1).all()


def test_timeseries_interval_and_columns():
    m = small(1, simulation__horizon_weeks=50, output__timeseries_interval_weeks=10)
    ts = m.timeseries()
    assert list(ts.columns) == list(TIMESERIES_COLUMNS)
    assert ts["week"].tolist() == [0, 10, 20, 30, 40, 50]


def test_timeseries_always_ends_at_the_horizon():
    ts = small(simulation__horizon_weeks=33, output__timeseries_interval_weeks=10).timeseries()
    assert ts["week"].iloc[-1] == 33


def test_events_tell_a_story():
    m = small(
        3,
        governance__risk_clinic="launch",
        governance__conflict_resolution="escalation",
        managers__turnover_per_year=0.5,
    )
    ev = m.events()
    kinds = set(ev["event"])
    for needed in (
        "formed",
        "phase",
        "meeting_in_person",
        "meeting_virtual",
        "issues_raised",
        "issues_resolved",
        "risk_clinic",
        "shock",
        "manager_left",
        "review",
        "trust",
        "ended",
    ):
        assert needed in kinds, needed
    assert ev["week"].is_monotonic_increasing
    # a partner-level event names a real partner of that alliance
    partners = m.outcomes().set_index("alliance_id")["partner_ids"]
    reviews = ev[ev["event"] == "review"].head(50)
    assert all(p in partners[a] for a, p in zip(reviews["alliance_id"], reviews["partner_id"]))


def test_events_can_be_switched_off():
    assert small(output__events=False).events().empty


def test_summary_agrees_with_outcomes():
    m = small(5)
    s, out = m.summary(), m.outcomes()
    decided = out[out["outcome"] != "censored"]
    assert s["success_rate"] == pytest.approx((decided["outcome"] == "success").mean())
    assert s["failure"] == (out["outcome"] == "failure").sum()


# ---------------------------------------------------------------- agents and modes


def test_agents_are_mesa_agents_reading_the_tables():
    m = small(2)
    assert len(m.agents_by_type[Firm]) == 60
    assert len(m.agents_by_type[Manager]) == 60 * m.config.managers.per_firm
    assert len(m.agents_by_type[Alliance]) == 40
    a = m.alliances[0]
    row = m.outcomes().iloc[0]
    assert a.partner_ids == row["partner_ids"]
    assert a.outcome == (row["outcome"] if row["outcome"] != "censored" else None)
    assert set(a.trust) == set(a.partner_ids)
    assert a.governance.meeting_interval_weeks == m.config.governance.meeting_interval_weeks
    f = a.partners[0]
    assert set(f.culture) == {"pace", "decision_style", "formality", "priority"}
    assert f.alliance_function == "none"


def test_turnover_replaces_manager_agents():
    m = AllianceModel(rng=4, managers__turnover_per_year=0.9, **SMALL)
    first = {mgr.unique_id for mgr in m.managers}
    m.run()
    assert len(m.agents_by_type[Manager]) == len(m.managers)
    assert {mgr.unique_id for mgr in m.managers} != first
    assert m.world.managers.holder.sum() > 0


def test_multi_partner_alliances():
    out = small(6, formation__multi_partner_share=1.0, formation__max_partners=4).outcomes()
    assert out["n_partners"].between(3, 4).all()
    assert all(len(p) == n for p, n in zip(out["partner_ids"], out["n_partners"]))
    assert all(len(set(p)) == len(p) for p in out["partner_ids"])


def test_ongoing_formation_forms_over_time_and_repeats_ties():
    m = AllianceModel(
        rng=1,
        formation__mode="ongoing",
        formation__rate_per_week=1.0,
        formation__max_alliances_per_firm=1,
        firms__count=16,
        formation__term_weeks={"min": 20, "max": 30},
        simulation__horizon_weeks=300,
    ).run()
    out = m.outcomes()
    assert out["start_week"].nunique() > 20
    pairs = out["partner_ids"].map(lambda p: tuple(sorted(p)))
    assert pairs.duplicated().any()


def test_cohort_respects_seat_limit_and_warns_when_short():
    with pytest.warns(UserWarning, match="could form: too few firms had a free seat"):
        m = AllianceModel(
            rng=1, formation__n_alliances=30, firms__count=30, formation__max_alliances_per_firm=2
        )
    assert m.world.firms.active_alliances.max() <= 2
    assert m.world.alliances.formed < 30


def test_bad_override_raises_scenario_error():
    with pytest.raises(ScenarioError, match="governance.meeting_interval"):
        AllianceModel(rng=1, governance__meeting_interval=3)


def test_model_accepts_a_path(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: tiny\nformation: {n_alliances: 5}\nfirms: {count: 10}\n")
    m = AllianceModel(str(path), rng=1, simulation__horizon_weeks=5)
    assert m.config.name == "tiny" and len(m.alliances) == 5


# ---------------------------------------------------------------- Mesa integration


def test_mesa_batch_run_drives_the_model():
    results = mesa.batch_run(
        AllianceModel,
        parameters={
            "governance__meeting_interval_weeks": [2, 8],
            "formation__n_alliances": 20,
            "firms__count": 30,
            "simulation__horizon_weeks": 60,
        },
        rng=[1, 2],
        max_steps=1000,
        display_progress=False,
    )
    frame = pd.DataFrame(results)
    assert len(frame) == 4
    assert set(frame["governance__meeting_interval_weeks"]) == {2, 8}
    assert (frame["Step"] == 60).all()
    assert frame["formed"].eq(20).all()
    assert frame["successes"].ge(0).all()


def test_negative_seed_is_refused():
    with pytest.raises(ValueError, match="non-negative"):
        AllianceModel(rng=-1, **SMALL)
