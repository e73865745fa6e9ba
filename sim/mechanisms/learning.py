"""Submodel learning: firms and managers get better at alliances with experience.

* General experience: each week a firm banks `spread / 52` alliance-years per active alliance,
  where `spread` is the share of lessons the firm keeps and spreads across its portfolio: low
  without an alliance function (lessons stay with the people who learned them), high with one.
* Capability follows experience with diminishing returns:
      capability = base + (cap_max - base) * (1 - exp(-experience_years / experience_scale_years))
  with base = `function_base_capability` for firms with a function (0 without) and cap_max
  `capability_max_function` or `capability_max_none`.
* Partner-specific experience (joint alliance-years of a pair, and the trust they parted with) is
  kept separately in `FirmTable.partner_history` when an alliance ends and used by formation:
  repeat partners start more familiar and more trusting.
* Managers grow into the job: skill closes `manager_skill_per_year` of its gap to 1 each year.
"""

from __future__ import annotations

import numpy as np

from sim.compiled import formula, kernel
from sim.state import by_function_type


@formula
def spread_share(function_type, coef):
    """Share of lessons a firm keeps and spreads, by its alliance function type."""
    return by_function_type(
        function_type,
        coef.spread_none,
        coef.spread_central_function,
        coef.spread_center_of_excellence,
        coef.spread_community_of_practice,
    )


@formula
def capability_range(function_type, coef):
    """Capability without experience (`base`) and the most experience can bring (`cap_max`)."""
    has = function_type > 0
    base = coef.function_base_capability * has
    cap_max = coef.capability_max_function * has + coef.capability_max_none * (1 - has)
    return base, np.maximum(cap_max, base)


@formula
def grown_capability(experience_years, base, cap_max, scale_years):
    """Capability from experience: from `base` toward `cap_max`, 63% of the way after `scale_years`."""
    return base + (cap_max - base) * (1.0 - np.exp(-experience_years / scale_years))


def capability(experience_years: np.ndarray, function_type: np.ndarray, coef) -> np.ndarray:
    base, cap_max = capability_range(np.asarray(function_type), coef)
    return grown_capability(np.asarray(experience_years), base, cap_max, coef.experience_scale_years)


def apply(world) -> None:
    """A week of experience for every firm (and its capability); managers grow into the job."""
    f, mgr = world.firms, world.managers
    _weekly(
        experience_years=f.experience_years, capability_col=f.capability, active_alliances=f.active_alliances,
        function_type=f.function_type, skill=mgr.skill, c=world.const.learning,
    )


@kernel
def _weekly(experience_years, capability_col, active_alliances, function_type, skill, c):
    c = c[0]
    for i in range(experience_years.shape[0]):
        t = function_type[i]
        experience_years[i] += active_alliances[i] * spread_share(t, c) / 52.0
        base, cap_max = capability_range(t, c)
        capability_col[i] = grown_capability(experience_years[i], base, cap_max, c.experience_scale_years)
    for j in range(skill.shape[0]):
        skill[j] += (1.0 - skill[j]) * c.manager_skill_per_year / 52.0


def record_partnership(world, rows: np.ndarray) -> None:
    """Bank partner-specific experience and parting trust for the pairs of alliances that ended.

    For each pair of partners: joint alliance-years add up; the trust they part with (the mean of
    the two partners' organisational trust) replaces any earlier one.
    """
    al, hist = world.alliances, world.firms.partner_history
    years = ((world.week - al.start_week[rows]) / 52.0).tolist()
    firms = al.firm[rows].tolist()
    trust = al.trust_org[rows].tolist()
    member = al.member[rows].tolist()
    for y, fs, ts, ms in zip(years, firms, trust, member):
        slots = [k for k, used in enumerate(ms) if used]
        for i in slots:
            row = hist.setdefault(fs[i], {})
            for j in slots:
                if i != j:
                    prev = row.get(fs[j])
                    row[fs[j]] = ((prev[0] if prev else 0.0) + y, 0.5 * (ts[i] + ts[j]))
