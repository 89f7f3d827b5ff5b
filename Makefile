# Dépêche — the two commands of the README are `make run` and `make test`.
# Both create the virtual environment in .venv and install the project on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# PostgreSQL tests fail when no server can start; 0 skips them (reported as skipped).
DEPECHE_REQUIRE_POSTGRES ?= 1

.PHONY: install run test lint typecheck i18n bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Run the bot (on the console when no Discord/Slack tokens are set).
run: $(STAMP)
	$(BIN)/depeche run

## Run the whole test suite (PostgreSQL tests start their own throwaway server).
test: $(STAMP)
	DEPECHE_REQUIRE_POSTGRES=$(DEPECHE_REQUIRE_POSTGRES) $(BIN)/python -m pytest -n 2 --dist loadgroup -q -rfEs $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check bot digests tests bench
	$(BIN)/ruff format --check bot digests tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

## Refresh the gettext catalogs from the code (Babel's tooling).
i18n: $(STAMP)
	$(BIN)/python scripts/update_catalogs.py

bench: $(STAMP)
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
