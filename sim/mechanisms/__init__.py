"""The submodels, one module each, named as in docs/ODD.md section 7.

Order within a week (see `sim.model.AllianceModel.step`): lifecycle, turnover, shocks, friction,
meetings (with resolution at meetings), resolution between meetings, trust, contribution, value,
learning, reviews; then ended alliances are archived and, in ongoing mode, new ones form.
"""
