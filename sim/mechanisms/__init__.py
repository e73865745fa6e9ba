"""The submodels, one module each, named as in docs/ODD.md section 7.

Order within a week (see `sim.model.AllianceModel.step`): lifecycle, turnover, (room for the
week's meeting flags), shocks, friction, meetings, resolution (the week's whole issue flow, the
meetings among its channels), trust, contribution, value, learning, reviews and weekly checks;
then ended alliances are archived and, in ongoing mode, new ones form. Each module's week is one
compiled kernel over the running alliances (sim/compiled.py).
"""
