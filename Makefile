# One command per gate. `make check` is the whole gate: lint, types, tests.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install lint typecheck test test-all check bench demo clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

install: $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,dev]'

lint: install
	$(BIN)/ruff check connector tests benchmarks

typecheck: install
	$(BIN)/mypy

test: install
	$(BIN)/python -m pytest

# SQLite and a throwaway PostgreSQL server, exactly as CI runs it
test-all:
	bash .ci/run

check: lint typecheck test

bench: install
	$(BIN)/python benchmarks/run_all.py

demo: install
	$(BIN)/promosync demo

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
