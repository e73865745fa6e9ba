"""Every coefficient of every submodel, one section per submodel (`scenario.coefficients`).

Each section is named like the module in `sim/mechanisms/` that reads it; every coefficient has its
default, bounds and unit here, and its reason in docs/ODD.md section 7. The scenario schema
(`sim.schema`) holds them as `Scenario.coefficients`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sim.fields import WEEKS_MAX, Amount, NonNeg, Rate, Section, Unit, Weight, _f


class MeetingCoefficients(Section):
    """Submodel meetings (sim/mechanisms/meetings.py)."""

    interpersonal_gain: Unit = _f(
        0.03, "trust gain per meeting toward the ceiling, interpersonal, in-person weight 1"
    )
    organisational_gain: Unit = _f(0.012, "trust gain per meeting toward the ceiling, organisational")
    familiarity_gain: Unit = _f(0.06, "familiarity gain per meeting toward 1, in-person weight 1")
    virtual_weight: Unit = _f(0.45, "what a virtual meeting builds relative to one in person")
    surface_in_person: Unit = _f(0.7, "share of hidden issues an in-person meeting surfaces")
    surface_virtual: Unit = _f(0.45, "share of hidden issues a virtual meeting surfaces")
    cost_in_person: Amount = _f(0.4, "cost of an in-person meeting to each partner, value units")
    cost_virtual: Amount = _f(0.08, "cost of a virtual meeting to each partner, value units")


class FrictionCoefficients(Section):
    """Submodel friction (sim/mechanisms/friction.py)."""

    base_issues_per_week: Rate = _f(0.08, "new hidden issues per week with no distance, no ambiguity")
    per_cultural_distance: Rate = _f(0.06, "extra issues per week per unit of effective Kogut-Singh distance")
    familiarity_discount: Unit = _f(0.6, "share of cultural distance that full familiarity takes away")
    per_role_ambiguity: Rate = _f(0.10, "extra issues per week at full role ambiguity")
    charter_ambiguity_cut: Unit = _f(0.4, "share of role ambiguity a shared charter removes")
    rigidity_value_cost: Unit = _f(
        0.25, "share of coordination lost at full role rigidity (role_clarity 1), quadratic"
    )
    per_risk_mismatch: Annotated[float, Field(ge=0.0, le=1000.0)] = _f(
        4.0, "issues a shock raises per unit of severity x risk-tolerance mismatch"
    )
    reference_culture_variance: Annotated[float, Field(gt=0.0, le=1.0)] = _f(
        1.0 / 12.0, "variance of each culture dimension in the reference population (Kogut-Singh)"
    )
    erupt_per_week: Unit = _f(0.06, "chance per week that a hidden issue erupts into the open")


class ResolutionCoefficients(Section):
    """Submodel resolution (sim/mechanisms/resolution.py)."""

    base_at_meeting: Unit = _f(0.35, "chance an open issue is resolved at a meeting, average team")
    skill_weight: Weight = _f(0.5, "weight of the managers' collaboration skill")
    emotional_intelligence_weight: Weight = _f(0.4, "weight of emotional intelligence")
    proactiveness_weight: Weight = _f(0.3, "weight of proactiveness")
    trust_weight: Weight = _f(0.6, "weight of mean organisational trust")
    capability_weight: Weight = _f(0.4, "weight of the firms' alliance capability")
    steering_committee: Unit = _f(
        0.5, "base chance a steering committee resolves an open issue (scaled like base_at_meeting)"
    )
    day_to_day_share: Unit = _f(
        0.6, "between meetings, the weekly resolution chance as a share of a meeting's"
    )
    proactive_surface_per_week: Unit = _f(
        0.08, "share of hidden issues a fully proactive manager raises each week between meetings"
    )
    max_probability: Unit = _f(0.95, "upper bound of any resolution probability")
    mode_factor_collaborative: Weight = _f(1.15, "resolution factor, collaborative mode")
    mode_factor_escalation: Weight = _f(0.9, "resolution factor, escalation mode")
    mode_factor_ad_hoc: Weight = _f(0.7, "resolution factor, ad hoc mode")
    escalation_age_weeks: int = _f(
        8, "escalation mode: issues older than this are escalated", ge=1, le=WEEKS_MAX
    )
    escalation_resolve: Unit = _f(0.4, "escalation mode: chance an escalated issue is settled")
    trust_per_joint_resolution: Unit = _f(0.012, "collaborative mode: trust gain per issue solved jointly")
    trust_per_escalation: Unit = _f(0.03, "escalation mode: trust loss per escalated issue")


class TrustCoefficients(Section):
    """Submodel trust (sim/mechanisms/trust.py)."""

    erosion_to_growth: Weight = _f(
        3.0, "how much faster trust falls than it grows for the same push (Slovic asymmetry)"
    )
    initial_mean: Unit = _f(0.45, "organisational and interpersonal trust of new partners")
    initial_sd: Unit = _f(0.12, "spread of initial trust")
    rapport_mean: Unit = _f(
        0.8,
        "mean of an alliance's rapport: the ceiling its partners' trust can grow to (relational fit, "
        "drawn once per alliance; a betrayal can lower it further)",
    )
    rapport_sd: Unit = _f(0.2, "spread of rapport across alliances (normal, clipped to [rapport_min, 1])")
    rapport_min: Unit = _f(0.2, "lowest rapport an alliance can draw")
    backlog_erosion: Unit = _f(0.0008, "trust loss per open issue per week, before ageing")
    age_scale_weeks: Annotated[float, Field(gt=0.0, le=WEEKS_MAX)] = _f(
        12.0, "an open issue of this age erodes twice as fast as a new one"
    )
    observed_effort_gain: Unit = _f(
        0.07, "weekly trust gain toward the ceiling per unit of the co-partners' observed effort"
    )
    eruption_loss: Unit = _f(0.02, "trust loss when a hidden issue erupts")
    betrayal_drop: Unit = _f(0.5, "share of trust lost when opportunism is detected")
    betrayal_ceiling: Unit = _f(0.6, "lasting ceiling on trust after a betrayal (the scar)")
    interpersonal_spillover: Unit = _f(
        0.05, "weekly pull of organisational trust toward the managers' interpersonal trust"
    )
    repeat_partner_carryover: Unit = _f(
        0.7, "weight of the trust at the end of a previous alliance in a repeat alliance's start"
    )


class ContributionCoefficients(Section):
    """Submodel contribution (sim/mechanisms/contribution.py)."""

    base_effort: Unit = _f(0.45, "effort a partner gives with no incentives and neutral trust")
    incentive_weight: Weight = _f(
        0.5, "effort from incentives x leadership consistency (an interaction, not a sum)"
    )
    formal_share: Unit = _f(0.5, "share of formal (vs informal) incentives in the incentive index")
    trust_weight: Weight = _f(0.35, "effort from trust above what the risk tolerance demands")
    trust_hurdle: Unit = _f(0.5, "trust a fully risk-averse partner needs before it commits")
    influence_weight: Weight = _f(0.1, "effort from the manager's influence (internal alignment)")
    temptation: Unit = _f(0.02, "weekly chance of opportunism of a fully tempted, distrustful firm")
    horizontal_temptation: Weight = _f(1.0, "extra temptation in horizontal alliances (x base)")
    deterrence: Unit = _f(0.6, "how much reviews deter opportunism when held every week")
    deterrence_horizon_weeks: Annotated[float, Field(gt=0.0, le=WEEKS_MAX)] = _f(
        13.0, "weeks beyond weekly reviews after which deterrence has fallen to 1/e of its weekly level"
    )
    withheld_effort: Unit = _f(0.6, "share of effort an opportunistic partner withholds")
    appropriation: Unit = _f(0.3, "share of co-partners' weekly value an opportunist captures")
    detection_per_review: Unit = _f(0.6, "chance a review detects one week of opportunism")


class ValueCoefficients(Section):
    """Submodel value (sim/mechanisms/value.py)."""

    value_scale: Amount = _f(
        10.0, "joint value per week of a perfectly run alliance of complementarity 1, value units"
    )
    coordination_base: Unit = _f(0.5, "coordination quality at zero trust and no backlog")
    coordination_trust: Unit = _f(0.3, "coordination quality added by full trust")
    coordination_capability: Unit = _f(
        0.25, "coordination quality added by the partners' full alliance capability (processes, tools)"
    )
    backlog_drag: Weight = _f(0.06, "coordination lost per open issue (exponential)")
    invest_cost_per_week: Amount = _f(1.0, "invest phase: each partner's cost per week at full effort")
    top_down_complementarity: Unit = _f(
        0.55, "complementarity left in a top-down alliance without a strategic insight"
    )
    min_objective: Amount = _f(
        1.0, "smallest objective a partner sets, value units (an objective is never zero or negative)"
    )
    insight_recovery: Unit = _f(0.8, "share of the lost complementarity an insight workshop recovers")
    insight_workshop_cost: Amount = _f(2.0, "cost of an insight workshop to each partner")
    expectation_effort: Unit = _f(0.6, "effort partners assume when they set expected value")
    expectation_coordination: Unit = _f(0.28, "coordination partners assume when they set expected value")
    restructure_value_factor: Unit = _f(0.5, "value created during restructuring, relative")
    effort_elasticity: Annotated[float, Field(ge=0.0, le=2.0)] = _f(
        0.5,
        "elasticity of joint value to the partners' effort (below 1: diminishing returns, more effort "
        "buys proportionally less value)",
    )
    potential_sd: Annotated[float, Field(ge=0.0, le=2.0)] = _f(
        0.5,
        "luck governance cannot remove: sd of the log of an alliance's value potential (market, "
        "technology, partner fit), drawn at formation with mean 1 and unknown to the partners when "
        "they set expectations; 0 gives every alliance potential 1",
    )
    top_down_sd: Unit = _f(
        0.15,
        "spread of the share of complementarity a top-down alliance keeps (normal around "
        "top_down_complementarity, clipped to [0.05, 1]); 0 keeps exactly top_down_complementarity",
    )
    effort_cost_per_week: NonNeg = _f(
        0.3,
        "operate and restructure phases: each partner's cost per week at full effort (effort is not "
        "free once the alliance runs); expectations count it at expectation_effort",
        le=1000.0,
    )


class ShockCoefficients(Section):
    """Submodel shocks (sim/mechanisms/shocks.py)."""

    loss_per_severity: Amount = _f(20.0, "value lost by each partner per unit of severity")
    response_loss_avoid: Unit = _f(0.35, "share of the loss left under a pre-agreed 'avoid'")
    response_loss_mitigate: Unit = _f(0.5, "share of the loss left under 'mitigate'")
    response_loss_transfer: Unit = _f(0.45, "share of the loss left under 'transfer'")
    response_loss_accept: Unit = _f(0.8, "share of the loss left under 'accept' (contingency)")
    clinic_conflict_cut: Unit = _f(0.7, "share of risk-mismatch conflict a clinic's responses prevent")
    clinic_trust_gain: Unit = _f(0.1, "trust gain from holding a risk clinic")
    clinic_cost: Amount = _f(1.0, "cost of a risk clinic to each partner, value units")
    clinic_decay_per_week: Unit = _f(0.01, "share of a clinic's coverage that goes stale each week")
    drift_threshold: Unit = _f(0.6, "severity above which a shock can shift a partner's strategy")
    drift_complementarity_loss: Unit = _f(0.5, "complementarity lost per unit severity above threshold")
    drift_window_weeks: int = _f(
        26, "an exit this soon after a strategic shift counts as drift", ge=1, le=WEEKS_MAX
    )


class TurnoverCoefficients(Section):
    """Submodel turnover (sim/mechanisms/turnover.py)."""

    replacement_trust: Unit = _f(
        0.2, "interpersonal trust a newcomer starts with before any handover (never above the old)"
    )
    familiarity_loss: Unit = _f(0.5, "share of familiarity lost when a manager leaves, no handover")
    handover_none: Unit = _f(0.1, "knowledge handed over without an alliance function")
    handover_central_function: Unit = _f(0.5, "handover by a central alliance function")
    handover_center_of_excellence: Unit = _f(0.7, "handover by a centre of excellence")
    handover_community_of_practice: Unit = _f(0.65, "handover by a community of practice")
    training_skill_gain: Unit = _f(0.15, "skill a newcomer gains from full training investment")
    hiring_skill_gain: Unit = _f(0.15, "skill and EI gained from hiring fully for collaboration")
    function_skill_gain: Unit = _f(0.1, "skill an alliance function adds by coaching newcomers")


class LearningCoefficients(Section):
    """Submodel learning (sim/mechanisms/learning.py)."""

    experience_scale_years: Annotated[float, Field(gt=0.0, le=1000.0)] = _f(
        8.0, "alliance-years of experience that take capability 63% of the way to its maximum"
    )
    capability_max_none: Unit = _f(0.4, "capability a firm without an alliance function can reach")
    capability_max_function: Unit = _f(1.0, "capability a firm with an alliance function can reach")
    function_base_capability: Unit = _f(
        0.75, "capability an alliance function brings from day one (calibrated, docs/VALIDATION.md)"
    )
    spread_none: Unit = _f(0.3, "share of an alliance's lessons kept by a firm without a function")
    spread_central_function: Unit = _f(0.8, "share kept and spread by a central function")
    spread_center_of_excellence: Unit = _f(1.0, "share kept and spread by a centre of excellence")
    spread_community_of_practice: Unit = _f(0.9, "share kept and spread by a community of practice")
    manager_skill_per_year: Unit = _f(
        0.04, "share of the gap to full skill a manager closes per year in the job"
    )
    max_initial_familiarity: Unit = _f(0.8, "most familiarity a repeat alliance can start with")
    partner_familiarity_per_year: Unit = _f(
        0.25, "familiarity a repeat alliance starts with per year of joint history"
    )


class ReviewCoefficients(Section):
    """Submodel reviews (sim/mechanisms/reviews.py)."""

    value_weight: Weight = _f(1.0, "weight of realised / expected value in satisfaction")
    trust_weight: Weight = _f(1.3, "weight of organisational trust in satisfaction")
    satisfaction_threshold: Weight = _f(0.75, "satisfaction below which a partner is unhappy")
    exit_temperature: Annotated[float, Field(gt=0.0, le=100.0)] = _f(
        0.3, "softness of the exit decision (logistic scale)"
    )
    exit_margin: Weight = _f(
        0.6,
        "centre of the logistic curve of acting on dissatisfaction (before it is rescaled to start at 0)",
    )
    restructure_base: Unit = _f(0.35, "chance an unhappy partner restructures rather than exits")
    restructure_proactive: Unit = _f(0.5, "extra chance for a fully proactive leader")
    restructure_min_trust: Unit = _f(0.25, "no restructuring below this trust")
    max_restructures: int = _f(2, "restructurings an alliance can go through", ge=0, le=20)
    restructure_weeks: int = _f(8, "length of a restructuring", ge=1, le=520)
    restructure_cost: Amount = _f(5.0, "cost of renegotiating to each partner, value units")
    renegotiated_expectation: Unit = _f(
        0.5, "renegotiation moves expected value this share of the way to what is realised"
    )
    objective_share: Unit = _f(
        0.7,
        "share of expected value a partner must realise for its objectives to be met (set with the "
        "calibration's levels, docs/VALIDATION.md)",
    )
    trust_collapse: Unit = _f(0.15, "a partner whose trust falls below this exits at once")
    early_completion: bool = _f(
        False,
        "an operating alliance ends early, as a success, at the first review where every partner has "
        "realised all it expected over the term; false: it runs on to its planned term",
    )
    trust_reference: Unit = _f(
        0.6,
        "trust that counts as neutral in satisfaction: below it, trust lowers satisfaction, so a poor "
        "relationship alone can make a partner unhappy (satisfaction = value_weight x judged value + "
        "trust_weight x (trust - trust_reference)); 0 makes any trust add to satisfaction",
    )
    recent_betrayal_weeks: int = _f(
        26, "an exit this soon after a betrayal counts as opportunism", ge=1, le=WEEKS_MAX
    )
    grace_weeks: int = _f(
        26,
        "operating weeks before value is judged (until then the value term counts as on target)",
        ge=0,
        le=WEEKS_MAX,
    )
    judgement_ramp_weeks: int = _f(
        52,
        "weeks after the grace period over which value's weight in satisfaction rises from 0 to full "
        "(a honeymoon: young alliances are judged on their results gradually); 0 judges in full at once",
        ge=0,
        le=520,
    )


class CostCoefficients(Section):
    """What each governance lever costs a partner, in value units (sim/mechanisms/costs.py).

    Levers that already carry their own price elsewhere: meetings (`meetings.cost_*`), risk
    clinics (`shocks.clinic_cost`), the insight workshop (`value.insight_workshop_cost`) and
    renegotiation (`reviews.restructure_cost`). Every one of these is also counted in the
    alliance's `governance_cost`.
    """

    function_per_year_central_function: NonNeg = _f(
        5.0, "yearly cost of a central alliance function to its firm, shared over its alliances", le=1e6
    )
    function_per_year_center_of_excellence: NonNeg = _f(
        12.0, "yearly cost of a centre of excellence to its firm, shared over its alliances", le=1e6
    )
    function_per_year_community_of_practice: NonNeg = _f(
        5.0, "yearly cost of a community of practice to its firm, shared over its alliances", le=1e6
    )
    steering_per_meeting: NonNeg = _f(
        1.0, "senior time of one steering committee meeting, per partner", le=1e4
    )
    review_per_review: NonNeg = _f(0.3, "cost of one review against the agreed metrics, per partner", le=1e4)
    training_per_year: NonNeg = _f(
        2.0,
        "yearly cost per alliance at full investment in collaboration training (x firms.training)",
        le=1e4,
    )
    hiring_per_year: NonNeg = _f(
        2.0,
        "yearly cost per alliance of hiring fully for collaboration (x firms.hiring_for_collaboration)",
        le=1e4,
    )
    formal_incentive_payout: Unit = _f(
        0.1, "share of a partner's weekly value paid out as formal incentives at full strength (x formal)"
    )
    informal_per_year: NonNeg = _f(
        1.0, "yearly cost per alliance of informal incentives at full strength (x informal)", le=1e4
    )
    leadership_per_year: NonNeg = _f(
        2.0, "yearly cost per alliance of leadership attention at full consistency (x consistency)", le=1e4
    )
    charter: NonNeg = _f(1.5, "one-off cost of writing a shared charter at launch, per partner", le=1e4)
    collaborative_per_year: NonNeg = _f(
        3.0,
        "yearly time cost per alliance of collaborative conflict resolution (joint problem solving)",
        le=1e4,
    )
    escalation_per_year: NonNeg = _f(1.5, "yearly time cost per alliance of an escalation procedure", le=1e4)


class FormationCoefficients(Section):
    """Submodel formation (sim/mechanisms/formation.py), partner choice in ongoing mode."""

    complementarity_preference: Weight = _f(3.0, "logit weight of expected complementarity")
    prior_trust_preference: Weight = _f(
        4.0, "logit weight of trust left by a previous alliance, relative to a stranger's"
    )


class Coefficients(Section):
    """Every coefficient of every submodel, grouped by submodel."""

    meetings: MeetingCoefficients = Field(default_factory=MeetingCoefficients)
    friction: FrictionCoefficients = Field(default_factory=FrictionCoefficients)
    resolution: ResolutionCoefficients = Field(default_factory=ResolutionCoefficients)
    trust: TrustCoefficients = Field(default_factory=TrustCoefficients)
    contribution: ContributionCoefficients = Field(default_factory=ContributionCoefficients)
    value: ValueCoefficients = Field(default_factory=ValueCoefficients)
    shocks: ShockCoefficients = Field(default_factory=ShockCoefficients)
    turnover: TurnoverCoefficients = Field(default_factory=TurnoverCoefficients)
    learning: LearningCoefficients = Field(default_factory=LearningCoefficients)
    reviews: ReviewCoefficients = Field(default_factory=ReviewCoefficients)
    formation: FormationCoefficients = Field(default_factory=FormationCoefficients)
    costs: CostCoefficients = Field(default_factory=CostCoefficients)
