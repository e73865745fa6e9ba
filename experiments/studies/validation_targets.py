"""The validation's targets: what is expected, the accepted band, its source, and how it is checked.

The arms they read (`experiments.analysis.patterns.ARMS`) are the baseline and variants of it, one
lever (or one shipped design) changed each; every arm runs the same replications on common random
numbers. A target reads the runs (one row per
run, with its success rate) and the pooled outcomes (one row per alliance) of those arms and
returns what it measured with a 95% interval and whether that lies in the accepted band. There
are four kinds:

* levels: the baseline's success rate and that with a dedicated alliance function;
* a shape: the hazard of every termination over an alliance's life is an inverted U;
* directions claimed by the seed articles, each a paired difference on the claimed side of zero;
* magnitudes: paired differences within published or plausibility bands, and cohort patterns
  (lifetimes, first-year terminations, restructuring, the reasons for failure, the correlation of
  trust and of cultural distance with success, subgroups, the share of variance due to the
  design).

Sources and how sure we are of each number: docs/VALIDATION.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from experiments.analysis import magnitudes as mag
from experiments.analysis.patterns import (
    DESIGN_ARMS,
    FORMATION_TRAITS,
    HAZARD_PEAK_RATIO,
    inverted_u,
    paired,
    per_replication,
    pooled_rate,
    termination_hazard,
)

# --------------------------------------------------------------------------- measurements


@dataclass(frozen=True)
class Measured:
    """What a target measured: an estimate with its interval, whether it passed, and a note."""

    value: float
    ci_low: float
    ci_high: float
    passed: bool
    note: str = ""


@dataclass(frozen=True)
class Target:
    """One validation target: what is expected, the accepted band, its source, and its check."""

    name: str
    expected: str
    band: str
    source: str
    check: Callable[[pd.DataFrame, pd.DataFrame, Mapping[str, int]], Measured]
    unit: str = "difference"  # how the measured value reads: "rate", "difference" or "hazard"
    centred: bool = False  # a published level: the objective pulls it to the middle of its band

    @property
    def limits(self) -> tuple[float, float] | None:
        """The accepted band of the measured value as numbers, when it has one."""
        return getattr(self.check, "band", None)

    def distance(self, measured: Measured) -> float:
        """How far a measurement is from this target, for calibration: for a published level the
        squared distance to the middle of its band in half-bands (1 at an edge); for another band
        the squared excess outside it in half-bands (0 inside); for a direction or a shape, 0 if
        it passed and 1 if not."""
        limits = self.limits
        value = measured.value
        if limits is None or not np.isfinite(value):
            return 0.0 if measured.passed else 1.0
        low, high = limits
        half = (high - low) / 2 if high > low else 1.0
        if self.centred:
            return float(((value - (low + high) / 2) / half) ** 2) + (0.0 if measured.passed else 1.0)
        excess = max(low - value, 0.0, value - high)
        return float((excess / half) ** 2) + (0.0 if measured.passed else 0.25)


def rate_in_band(arm: str, low: float, high: float) -> Callable:
    def check(runs, outcomes, arms) -> Measured:
        rate, ci_low, ci_high = pooled_rate(runs, arms[arm])
        return Measured(rate, ci_low, ci_high, bool(low <= rate <= high))

    check.band = (low, high)
    return check


def rate_in_band_and_above(arm: str, reference: str, low: float, high: float) -> Callable:
    def check(runs, outcomes, arms) -> Measured:
        rate, ci_low, ci_high = pooled_rate(runs, arms[arm])
        diff = paired(runs, arms, [arm], [reference])
        note = f"paired difference {diff['mean']:+.1%} ({diff['ci_low']:+.1%} to {diff['ci_high']:+.1%})"
        return Measured(rate, ci_low, ci_high, bool(low <= rate <= high and diff["ci_low"] > 0), note)

    check.band = (low, high)
    return check


def direction(plus: Sequence[str], minus: Sequence[str], sign: int) -> Callable:
    """Pass when the paired difference's interval lies entirely on the side of zero of `sign`."""

    def check(runs, outcomes, arms) -> Measured:
        diff = paired(runs, arms, plus, minus)
        side = diff["ci_low"] > 0 if sign > 0 else diff["ci_high"] < 0
        return Measured(diff["mean"], diff["ci_low"], diff["ci_high"], bool(side))

    return check


