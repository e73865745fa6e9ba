"""The workshop dashboard: the SolaraViz page (`app`) and the command that serves it (`launcher`).

The names of the old module `experiments.dashboard` (`dashboard_command`, `DEFAULT_PORT`, ...)
are the launcher's, imported on first use: importing the package does not import Solara.
"""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    if name.startswith("_"):
        raise AttributeError(f"module 'experiments.dashboard' has no attribute {name!r}")
    launcher = importlib.import_module("experiments.dashboard.launcher")
    try:
        return getattr(launcher, name)
    except AttributeError:
        raise AttributeError(f"module 'experiments.dashboard' has no attribute {name!r}") from None
