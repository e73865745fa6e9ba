"""The submodels, one module each, named as in docs/ODD.md section 7.

Order within a week (see `sim.model.AllianceModel.step`): formation, lifecycle, turnover, shocks,
friction, meetings (with resolution at meetings), resolution between meetings, trust, contribution,
value, learning, reviews.
"""
