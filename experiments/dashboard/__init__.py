"""The workshop dashboard: the SolaraViz page (`app`) and the command that serves it (`launcher`)."""
