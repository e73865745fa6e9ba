# The two commands a newcomer needs (see README):
#   make demo   set up .venv, run the baseline scenario, print what happened and write its report
#   make test   set up .venv and run the fast test suite
.PHONY: setup demo test test-all bench lint

setup:
	@scripts/bootstrap.sh

demo: setup
	.venv/bin/alliance-sim run configs/baseline.yaml --seed 1 --out results/baseline
	.venv/bin/alliance-sim report results/baseline

test: setup
	.venv/bin/python -m pytest -q -m "not slow"

test-all: setup
	.venv/bin/python -m pytest -q

bench: setup
	.venv/bin/python benchmarks/bench_model.py

lint: setup
	.venv/bin/ruff check sim experiments tests benchmarks
