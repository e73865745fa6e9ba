"""The scenario schema: every input and every coefficient of the model, typed, bounded and documented.

One pydantic model holds a whole scenario. Sections mirror the ODD description (docs/ODD.md):
`formation`, `firms`, `managers`, `governance`, `environment`, `output`, and `coefficients`
(one sub-section per submodel, named like the module in `sim/mechanisms/` that uses it).

Units: time is in weeks unless a name says otherwise (`*_per_year`); value is in "value units"
(`coefficients.value.value_scale` of them is one week of the joint value a perfectly run alliance
of complementarity 1 creates); trust, familiarity, skills and shares are in [0, 1].

No mechanism holds a number of its own: every coefficient is in `sim.coefficients` (re-exported here),
with its default, bounds and unit; the base section and value types are in `sim.fields`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from sim.coefficients import (  # noqa: F401 (the schema's sections, importable from here as before)
    Coefficients,
    ContributionCoefficients,
    CostCoefficients,
    FormationCoefficients,
    FrictionCoefficients,
    LearningCoefficients,
    MeetingCoefficients,
    ResolutionCoefficients,
    ReviewCoefficients,
    ShockCoefficients,
    TrustCoefficients,
    TurnoverCoefficients,
    ValueCoefficients,
)
from sim.fields import (  # noqa: F401 (the building blocks, importable from here as before)
    ALLIANCE_FUNCTIONS,
    CONFLICT_MODES,
    MEETING_MODES,
    RISK_CLINIC_MODES,
    WEEKS_MAX,
    AllianceFunctionType,
    Amount,
    NonNeg,
    Rate,
    Section,
    Unit,
    Weight,
    _f,
    plausible_range,
)

# --------------------------------------------------------------------------- inputs


class Distribution(Section):
    """A bounded trait drawn per entity: normal with this mean and sd, clipped to [0, 1]."""

    mean: Unit = _f(0.5, "mean of the trait, in [0, 1]")
    sd: Annotated[float, Field(ge=0.0, le=1.0)] = _f(0.15, "standard deviation before clipping")


class TermWeeks(Section):
    """Planned term of an alliance (weeks): lognormal around `median`, or uniform, within [min, max]."""

    distribution: Literal["lognormal", "uniform"] = _f(
        "lognormal",
        "lognormal: median x exp(sd_log x z), clipped to [min, max] (few very long, many mid-length "
        "terms, as real alliance lives); uniform: every whole week in [min, max] equally likely",
    )
    median: int = _f(416, "lognormal: median planned term, weeks (416 = eight years)", ge=4, le=5200)
    sd_log: Annotated[float, Field(ge=0.0, le=3.0)] = _f(
        1.0, "lognormal: standard deviation of the log of the term"
    )
    min: int = _f(52, "shortest planned term, weeks", ge=4, le=5200)
    max: int = _f(1040, "longest planned term, weeks", ge=4, le=5200)

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
        2.0,
        "ongoing mode: expected number of new alliances per week (Poisson)",
        plausible=(0.2, 10.0),
        le=10_000,
    )
    max_alliances_per_firm: int = _f(
        3, "a firm takes part in at most this many active alliances", plausible=(1, 5), ge=1, le=1000
    )
    horizontal_share: Unit = _f(
        0.5,
        "share of alliances that are horizontal (partners at the same level, also rivals)",
        plausible=(0.2, 0.7),
    )
    multi_partner_share: Unit = _f(
        0.0, "share of alliances with more than two partners", plausible=(0.0, 0.3)
    )
    max_partners: int = _f(3, "largest number of partners in a multi-partner alliance", ge=2, le=8)
    top_down_share: Unit = _f(
        0.3,
        "share of alliances formed top-down by executives without a strategic insight",
        plausible=(0.1, 0.5),
    )
    term_weeks: TermWeeks = Field(default_factory=TermWeeks)
    negotiate_weeks: int = _f(8, "length of the negotiate phase, weeks", plausible=(4, 26), ge=0, le=520)
    invest_weeks: int = _f(16, "length of the invest phase, weeks", plausible=(8, 52), ge=0, le=520)
    complementarity: Distribution = Field(
        default_factory=lambda: Distribution(mean=0.62, sd=0.18),
        description="strategic complementarity of a pair as its parents see it at formation "
        "(normal, clipped to [0.05, 1])",
    )


class Incentives(Section):
    """Collaboration incentives of firms, in [0, 1] (0 none, 1 strong)."""

    formal: Unit = _f(
        0.4, "formal incentives: pay, review criteria, rewards for collaboration", plausible=(0.1, 0.7)
    )
    informal: Unit = _f(0.4, "informal incentives: public recognition, success stories", plausible=(0.1, 0.7))


class Firms(Section):
    """The population of partner firms (entity: Firm)."""

    count: int = _f(300, "number of firms", ge=2, le=1_000_000)
    culture_dispersion: Unit = _f(
        0.8,
        "how far firm cultures spread around the centre on each dimension; 1 spans the whole "
        "[0, 1] range, 0 makes every firm alike",
        plausible=(0.4, 1.0),
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
        0.5, "how consistently leaders' messages and examples back collaboration", plausible=(0.2, 0.85)
    )
    training: Unit = _f(
        0.3, "investment in collaboration training of alliance managers", plausible=(0.0, 0.7)
    )
    hiring_for_collaboration: Unit = _f(
        0.3, "weight hiring puts on collaborative skills", plausible=(0.0, 0.7)
    )
    opportunism_propensity: Distribution = Field(
        default_factory=lambda: Distribution(mean=0.3, sd=0.15),
        description="each firm's inclination to exploit a partner when tempted",
    )
    opportunistic_share: Unit = _f(
        0.0, "share of firms that are opportunistic by design (propensity set to 1)", plausible=(0.0, 0.2)
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
    turnover_per_year: Unit = _f(
        0.15, "probability that a manager leaves within a year", plausible=(0.05, 0.35)
    )
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

    meeting_interval_weeks: int = _f(4, "weeks between alliance meetings", plausible=(1, 13), ge=1, le=520)
    meeting_mode: Literal["in_person", "virtual", "mixed"] = _f(
        "mixed", "in_person, virtual, or mixed (alternating by mixed_in_person_share)"
    )
    mixed_in_person_share: Unit = _f(
        0.5, "mixed mode: share of meetings held in person", plausible=(0.2, 0.8)
    )
    steering_committee: bool = _f(False, "a joint steering committee reviews open issues")
    steering_interval_weeks: int = _f(
        13, "weeks between steering committee meetings", plausible=(4, 26), ge=1, le=520
    )
    review_interval_weeks: int = _f(
        13, "weeks between performance reviews against agreed metrics", plausible=(4, 26), ge=1, le=520
    )
    risk_clinic: Literal["none", "launch", "periodic"] = _f(
        "none", "risk clinic: none, once at launch, or at launch and then periodically"
    )
    risk_clinic_interval_weeks: int = _f(
        52, "periodic risk clinics: weeks between", plausible=(26, 104), ge=1, le=520
    )
    conflict_resolution: Literal["collaborative", "escalation", "ad_hoc"] = _f(
        "ad_hoc", "how day-to-day conflicts are resolved"
    )
    role_clarity: Unit = _f(
        0.5, "how tightly roles are bounded: 0 ambiguous, 1 rigid (both ends cost)", plausible=(0.2, 0.8)
    )
    charter: bool = _f(False, "a shared charter at launch: one definition of what the alliance is")
    insight_workshop: bool = _f(False, "a strategic insight workshop at launch for alliances formed top-down")


class Environment(Section):
    """External conditions (submodel: shocks)."""

    shock_rate_per_year: NonNeg = _f(
        0.5, "expected shocks hitting one alliance per year", plausible=(0.1, 2.0), le=52
    )
    market_shock_rate_per_year: NonNeg = _f(
        0.1,
        "expected market-wide shocks per year (hit every active alliance at once)",
        plausible=(0.0, 0.5),
        le=52,
    )
    shock_severity: Unit = _f(
        0.35, "mean severity of a shock, 0 harmless to 1 devastating", plausible=(0.1, 0.6)
    )
    market_shock_severity: Unit = _f(0.15, "mean severity of a market-wide shock", plausible=(0.05, 0.4))


class Output(Section):
    """What a run records."""

    timeseries_interval_weeks: int = _f(4, "weeks between rows of the time series", ge=1, le=5200)
    events: bool = _f(True, "record the event log (meetings, issues, shocks, reviews...)")


class Simulation(Section):
    """Scheduling."""

    horizon_weeks: int = _f(624, "weeks simulated (one step is one week)", ge=1, le=10_400)


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
