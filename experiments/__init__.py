"""Experiments on the alliance model: the `alliance-sim` command line and the helpers behind it.

`experiments.cli` is the command line; `experiments.outputs` writes a result folder;
`experiments.provenance` records how a result was made; `experiments.stats` holds the statistics
reported with results.
"""

from experiments.provenance import provenance, write_json_atomic
from experiments.stats import wilson_interval

__all__ = ["provenance", "wilson_interval", "write_json_atomic"]
