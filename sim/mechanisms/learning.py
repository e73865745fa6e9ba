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

from sim.state import FUNCTION_TYPES


def spread_share(function_type: np.ndarray, coef) -> np.ndarray:
    table = np.array([getattr(coef, f"spread_{name}") for name in FUNCTION_TYPES])
    return table[function_type]


def capability(experience_years: np.ndarray, function_type: np.ndarray, coef) -> np.ndarray:
    has = np.asarray(function_type) > 0
    base = np.where(has, coef.function_base_capability, 0.0)
    cap_max = np.where(has, coef.capability_max_function, coef.capability_max_none)
    cap_max = np.maximum(cap_max, base)
    return base + (cap_max - base) * (
        1.0 - np.exp(-np.asarray(experience_years) / coef.experience_scale_years)
    )


def apply(world) -> None:
    f, c, mgr = world.firms, world.coef.learning, world.managers
    f.experience_years += f.active_alliances * spread_share(f.function_type, c) / 52.0
    f.capability[:] = capability(f.experience_years, f.function_type, c)
    mgr.skill += (1.0 - mgr.skill) * c.manager_skill_per_year / 52.0


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
