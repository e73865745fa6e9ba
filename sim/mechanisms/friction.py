"""Submodel friction: where issues come from.

New issues start hidden (a grievance nobody has raised yet). Each week an alliance gets a Poisson
number of them with rate

    base + per_cultural_distance * effective_distance + per_role_ambiguity * ambiguity

* `effective_distance` is the Kogut-Singh cultural distance of the partners reduced by
  familiarity: distance * (1 - familiarity_discount * familiarity). Partners who know each other
  well trip over their differences less (the seeds' "personal relationships mitigate friction").
* `ambiguity` is 1 - role_clarity, cut further by a shared charter. Role clarity cuts both ways:
  the rigidity it brings costs coordination (see `rigidity_penalty`, used by the value submodel),
  so the best clarity lies inside the range, not at 1.

Hidden issues that nobody surfaces erupt into the open by chance each week, and an eruption costs
trust (handled here). Shocks add open conflict through risk-tolerance mismatch (submodel shocks).
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms import trust as trust_mech
from sim.randomness import binomial_from_uniform, poisson_from_uniform


def kogut_singh(cultures: np.ndarray, member: np.ndarray, reference_variance: float) -> np.ndarray:
    """Kogut-Singh distance of each alliance's partners, averaged over partner pairs.

    cultures: (alliances, slots, dims); member: (alliances, slots). For one pair the index is the
    mean over dimensions of the squared difference divided by the dimension's reference variance.
    """
    n_slots = cultures.shape[1]
    total = np.zeros(cultures.shape[0])
    pairs = np.zeros(cultures.shape[0])
    for i in range(n_slots):
        for j in range(i + 1, n_slots):
            both = member[:, i] & member[:, j]
            d = ((cultures[:, i, :] - cultures[:, j, :]) ** 2 / reference_variance).mean(axis=1)
            total += np.where(both, d, 0.0)
            pairs += both
    return total / np.maximum(pairs, 1)


def effective_distance(distance: np.ndarray, familiarity: np.ndarray, discount: float) -> np.ndarray:
    """Cultural distance as felt: reduced by familiarity."""
    return distance * (1.0 - discount * familiarity)


def role_ambiguity(role_clarity: float, charter: bool, charter_cut: float) -> float:
    """Ambiguity of roles in [0, 1]: 1 - clarity, reduced by a shared charter."""
    return (1.0 - role_clarity) * (1.0 - (charter_cut if charter else 0.0))


def rigidity_penalty(role_clarity: float, cost: float) -> float:
    """Share of coordination kept given role rigidity: 1 - cost * clarity^2."""
    return 1.0 - cost * role_clarity**2


def issue_rate(distance_eff: np.ndarray, ambiguity: float, coef) -> np.ndarray:
    """Expected new hidden issues per week."""
    return (
        coef.base_issues_per_week
        + coef.per_cultural_distance * distance_eff
        + coef.per_role_ambiguity * ambiguity
    )


def apply(world) -> None:
    """New hidden issues arrive; some hidden issues erupt into open conflict."""
    al, c, gov, week, n = world.alliances, world.coef.friction, world.scenario.governance, world.week, world.n
    if n == 0:
        return
    u = world.streams.uniform_block("friction", world.ids(), week, (0, 1))
    dist = effective_distance(al.cultural_distance[:n], al.familiarity[:n], c.familiarity_discount)
    ambiguity = role_ambiguity(gov.role_clarity, gov.charter, c.charter_ambiguity_cut)
    hidden = al.hidden_issues[:n] + poisson_from_uniform(u[0], issue_rate(dist, ambiguity, c))
    erupted = binomial_from_uniform(u[1], hidden, c.erupt_per_week)
    al.hidden_issues[:n] = hidden - erupted
    hit = np.flatnonzero(erupted > 0)
    if hit.size:
        n_hit = erupted[hit]
        add_open(al, hit, n_hit)
        tc = world.coef.trust
        push = (tc.eruption_loss * n_hit)[:, None]
        trust_mech.apply_to(al, hit, al.member[hit], push, push, erode_ratio=tc.erosion_to_growth)
        world.events.log(week, world.ids(hit), "issue_erupted", value=n_hit)


def add_open(al, rows, n) -> None:
    """Bring `n` new issues into the open (age 0), keeping the mean age of open issues right."""
    before = al.open_issues[rows]
    total = before + n
    al.open_age[rows] = np.where(total > 0, al.open_age[rows] * before / np.maximum(total, 1), 0.0)
    al.open_issues[rows] = total
    al.issues_raised[rows] += n
