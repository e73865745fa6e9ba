"""Submodel trust: builds slowly, falls fast, and keeps a lasting ceiling after a betrayal.

Every change to trust anywhere in the model goes through these functions, so the asymmetry
(`erosion_to_growth`), the ceiling and the [0, 1] bounds hold everywhere by construction.

* `build(t, push, ceiling)`: t moves the share `push` of the way to its ceiling (growth is
  proportional to the room left).
* `erode(t, push, ratio)`: t loses the share `ratio * push` of itself (loss is proportional to the
  trust there is to lose). At mid-range trust (t = ceiling / 2) the same push takes away exactly
  `ratio` times what it would add (Slovic's asymmetry; ratio 3 by default); high trust has more
  to lose and less room to grow, so there the asymmetry is stronger.
* `betray(t, ceiling, drop, scar)`: a detected betrayal cuts trust by `drop` and lowers the
  ceiling for good to `scar`.
* `pull(t, target, rate)`: t moves the share `rate` of the way toward `target`.
* `weekly_update(world)`: open issues erode trust, faster the older they are; partners
  come to trust co-partners they see putting in effort (`observed_effort_gain` x the co-partners'
  effort last week, Klos & Nooteboom's trust that adapts to observed loyalty); and organisational
  trust drifts toward the managers' interpersonal trust.
"""

from __future__ import annotations

import numpy as np

from sim.compiled import formula, kernel, kernel_helper
from sim.state import slot_sum


@formula
def within(trust, ceiling):
    """Trust clipped to [0, ceiling]."""
    return np.minimum(np.maximum(trust, 0.0), ceiling)


@formula
def build(trust, push, ceiling):
    """Move trust the share `push` (clipped to [0, 1]) of the way toward `ceiling`."""
    push = np.minimum(np.maximum(push, 0.0), 1.0)
    return within(trust + push * (ceiling - trust), ceiling)


@formula
def erode(trust, push, ratio, ceiling=1.0):
    """Take away the share `ratio * push` (at most all) of trust."""
    loss = np.minimum(np.maximum(ratio * push, 0.0), 1.0)
    return within(trust * (1.0 - loss), ceiling)


@formula
def betray(trust, ceiling, drop, scar):
    """Trust and ceiling after a detected betrayal: cut by `drop`, ceiling lowered to `scar`."""
    new_ceiling = np.minimum(ceiling, scar)
    return within(trust * (1.0 - drop), new_ceiling), new_ceiling


@formula
def pull(trust, target, rate, ceiling):
    """Move trust the share `rate` of the way toward `target` (either direction), within bounds."""
    return within(trust + rate * (target - trust), ceiling)


# In kernels: the same rules applied to one running row (every used partner slot; unused slots
# hold 0), in place.


@kernel_helper
def build_row(trust, ceiling, member, row, push):
    for k in range(trust.shape[1]):
        trust[row, k] = build(trust[row, k], push, ceiling[row, k]) if member[row, k] else 0.0


@kernel_helper
def erode_row(trust, ceiling, member, row, push, ratio):
    for k in range(trust.shape[1]):
        trust[row, k] = erode(trust[row, k], push, ratio, ceiling[row, k]) if member[row, k] else 0.0


@kernel_helper
def row_mean(values, member, row):
    """Mean of `values[row]` over the used partner slots (0 slots: 0)."""
    total = 0.0
    used = 0
    for k in range(values.shape[1]):
        if member[row, k]:
            total += values[row, k]
            used += 1
    return total / max(used, 1)


def co_partner_effort(effort: np.ndarray, member: np.ndarray) -> np.ndarray:
    """For each partner slot, the mean effort of its co-partners (0 where there are none)."""
    if member.shape[1] == 2:  # two slots: each partner's co-partner is the other slot
        return effort[:, ::-1].copy()
    used = effort * member
    n = slot_sum(member)[:, None]
    others = (slot_sum(used)[:, None] - used) / np.maximum(n - 1, 1)
    return np.where(member, others, 0.0)


@formula
def backlog_push(open_issues, open_age, per_issue, age_scale):
    """Weekly erosion push from open issues: per issue, growing linearly with mean age.

    An issue `age_scale` weeks old pushes twice as hard as a new one, 2 * age_scale weeks old
    three times as hard.
    """
    return per_issue * open_issues * (1.0 + open_age / age_scale)


def weekly_update(world) -> None:
    """Open issues erode trust, observed effort builds it, organisational follows interpersonal."""
    al, c, n = world.alliances, world.coef.trust, world.n
    if n == 0:
        return
    _weekly(
        n=n, open_issues=al.open_issues, open_age=al.open_age, member=al.member, effort=al.effort,
        trust_org=al.trust_org, trust_ip=al.trust_ip, trust_ceiling=al.trust_ceiling,
        backlog_erosion=float(c.backlog_erosion), age_scale_weeks=float(c.age_scale_weeks),
        erosion_to_growth=float(c.erosion_to_growth), observed_effort_gain=float(c.observed_effort_gain),
        interpersonal_spillover=float(c.interpersonal_spillover),
    )  # fmt: skip


@kernel
def _weekly(
    n, open_issues, open_age, member, effort, trust_org, trust_ip, trust_ceiling,
    backlog_erosion, age_scale_weeks, erosion_to_growth, observed_effort_gain, interpersonal_spillover,
):  # fmt: skip
    slots = member.shape[1]
    for r in range(n):
        push = backlog_push(open_issues[r], open_age[r], backlog_erosion, age_scale_weeks)
        effort_sum = 0.0  # of the used slots, for co_partner_effort beyond two slots
        used = 0
        if slots != 2:
            for k in range(slots):
                if member[r, k]:
                    effort_sum += effort[r, k]
                    used += 1
        for k in range(slots):
            if not member[r, k]:
                trust_org[r, k] = 0.0
                trust_ip[r, k] = 0.0
                continue
            top = trust_ceiling[r, k]
            org = erode(trust_org[r, k], push, erosion_to_growth, top)
            ip = erode(trust_ip[r, k], push, erosion_to_growth, top)
            # partners come to trust co-partners they see pulling their weight (last week's effort),
            # as co_partner_effort: two slots, the other slot; else the mean of the co-partners
            if slots == 2:
                seen = effort[r, 1 - k]
            else:
                seen = (effort_sum - effort[r, k]) / max(used - 1, 1)
            org = build(org, observed_effort_gain * seen, top)
            # spillover: organisational trust follows the people who carry the relationship
            trust_org[r, k] = pull(org, ip, interpersonal_spillover, top)
            trust_ip[r, k] = ip
