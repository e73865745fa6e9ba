"""The experiment engine: specs, designs, runner, cluster, sweep, results store and provenance.

The bottom layer of `experiments` (it imports only `sim`): everything that turns a spec into runs
on disk and reads them back. Nothing here computes statistics or draws.
"""
