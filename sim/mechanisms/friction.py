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

from sim.compiled import formula, kernel, kernel_helper
from sim.events import EVENT_CODE, record
from sim.mechanisms import trust as trust_mech
from sim.randomness import binomial_at, poisson_at, uniform_at

ERUPTED = EVENT_CODE["issue_erupted"]


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


@formula
def effective_distance(distance: np.ndarray, familiarity: np.ndarray, discount: float) -> np.ndarray:
    """Cultural distance as felt: reduced by familiarity."""
    return distance * (1.0 - discount * familiarity)


@formula
def role_ambiguity(role_clarity: float, charter: bool, charter_cut: float) -> float:
    """Ambiguity of roles in [0, 1]: 1 - clarity, reduced by a shared charter."""
    return (1.0 - role_clarity) * (1.0 - (charter_cut if charter else 0.0))


@formula
def rigidity_penalty(role_clarity: float, cost: float) -> float:
    """Share of coordination kept given role rigidity: 1 - cost * clarity^2."""
    return 1.0 - cost * role_clarity**2


@formula
def issue_rate(distance_eff: np.ndarray, ambiguity: float, coef) -> np.ndarray:
    """Expected new hidden issues per week."""
    return (
        coef.base_issues_per_week
        + coef.per_cultural_distance * distance_eff
        + coef.per_role_ambiguity * ambiguity
    )


def apply(world) -> None:
    """New hidden issues arrive; some hidden issues erupt into open conflict."""
    al, n, gov = world.alliances, world.n, world.scenario.governance
    if n == 0:
        return
    c = world.const.friction
    ambiguity = role_ambiguity(gov.role_clarity, gov.charter, world.coef.friction.charter_ambiguity_cut)
    events = world.events
    at = _weekly(
        n=n, week=world.week, key=world.streams.key("friction"), alliance_id=al.alliance_id,
        cultural_distance=al.cultural_distance, familiarity=al.familiarity, hidden_issues=al.hidden_issues,
        open_issues=al.open_issues, open_age=al.open_age, issues_raised=al.issues_raised, member=al.member,
        trust_org=al.trust_org, trust_ip=al.trust_ip, trust_ceiling=al.trust_ceiling, ambiguity=ambiguity,
        c=c, tc=world.const.trust, events=events.buffers(n), at=events.count,
    )  # fmt: skip
    events.commit(at)


@kernel
def _weekly(
    n, week, key, alliance_id, cultural_distance, familiarity, hidden_issues, open_issues, open_age,
    issues_raised, member, trust_org, trust_ip, trust_ceiling, ambiguity, c, tc, events, at,
):  # fmt: skip
    c, tc = c[0], tc[0]
    for r in range(n):
        felt = effective_distance(cultural_distance[r], familiarity[r], c.familiarity_discount)
        rate = issue_rate(felt, ambiguity, c)
        now_hidden = hidden_issues[r] + poisson_at(uniform_at(key, alliance_id[r], week, 0), rate)
        erupted = binomial_at(uniform_at(key, alliance_id[r], week, 1), now_hidden, c.erupt_per_week)
        hidden_issues[r] = now_hidden - erupted
        if erupted > 0:
            open_row(open_issues, open_age, issues_raised, r, erupted)
            push = tc.eruption_loss * erupted
            trust_mech.erode_row(trust_org, trust_ceiling, member, r, push, tc.erosion_to_growth)
            trust_mech.erode_row(trust_ip, trust_ceiling, member, r, push, tc.erosion_to_growth)
            at = record(events, at, week, alliance_id[r], ERUPTED, -1, erupted)
    return at


@formula
def merged_age(age, before, added):
    """Mean age of open issues after `added` new ones (age 0) join `before` of mean age `age`."""
    return age * before / np.maximum(before + added, 1)


def add_open(al, rows, n) -> None:
    """Bring `n` new issues into the open (age 0), keeping the mean age of open issues right."""
    before = al.open_issues[rows]
    al.open_age[rows] = merged_age(al.open_age[rows], before, n)
    al.open_issues[rows] = before + n
    al.issues_raised[rows] += n


@kernel_helper
def open_row(open_issues, open_age, issues_raised, row, added):
    """`add_open` for one running row, in kernels."""
    open_age[row] = merged_age(open_age[row], open_issues[row], added)
    open_issues[row] += added
    issues_raised[row] += added
