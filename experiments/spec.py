"""Moved to `experiments.engine.spec`.

An alias of the new module under its old name, so that scripts importing the old name keep working.
"""

import sys

from experiments.engine import spec as _moved

sys.modules[__name__] = _moved
