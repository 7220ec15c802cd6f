# Every habit has a target. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test unit integration e2e check format bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Set up, find or start PostgreSQL, migrate, run the API on :8000 with its workers.
run: install
	SLOTWISE_MODE=$${SLOTWISE_MODE:-dev} $(BIN)/slotwise run

## Set up, check, then the whole test suite (unit, integration, e2e).
test: install check
	$(BIN)/python -m pytest tests -q

unit: install
	$(BIN)/python -m pytest tests/unit -q

## Real PostgreSQL (a database per module).
integration: install
	$(BIN)/python -m pytest tests/integration -q

## The API and workers as real processes, Tansu for Kafka.
e2e: install
	$(BIN)/python -m pytest tests/e2e -q

check: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## QUICK=1: a small version of every section; ONLY=section: that section alone.
bench: install
	SLOTWISE_MODE=test $(BIN)/python -m bench $(if $(QUICK),--quick) $(if $(ONLY),--only $(ONLY))

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