def hazard_shape(arm: str) -> Callable:
    def check(runs, outcomes, arms) -> Measured:
        table = termination_hazard(outcomes[outcomes["point_id"] == arms[arm]])
        ok, peak = inverted_u(table["hazard"].to_numpy())
        h = table["hazard"].to_numpy()
        shown = " ".join(f"{x:.3f}" for x in h)
        start, end = table["start"].iloc[peak] / 52, table["end"].iloc[peak] / 52
        note = f"per half year: {shown}; peak in years {start:.1f}-{end:.1f}"
        return Measured(float(h[peak]), float(h[0]), float(h[-1]), ok, note)

    return check


POINTS = 0.01  # a success-rate point, as a fraction


def difference_in_band(plus: Sequence[str], minus: Sequence[str], low: float, high: float) -> Callable:
    """Pass when the paired difference (plus arms - minus arms) lies in [low, high] (fractions)."""

    def check(runs, outcomes, arms) -> Measured:
        diff = paired(runs, arms, plus, minus)
        return Measured(diff["mean"], diff["ci_low"], diff["ci_high"], bool(low <= diff["mean"] <= high))

    check.band = (low, high)
    return check


def pattern_in_band(
    arm: str, statistic: Callable[[pd.DataFrame], float], low: float, high: float
) -> Callable:
    """Pass when a cohort statistic of `arm` (mean over replications) lies in [low, high]."""

    def check(runs, outcomes, arms) -> Measured:
        value, ci_low, ci_high = per_replication(outcomes, arms[arm], statistic)
        return Measured(value, ci_low, ci_high, bool(low <= value <= high))

    check.band = (low, high)
    return check


def subgroups_in_band(arm: str, low: float, high: float) -> Callable:
    """Pass when every identifiable subgroup of `arm`'s pooled cohort succeeds within [low, high]."""

    def check(runs, outcomes, arms) -> Measured:
        table = mag.subgroup_rates(outcomes[outcomes["point_id"] == arms[arm]])
        if table.empty:
            nan = float("nan")
            return Measured(nan, nan, nan, False, "no subgroup has enough decided alliances to judge")
        worst, best = table.loc[table["success_rate"].idxmin()], table.loc[table["success_rate"].idxmax()]
        ok = bool(((table["success_rate"] >= low) & (table["success_rate"] <= high)).all())
        note = "; ".join(f"{g} {r:.0%}" for g, r in zip(table["group"], table["success_rate"], strict=True))
        low_rate, high_rate = float(worst["success_rate"]), float(best["success_rate"])
        return Measured(low_rate, low_rate, high_rate, ok, note)

    check.band = (low, high)
    return check


def design_share_in_band(low: float, high: float) -> Callable:
    """Pass when the share of alliance-level success variance between the shipped designs lies in
    [low, high] (per replication, then averaged with a t interval)."""

    def check(runs, outcomes, arms) -> Measured:
        value, ci_low, ci_high = per_replication(
            outcomes,
            [arms[a] for a in DESIGN_ARMS],
            lambda rep: mag.between_share(dict(tuple(rep.groupby("point_id")))),
        )
        return Measured(value, ci_low, ci_high, bool(low <= value <= high))

    check.band = (low, high)
    return check


def relational(frame: pd.DataFrame) -> float:
    return mag.reason_shares(frame).get("relational", float("nan"))


def value_shortfall(frame: pd.DataFrame) -> float:
    return mag.reason_shares(frame).get("value_shortfall", 0.0)


