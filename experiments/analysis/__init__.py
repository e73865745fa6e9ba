"""Analysis: pure functions on the runs and outcomes tables of the engine.

Statistics (`stats`), per-point summaries and survival (`summary`), regret (`regret`), PRIM boxes
(`prim`), sensitivity indices (`indices`) and the validation patterns (`patterns`). They take
DataFrames and return DataFrames or numbers; they read no folder and know no study.
"""

from experiments.analysis.summary import COUNT_COLUMNS, differences_from_reference, point_summary, survival_by

__all__ = ["COUNT_COLUMNS", "differences_from_reference", "point_summary", "survival_by"]
