"""Size guards: refuse, before anything is allocated, a scenario whose arrays would not fit in memory.

The schema bounds each value on its own (firms.count up to a million, managers.per_firm up to a
thousand), but some combinations ask for more memory than any machine has: a million firms with a
thousand managers each is a billion manager rows. `check_scenario_fits(scenario)` estimates the
bytes of the population arrays (firms, firms x managers, alliances x partner slots) and raises
`SizeError` with the estimate and the memory available when it would not fit.

`memory_limit()` is the memory this process may use: the machine's physical memory, or less if a
limit is set (RLIMIT_AS, RLIMIT_DATA, a cgroup's memory.max).
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

import numpy as np


class SizeError(ValueError):
    """An input whose size would not fit in memory; the message gives the estimate and the limit."""


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_limit() -> int | None:
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:
            return int(text)
    return None


def memory_limit() -> int | None:
    """Bytes this process may use: physical memory or a lower limit (rlimit, cgroup); None if unknown."""
    limits = [_physical_memory(), _cgroup_limit()]
    for which in ("RLIMIT_AS", "RLIMIT_DATA"):
        soft = resource.getrlimit(getattr(resource, which))[0] if hasattr(resource, which) else -1
        if soft not in (-1, resource.RLIM_INFINITY):
            limits.append(soft)
    known = [limit for limit in limits if limit]
    return min(known) if known else None


def gib(nbytes: float) -> str:
    """`nbytes` in GiB (or MiB if small), for messages."""
    if nbytes >= 2**30:
        return f"{nbytes / 2**30:,.2f} GiB"
    return f"{nbytes / 2**20:,.0f} MiB"


def check_fits(needed: float, what: str, limit: int | None = None) -> None:
    """SizeError if `needed` bytes exceed the memory limit (see `memory_limit`)."""
    limit = memory_limit() if limit is None else limit
    if limit is not None and needed > limit:
        raise SizeError(
            f"{what} needs about {gib(needed)} of memory, more than this machine allows "
            f"({gib(limit)}); make it smaller"
        )


# Bytes per row, with a factor for the temporaries the initialisation and the weekly step make.
_FIRM_BYTES = (4 + 12) * 8 * 3  # culture dimensions and traits, drawn through temporaries
_MANAGER_BYTES = 9 * 8 * 3  # nine 8-byte columns (sim.population.make_managers), and draws


def _alliance_bytes(max_partners: int) -> int:
    from sim.state import _ALLIANCE_FIELDS, _SLOT_FIELDS

    row = sum(np.dtype(dtype).itemsize for dtype, _ in _ALLIANCE_FIELDS.values())
    slot = sum(np.dtype(dtype).itemsize for dtype, _ in _SLOT_FIELDS.values())
    # running and archived rows, grown by doubling, and the outcome table
    return 3 * (row + slot * max_partners)


def scenario_bytes(scenario) -> dict[str, float]:
    """Estimated bytes of a scenario's population arrays: firms, managers and alliances."""
    firms = scenario.firms.count
    managers = firms * scenario.managers.per_firm
    formation = scenario.formation
    if formation.mode == "cohort":
        alliances = formation.n_alliances
    else:  # ongoing: about rate_per_week new alliances a week, at most one per two free seats
        weeks = scenario.simulation.horizon_weeks
        seats = firms * formation.max_alliances_per_firm
        alliances = min(formation.rate_per_week * weeks, seats / 2 * weeks)
    partners = formation.max_partners if formation.multi_partner_share > 0 else 2
    return {
        "firms": float(firms) * _FIRM_BYTES,
        "managers": float(managers) * _MANAGER_BYTES,
        "alliances": float(alliances) * _alliance_bytes(partners),
    }


def check_scenario_fits(scenario, limit: int | None = None) -> None:
    """SizeError if the scenario's arrays would not fit in memory (see the module docstring)."""
    parts = scenario_bytes(scenario)
    total = sum(parts.values())
    limit = memory_limit() if limit is None else limit
    if limit is None or total <= limit:
        return
    firms = scenario.firms.count
    detail = (
        f"{firms:,} firms x {scenario.managers.per_firm:,} managers = "
        f"{firms * scenario.managers.per_firm:,} manager rows ({gib(parts['managers'])}), "
        f"alliances {gib(parts['alliances'])}, firms {gib(parts['firms'])}"
    )
    raise SizeError(
        f"the scenario needs about {gib(total)} of memory ({detail}), more than this machine allows "
        f"({gib(limit)}); lower firms.count, managers.per_firm or the number of alliances"
    )