TARGETS: tuple[Target, ...] = (
    Target(
        "baseline success rate",
        "about 50%",
        "45% to 55%",
        "Bleeke & Ernst 1991; Bamford, Ernst & Fubini 2004; Kale, Dyer & Singh 2002",
        rate_in_band("baseline", 0.45, 0.55),
        "rate",
        centred=True,
    ),
    Target(
        "success with a dedicated alliance function",
        "about 63%, above the baseline",
        "58% to 68%, paired difference > 0",
        "Kale, Dyer & Singh 2002",
        rate_in_band_and_above("central_function", "baseline", 0.58, 0.68),
        "rate",
        centred=True,
    ),
    Target(
        "termination hazard over alliance age (every ending, first ten years)",
        "inverted U",
        f"interior peak >= {HAZARD_PEAK_RATIO}x first and last half-year",
        "Park & Russo 1996",
        hazard_shape("baseline"),
        "hazard",
    ),
    Target(
        "meeting in person every 2 weeks rather than every 8",
        "helps",
        "paired difference > 0",
        "seed articles (meetings build trust, surface issues)",
        direction(["in_person_fortnightly"], ["in_person_bimonthly"], +1),
    ),
    Target(
        "meeting in person every week rather than every 2",
        "hurts (the cost outweighs)",
        "paired difference < 0",
        "seed articles (meetings are not free)",
        direction(["in_person_weekly"], ["in_person_fortnightly"], -1),
    ),
    Target(
        "incentives need consistent leadership",
        "incentives help more with consistent messages",
        "difference in differences > 0",
        "seed articles (incentives without consistent messages ring hollow)",
        direction(
            ["incentives_high_consistent", "incentives_low_inconsistent"],
            ["incentives_low_consistent", "incentives_high_inconsistent"],
            +1,
        ),
    ),
    Target(
        "a periodic risk clinic",
        "helps",
        "paired difference > 0",
        "seed articles (risk clinic)",
        direction(["risk_clinic"], ["baseline"], +1),
    ),
    Target(
        "manager turnover 35% rather than 5% a year",
        "hurts",
        "paired difference < 0",
        "seed articles (relationships walk out of the door)",
        direction(["turnover_high"], ["turnover_low"], -1),
    ),
    Target(
        "cultural distance (culture dispersion 1.0 rather than 0.4)",
        "hurts",
        "paired difference < 0",
        "seed articles; Kogut & Singh 1988",
        direction(["culture_distant"], ["culture_close"], -1),
    ),
    Target(
        "proactive leaders rather than reactive managers",
        "help",
        "paired difference > 0",
        "seed articles (from reactive manager to proactive leader)",
        direction(["proactive_leaders"], ["reactive_managers"], +1),
    ),
    # ---- magnitudes: paired differences within published or plausibility bands
    Target(
        "magnitude: a dedicated alliance function",
        "+13 pts (63% against 50%)",
        "+10 to +16 pts",
        "Kale, Dyer & Singh 2002 (high confidence)",
        difference_in_band(["central_function"], ["baseline"], 10 * POINTS, 16 * POINTS),
    ),
    Target(
        "magnitude: meeting in person every 2 weeks rather than every 8",
        "small: frequency is the weakest correlate of team performance",
        "0 to +10 pts",
        "Marlow, Lacerenza, Paoletti, Burke & Salas 2018 (high for direction, band ours)",
        difference_in_band(["in_person_fortnightly"], ["in_person_bimonthly"], 0.0, 10 * POINTS),
    ),
    Target(
        "magnitude: meeting in person rather than virtually, monthly",
        "no direct effect of virtuality",
        "-5 to +5 pts",
        "Purvanova & Kenda 2022; Ortiz de Guinea et al. 2012 (high)",
        difference_in_band(["in_person_monthly"], ["virtual_monthly"], -5 * POINTS, 5 * POINTS),
    ),
    Target(
        "magnitude: cultural distance (dispersion 0.4 rather than 1.0)",
        "small: no significant relation in a 66-sample meta-analysis",
        "+1 to +5 pts",
        "Tihanyi, Griffith & Russell 2005 (high)",
        difference_in_band(["culture_close"], ["culture_distant"], 1 * POINTS, 5 * POINTS),
    ),
    Target(
        "magnitude: correlation of cultural distance with success",
        "near zero",
        "-0.10 to +0.10",
        "Tihanyi, Griffith & Russell 2005 (high)",
        pattern_in_band(
            "baseline", lambda f: mag.correlation_with_success(f, "cultural_distance"), -0.10, 0.10
        ),
        "number",
    ),
    Target(
        "magnitude: incentives 0.1 -> 0.7 (with consistent leadership)",
        "plausible, no published size",
        "0 to +15 pts",
        "plausibility band (no study supports more)",
        difference_in_band(["incentives_high_consistent"], ["incentives_low_consistent"], 0.0, 15 * POINTS),
    ),
    Target(
        "magnitude: leadership consistency 0.2 -> 0.85 (with strong incentives)",
        "plausible, no published size",
        "0 to +15 pts",
        "plausibility band (no study supports more)",
        difference_in_band(
            ["incentives_high_consistent"], ["incentives_high_inconsistent"], 0.0, 15 * POINTS
        ),
    ),
    Target(
        "magnitude: an insight workshop for top-down alliances",
        "plausible, no published size",
        "0 to +15 pts",
        "plausibility band",
        difference_in_band(["insight_workshop"], ["baseline"], 0.0, 15 * POINTS),
    ),
    Target(
        "magnitude: a periodic risk clinic",
        "plausible, no published size",
        "0 to +15 pts",
        "plausibility band",
        difference_in_band(["risk_clinic"], ["baseline"], 0.0, 15 * POINTS),
    ),
    Target(
        "magnitude: manager turnover 35% rather than 5% a year",
        "plausible, no published size",
        "-15 to 0 pts",
        "plausibility band",
        difference_in_band(["turnover_high"], ["turnover_low"], -15 * POINTS, 0.0),
    ),
    Target(
        "magnitude: proactive leaders rather than reactive managers",
        "plausible, no published size",
        "0 to +15 pts",
        "plausibility band",
        difference_in_band(["proactive_leaders"], ["reactive_managers"], 0.0, 15 * POINTS),
    ),
    Target(
        "the best shipped design (best_practice)",
        "structured practice: about 80%; adapting alliances 79%",
        "65% to 80%",
        "Ernst & Bamford 2005; practitioner surveys (low to medium)",
        rate_in_band("best_practice", 0.65, 0.80),
        "rate",
    ),
    Target(
        "the worst shipped design (light_touch)",
        "ad hoc practice: about 20%",
        "20% to 35%",
        "practitioner surveys (low to medium)",
        rate_in_band("light_touch", 0.20, 0.35),
        "rate",
    ),
    Target(
        "share of alliance-level success variance due to the design",
        "small: the function explains about 2% of alliance-level variance",
        "5% to 15%",
        "derived from Kale, Dyer & Singh 2002 (medium to low)",
        design_share_in_band(0.05, 0.15),
        "share",
    ),
    # ---- magnitudes: the cohort's patterns
    Target(
        "correlation of final trust with success",
        "about 0.3",
        "0.20 to 0.45",
        "De Jong, Dirks & Gillespie 2016 (high)",
        pattern_in_band("baseline", lambda f: mag.correlation_with_success(f, "final_trust"), 0.20, 0.45),
        "number",
    ),
    Target(
        "relational failures (trust collapse and detected opportunism)",
        "the most cited cause",
        "25% to 50% of failures",
        "Hughes & Weiss 2007 (qualitative)",
        pattern_in_band("baseline", relational, 0.25, 0.50),
        "share",
    ),
    Target(
        "failures by value shortfall",
        "not the only cause",
        "at most 50% of failures",
        "Hughes & Weiss 2007 (qualitative)",
        pattern_in_band("baseline", value_shortfall, 0.0, 0.50),
        "share",
    ),
    Target(
        "median alliance life (Kaplan-Meier)",
        "5 to 7 years typical",
        "4 to 7 years",
        "Ernst & Bamford 2005; Bleeke & Ernst (medium)",
        pattern_in_band("baseline", mag.median_life_years, 4.0, 7.0),
        "years",
    ),
    Target(
        "alliances still running after six years (Kaplan-Meier)",
        "a long tail of lives",
        "at least 20%",
        "Ernst & Bamford 2005 (medium)",
        pattern_in_band("baseline", lambda f: mag.survival_at(f, 6 * 52), 0.20, 1.0),
        "share",
    ),
    Target(
        "terminations in the first year",
        "new alliances terminate more often than none",
        "2% to 6% of alliances",
        "Lunnan & Haugland 2002 (low to medium)",
        pattern_in_band("baseline", mag.first_year_terminations, 0.02, 0.06),
        "share",
    ),
    Target(
        "alliances restructured at least once",
        "over 70% of firms have alliances that need restructuring",
        "15% to 35% of alliances",
        "Ernst & Bamford 2005 (medium)",
        pattern_in_band("baseline", mag.restructured_share, 0.15, 0.35),
        "share",
    ),
    Target(
        "no identifiable subgroup doomed or assured",
        "top-down, horizontal, vertical, culture terciles all uncertain",
        "every subgroup 5% to 95%",
        "plausibility band",
        subgroups_in_band("baseline", 0.05, 0.95),
        "rate",
    ),
    Target(
        "variance in success explained by formation traits",
        "luck and how the alliance is run matter more",
        "at most 25%",
        "plausibility band",
        pattern_in_band("baseline", lambda f: mag.explained_share(f, FORMATION_TRAITS), 0.0, 0.25),
        "share",
    ),
)


def measure_targets(
    runs: pd.DataFrame, outcomes: pd.DataFrame, arms: Mapping[str, int]
) -> list[tuple[Target, Measured]]:
    """Every target checked on the runs and outcomes of an arms experiment."""
    return [(target, target.check(runs, outcomes, arms)) for target in TARGETS]


def total_distance(measured: Sequence[tuple[Target, Measured]]) -> float:
    """Sum of every target's distance (see `Target.distance`): calibration's objective."""
    return float(sum(target.distance(m) for target, m in measured))
