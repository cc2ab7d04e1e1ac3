# Anka — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo run test lint format bench migrate stop clean

$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "Anka needs Python 3.11 ($(PYTHON))"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

## Start Anka with zero configuration (embedded PostgreSQL + Redis, demo market data).
demo: $(STAMP)
	$(PY) manage.py demo

## Start Anka with the configured services and Yahoo market data.
run: $(STAMP)
	$(PY) manage.py run

## Lint, format check, and the whole test suite with branch coverage.
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/black --check --quiet .
	$(PY) -m pytest --cov --cov-report=term -p no:cacheprovider

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/black --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/black .

## Benchmarks (prints the figures; not part of the tests).
bench: $(STAMP)
	$(PY) -m bench

migrate: $(STAMP)
	$(PY) manage.py migrate

## Stop the embedded PostgreSQL that zero-config runs keep for reuse.
stop: $(STAMP)
	$(PY) manage.py stop

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .coverage htmlcov
