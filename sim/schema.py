"""The scenario schema: every input and every coefficient of the model, typed, bounded and documented.

One pydantic model holds a whole scenario. Sections mirror the ODD description (docs/ODD.md):
`formation`, `firms`, `managers`, `governance`, `environment`, `output`, and `coefficients`
(one sub-section per submodel, named like the module in `sim/mechanisms/` that uses it).

Units: time is in weeks unless a name says otherwise (`*_per_year`); value is in "value units"
(`coefficients.value.value_scale` of them is one week of the joint value a perfectly run alliance
of complementarity 1 creates); trust, familiarity, skills and shares are in [0, 1].

No mechanism holds a number of its own: every coefficient is here, with its default and unit.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
# upper bounds for the non-negative coefficients, far beyond any sensible value but small enough
# that the arithmetic stays finite (an unbounded rate or weight overflows into inf and NaN)
Rate = Annotated[float, Field(ge=0.0, le=100.0)]  # events per week
Weight = Annotated[float, Field(ge=0.0, le=100.0)]  # weights, factors and ratios
Amount = Annotated[float, Field(ge=0.0, le=1e6)]  # value units
WEEKS_MAX = 10_400  # the longest horizon (simulation.horizon_weeks)

ALLIANCE_FUNCTIONS = ("none", "central_function", "center_of_excellence", "community_of_practice")
AllianceFunctionType = Literal["none", "central_function", "center_of_excellence", "community_of_practice"]
MEETING_MODES = ("in_person", "virtual", "mixed")
CONFLICT_MODES = ("collaborative", "escalation", "ad_hoc")
RISK_CLINIC_MODES = ("none", "launch", "periodic")


class Section(BaseModel):
    """Base of every schema section: unknown keys are errors, assignments are validated."""

    # strict: no silent coercion (true is not 1, "2" is not 2); YAML and --set values are typed;
    # every float is finite (.inf and .nan are refused)
    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True, allow_inf_nan=False)


def _f(default, description: str, **bounds):
    return Field(default, description=description, **bounds)


# --------------------------------------------------------------------------- inputs


class Distribution(Section):
    """A bounded trait drawn per entity: normal with this mean and sd, clipped to [0, 1]."""

    mean: Unit = _f(0.5, "mean of the trait, in [0, 1]")
    sd: Annotated[float, Field(ge=0.0, le=1.0)] = _f(0.15, "standard deviation before clipping")


class TermWeeks(Section):
    """Planned term of an alliance, drawn uniformly between min and max (weeks)."""

    min: int = _f(104, "shortest planned term, weeks", ge=4, le=5200)
    max: int = _f(208, "longest planned term, weeks", ge=4, le=5200)

    @model_validator(mode="after")
    def _ordered(self):
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) must be >= min ({self.min})")
        return self


class Formation(Section):
    """How alliances come into being (submodel: formation)."""

    mode: Literal["cohort", "ongoing"] = _f(
        "cohort", "cohort: n_alliances start at week 0; ongoing: firms seek partners every week"
    )
    n_alliances: int = _f(200, "cohort mode: number of alliances formed at week 0", ge=1, le=200_000)
    rate_per_week: NonNeg = _f(
        2.0, "ongoing mode: expected number of new alliances per week (Poisson)", le=10_000
    )
    max_alliances_per_firm: int = _f(
        3, "a firm takes part in at most this many active alliances", ge=1, le=1000
    )
    horizontal_share: Unit = _f(
        0.5, "share of alliances that are horizontal (partners at the same level, also rivals)"
    )
    multi_partner_share: Unit = _f(0.0, "share of alliances with more than two partners")
    max_partners: int = _f(3, "largest number of partners in a multi-partner alliance", ge=2, le=8)
    top_down_share: Unit = _f(
        0.3, "share of alliances formed top-down by executives without a strategic insight"
    )
    term_weeks: TermWeeks = Field(default_factory=TermWeeks)
    negotiate_weeks: int = _f(8, "length of the negotiate phase, weeks", ge=0, le=520)
    invest_weeks: int = _f(16, "length of the invest phase, weeks", ge=0, le=520)
    complementarity: Distribution = Field(
        default_factory=lambda: Distribution(mean=0.62, sd=0.18),
        description="strategic complementarity of a pair as its parents see it at formation "
        "(normal, clipped to [0.05, 1])",
    )


class Incentives(Section):
    """Collaboration incentives of firms, in [0, 1] (0 none, 1 strong)."""

    formal: Unit = _f(0.4, "formal incentives: pay, review criteria, rewards for collaboration")
    informal: Unit = _f(0.4, "informal incentives: public recognition, success stories")


class Firms(Section):
    """The population of partner firms (entity: Firm)."""

    count: int = _f(300, "number of firms", ge=2, le=1_000_000)
    culture_dispersion: Unit = _f(
        0.8,
        "how far firm cultures spread around the centre on each dimension; 1 spans the whole "
        "[0, 1] range, 0 makes every firm alike",
    )
    risk_tolerance: Distribution = Field(
        default_factory=lambda: Distribution(mean=0.5, sd=0.2),
        description="risk tolerance of each firm, 0 averse to 1 seeking",
    )
    alliance_function: AllianceFunctionType | dict[AllianceFunctionType, Unit] = _f(
        "none",
        "alliance capability of the firms: one type for all, or a mapping type -> share (shares add up to 1)",
    )
    incentives: Incentives = Field(default_factory=Incentives)
    leadership_consistency: Unit = _f(
        0.5, "how consistently leaders' messages and examples back collaboration"
    )
    training: Unit = _f(0.3, "investment in collaboration training of alliance managers")
    hiring_for_collaboration: Unit = _f(0.3, "weight hiring puts on collaborative skills")
    opportunism_propensity: Distribution = Field(
        default_factory=lambda: Distribution(mean=0.3, sd=0.15),
        description="each firm's inclination to exploit a partner when tempted",
    )
    opportunistic_share: Unit = _f(
        0.0, "share of firms that are opportunistic by design (propensity set to 1)"
    )

    @field_validator("alliance_function")
    @classmethod
    def _shares_sum_to_one(cls, value):
        if isinstance(value, dict):
            if not value:
                raise ValueError("the mapping of alliance function types to shares is empty")
            total = sum(value.values())
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"shares of alliance function types must add up to 1, got {total:g}")
        return value


class Managers(Section):
    """Alliance managers (entity: Manager)."""

    per_firm: int = _f(2, "alliance managers each firm employs", ge=1, le=1000)
    turnover_per_year: Unit = _f(0.15, "probability that a manager leaves within a year")
    skill: Distribution = Field(default_factory=lambda: Distribution(mean=0.5, sd=0.15))
    emotional_intelligence: Distribution = Field(default_factory=lambda: Distribution(mean=0.5, sd=0.15))
    proactiveness: Distribution = Field(
        default_factory=lambda: Distribution(mean=0.5, sd=0.2),
        description="0 a reactive manager who lets things happen, 1 a proactive leader",
    )
    influence: Distribution = Field(
        default_factory=lambda: Distribution(mean=0.5, sd=0.15),
        description="influence without authority over the firm's own stakeholders",
    )


class Governance(Section):
    """The governance design every alliance in the scenario uses (the levers)."""

    meeting_interval_weeks: int = _f(4, "weeks between alliance meetings", ge=1, le=520)
    meeting_mode: Literal["in_person", "virtual", "mixed"] = _f(
        "mixed", "in_person, virtual, or mixed (alternating by mixed_in_person_share)"
    )
    mixed_in_person_share: Unit = _f(0.5, "mixed mode: share of meetings held in person")
    steering_committee: bool = _f(False, "a joint steering committee reviews open issues")
    steering_interval_weeks: int = _f(13, "weeks between steering committee meetings", ge=1, le=520)
    review_interval_weeks: int = _f(
        13, "weeks between performance reviews against agreed metrics", ge=1, le=520
    )
    risk_clinic: Literal["none", "launch", "periodic"] = _f(
        "none", "risk clinic: none, once at launch, or at launch and then periodically"
    )
    risk_clinic_interval_weeks: int = _f(52, "periodic risk clinics: weeks between", ge=1, le=520)
    conflict_resolution: Literal["collaborative", "escalation", "ad_hoc"] = _f(
        "ad_hoc", "how day-to-day conflicts are resolved"
    )
    role_clarity: Unit = _f(0.5, "how tightly roles are bounded: 0 ambiguous, 1 rigid (both ends cost)")
    charter: bool = _f(False, "a shared charter at launch: one definition of what the alliance is")
    insight_workshop: bool = _f(False, "a strategic insight workshop at launch for alliances formed top-down")


class Environment(Section):
    """External conditions (submodel: shocks)."""

    shock_rate_per_year: NonNeg = _f(0.5, "expected shocks hitting one alliance per year", le=52)
    market_shock_rate_per_year: NonNeg = _f(
        0.1, "expected market-wide shocks per year (hit every active alliance at once)", le=52
    )
    shock_severity: Unit = _f(0.35, "mean severity of a shock, 0 harmless to 1 devastating")
    market_shock_severity: Unit = _f(0.15, "mean severity of a market-wide shock")


class Output(Section):
    """What a run records."""

    timeseries_interval_weeks: int = _f(4, "weeks between rows of the time series", ge=1, le=5200)
    events: bool = _f(True, "record the event log (meetings, issues, shocks, reviews...)")


class Simulation(Section):
    """Scheduling."""

    horizon_weeks: int = _f(312, "weeks simulated (one step is one week)", ge=1, le=10_400)


# --------------------------------------------------------------------------- coefficients


class MeetingCoefficients(Section):
    """Submodel meetings (sim/mechanisms/meetings.py)."""

    interpersonal_gain: Unit = _f(
        0.10, "trust gain per meeting toward the ceiling, interpersonal, in-person weight 1"
    )
    organisational_gain: Unit = _f(0.04, "trust gain per meeting toward the ceiling, organisational")
    familiarity_gain: Unit = _f(0.06, "familiarity gain per meeting toward 1, in-person weight 1")
    virtual_weight: Unit = _f(0.45, "what a virtual meeting builds relative to one in person")
    surface_in_person: Unit = _f(0.7, "share of hidden issues an in-person meeting surfaces")
    surface_virtual: Unit = _f(0.45, "share of hidden issues a virtual meeting surfaces")
    cost_in_person: Amount = _f(0.6, "cost of an in-person meeting to each partner, value units")
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
        0.25, "between meetings, the weekly resolution chance as a share of a meeting's"
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
    initial_sd: Unit = _f(0.08, "spread of initial trust")
    backlog_erosion: Unit = _f(0.0008, "trust loss per open issue per week, before ageing")
    age_scale_weeks: Annotated[float, Field(gt=0.0, le=WEEKS_MAX)] = _f(
        12.0, "an open issue of this age erodes twice as fast as a new one"
    )
    observed_effort_gain: Unit = _f(
        0.01, "weekly trust gain toward the ceiling per unit of the co-partners' observed effort"
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
    coordination_trust: Unit = _f(0.45, "coordination quality added by full trust")
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
    expectation_coordination: Unit = _f(0.67, "coordination partners assume when they set expected value")
    restructure_value_factor: Unit = _f(0.5, "value created during restructuring, relative")


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
        0.07, "capability an alliance function brings from day one (calibrated, docs/VALIDATION.md)"
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
    trust_weight: Weight = _f(0.5, "weight of organisational trust in satisfaction")
    satisfaction_threshold: Weight = _f(0.95, "satisfaction below which a partner is unhappy")
    exit_temperature: Annotated[float, Field(gt=0.0, le=100.0)] = _f(
        0.2, "softness of the exit decision (logistic scale)"
    )
    exit_margin: Weight = _f(
        0.15,
        "centre of the logistic curve of acting on dissatisfaction (before it is rescaled to start at 0)",
    )
    restructure_base: Unit = _f(0.15, "chance an unhappy partner restructures rather than exits")
    restructure_proactive: Unit = _f(0.5, "extra chance for a fully proactive leader")
    restructure_min_trust: Unit = _f(0.25, "no restructuring below this trust")
    max_restructures: int = _f(2, "restructurings an alliance can go through", ge=0, le=20)
    restructure_weeks: int = _f(8, "length of a restructuring", ge=1, le=520)
    restructure_cost: Amount = _f(5.0, "cost of renegotiating to each partner, value units")
    renegotiated_expectation: Unit = _f(
        0.5, "renegotiation moves expected value this share of the way to what is realised"
    )
    objective_share: Unit = _f(
        0.9,
        "share of expected value a partner must realise for its objectives to be met (calibrated, "
        "docs/VALIDATION.md)",
    )
    trust_collapse: Unit = _f(0.15, "a partner whose trust falls below this exits at once")
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


def check_safe_name(value: str) -> str:
    """`value` if it can name a folder and a file (a scenario, an experiment); ValueError otherwise."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", value):
        raise ValueError(
            "a name has 1 to 100 letters, digits, '_', '-' or '.', starting with a letter or digit"
        )
    return value


