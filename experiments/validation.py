"""Moved to `experiments.studies.validate`.

An alias of the new module under its old name, so that scripts importing the old name keep working.
"""

import sys

from experiments.studies import validate as _moved

sys.modules[__name__] = _moved
