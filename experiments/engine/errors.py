"""The engine's errors: input that cannot be used, with a message saying why and what is allowed."""

from __future__ import annotations

from sim import ScenarioError


class SpecError(ScenarioError):
    """An experiment spec (file, override or value) that cannot be used; the message says why."""
