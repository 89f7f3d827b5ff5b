# Dépêche — the two commands of the README are `make run` and `make test`.
# Both create the virtual environment in .venv and install the project on first use, with the
# exact versions of the lock file (requirements/dev.lock, hashes checked), so every machine tests
# what CI tested. `make lock` refreshes the lock after a change to pyproject.toml's dependencies.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LOCK   := requirements/dev.lock
LOCK_RUN := requirements/run.lock
UV_COMPILE = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock"
PYTEST_ARGS ?=
# PostgreSQL tests fail when no server can start; 0 skips them (reported as skipped).
DEPECHE_REQUIRE_POSTGRES ?= 1

.PHONY: install run test soak lint typecheck i18n bench lock clean

# Installs exactly the locked versions (no resolver, no unpinned download), then the project
# itself in editable mode with the locked setuptools (no build isolation).
$(STAMP): $(LOCK) pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the locked dependencies into $(VENV) (first time: about a minute)..."
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

## Run the bot (on the console when no Discord/Slack tokens are set).
run: $(STAMP)
	$(BIN)/depeche run

## Run the whole test suite (PostgreSQL tests start their own throwaway server).
test: $(STAMP)
	DEPECHE_REQUIRE_POSTGRES=$(DEPECHE_REQUIRE_POSTGRES) $(BIN)/python -m pytest -n 2 --dist loadgroup -q -rfEs $(PYTEST_ARGS)

## The long crash soak (many SIGKILLs per database); `make test` runs a short version.
soak: $(STAMP)
	DEPECHE_REQUIRE_POSTGRES=$(DEPECHE_REQUIRE_POSTGRES) DEPECHE_CRASH_TRIALS=40 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_crash.py

lint: $(STAMP)
	$(BIN)/ruff check bot digests tests bench scripts
	$(BIN)/ruff format --check bot digests tests bench scripts

typecheck: $(STAMP)
	$(BIN)/mypy

## Refresh the gettext catalogs from the code (Babel's tooling).
i18n: $(STAMP)
	$(BIN)/python scripts/update_catalogs.py

bench: $(STAMP)
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

## Refresh the lock files from pyproject.toml (needs PyPI); commit them with the change.
lock: $(STAMP)
	$(UV_COMPILE) pyproject.toml requirements/build.in --extra dev -o $(LOCK)
	$(UV_COMPILE) pyproject.toml requirements/build.in -c $(LOCK) -o $(LOCK_RUN)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
