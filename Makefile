PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install run test test-pg lint fmt bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the project with its development tools (idempotent)

run: install ## start the embedded stack (NATS, services, gateway) in the foreground
	$(BIN)/tochuc up

test: install ## the whole test suite on SQLite and an embedded NATS
	$(BIN)/python -m pytest -q --durations=15

test-pg: install ## the same suite on PostgreSQL (TOCHUC_TEST_PG_URL)
	TOCHUC_TEST_DB=postgresql $(BIN)/python -m pytest -q --durations=15

lint: install ## ruff check and format check, mypy on shared/
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared

fmt: install ## format the code
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean: ## remove the virtual environment and the local data dir
	rm -rf $(VENV) var
