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


def apply(world, ids: np.ndarray) -> None:
    """New hidden issues arrive; some hidden issues erupt into open conflict."""
    if ids.size == 0:
        return
    al, c, gov, week = world.alliances, world.coef.friction, world.scenario.governance, world.week
    dist = effective_distance(al.cultural_distance[ids], al.familiarity[ids], c.familiarity_discount)
    ambiguity = role_ambiguity(gov.role_clarity, gov.charter, c.charter_ambiguity_cut)
    new = world.streams.poisson("friction", ids, week, issue_rate(dist, ambiguity, c), draw=0)
    al.hidden_issues[ids] += new

    erupted = world.streams.binomial("friction", ids, week, al.hidden_issues[ids], c.erupt_per_week, draw=1)
    hit = erupted > 0
    if hit.any():
        h = ids[hit]
        n = erupted[hit]
        al.hidden_issues[h] -= n
        add_open(al, h, n)
        tc = world.coef.trust
        push = (tc.eruption_loss * n)[:, None]
        ceiling = al.trust_ceiling[h]
        al.trust_org[h] = np.where(
            al.member[h],
            trust_mech.erode(al.trust_org[h], push, tc.erosion_to_growth, ceiling),
            0.0,
        )
        al.trust_ip[h] = np.where(
            al.member[h], trust_mech.erode(al.trust_ip[h], push, tc.erosion_to_growth, ceiling), 0.0
        )
        world.events.log(week, h, "issue_erupted", value=n)


def add_open(al, ids: np.ndarray, n: np.ndarray) -> None:
    """Bring `n` new issues into the open (age 0), keeping the mean age of open issues right."""
    n = np.asarray(n)
    total = al.open_issues[ids] + n
    al.open_age[ids] = np.where(total > 0, al.open_age[ids] * al.open_issues[ids] / np.maximum(total, 1), 0.0)
    al.open_issues[ids] = total
    al.issues_raised[ids] += n