#: A name usable as a folder name: letters, digits, '_', '-', '.', at most 100.
SafeName = Annotated[str, AfterValidator(check_safe_name)]


class Scenario(Section):
    """A complete, validated scenario: what is simulated and with which coefficients."""

    name: SafeName = Field(
        "baseline",
        description="short name of the scenario (letters, digits, '_', '-', '.'); the default output folder",
    )
    description: str = _f("", "what the scenario stands for")
    simulation: Simulation = Field(default_factory=Simulation)
    formation: Formation = Field(default_factory=Formation)
    firms: Firms = Field(default_factory=Firms)
    managers: Managers = Field(default_factory=Managers)
    governance: Governance = Field(default_factory=Governance)
    environment: Environment = Field(default_factory=Environment)
    output: Output = Field(default_factory=Output)
    coefficients: Coefficients = Field(default_factory=Coefficients)

    @model_validator(mode="after")
    def _enough_firms(self):
        needed = 2 if self.formation.multi_partner_share == 0 else self.formation.max_partners
        if self.firms.count < needed:
            raise ValueError(
                f"firms.count ({self.firms.count}) is smaller than the partners one alliance needs ({needed})"
            )
        if self.formation.mode == "cohort":
            seats = self.firms.count * self.formation.max_alliances_per_firm
            # a multi-partner alliance has 3..max_partners partners, uniformly
            avg = 2 + self.formation.multi_partner_share * (self.formation.max_partners - 1) / 2
            if self.formation.n_alliances * avg > seats:
                raise ValueError(
                    f"formation.n_alliances ({self.formation.n_alliances}) needs about "
                    f"{self.formation.n_alliances * avg:.0f} partner seats but firms.count x "
                    f"formation.max_alliances_per_firm gives only {seats}"
                )
        return self
