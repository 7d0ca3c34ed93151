# Beffroi: `make run` serves the demo town, `make test` runs every check.
SHELL := /bin/bash
# The first interpreter that runs and is 3.11 or newer (pyenv shims may exist and not run).
PY ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; \
	done)
VENV := .venv
BIN := $(VENV)/bin
export BEFFROI_HOME ?= $(CURDIR)/var
# Compiled modules are kept (where the environment says not to): the test suite's two passes,
# its subprocesses (CLI, bench, Celery workers) and later starts read them instead of
# compiling every module again (collection alone takes twice as long without them).
unexport PYTHONDONTWRITEBYTECODE
PYTEST_WORKERS ?= 2

.PHONY: run test lint typecheck migrations-check pytest pytest-sqlite pytest-postgres test-env messages clean fidelity

$(VENV)/.installed: pyproject.toml
	@test -n "$(PY)" || { echo "Beffroi needs Python 3.11 or newer (python3 on the PATH)."; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

run: $(VENV)/.installed
	$(BIN)/beffroi init
	$(BIN)/beffroi demo
	$(BIN)/beffroi serve

# The built-in models are trained into the suite's cache while the checks run (on one core,
# for about as long): the suite then reads them instead of training them in each worker.
test: $(VENV)/.installed
	@mkdir -p var; BEFFROI_HOME=$$(mktemp -d) BEFFROI_CACHE="$${BEFFROI_CACHE:-$(TEST_CACHE)}" \
	  $(BIN)/beffroi models prepare >var/models-prepare.log 2>&1 & prepare=$$!; \
	$(MAKE) --no-print-directory lint typecheck migrations-check test-env; checks=$$?; \
	wait $$prepare || { echo "beffroi models prepare failed:"; cat var/models-prepare.log; exit 1; }; \
	cat var/models-prepare.log; [ $$checks = 0 ] || exit $$checks; \
	$(MAKE) --no-print-directory pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/lint-imports --no-cache

# The django-stubs plugin loads the settings, which make a data directory: a temporary one.
typecheck: $(VENV)/.installed
	@home=$$(mktemp -d); BEFFROI_HOME=$$home $(BIN)/mypy; status=$$?; rm -rf "$$home"; exit $$status

migrations-check: $(VENV)/.installed
	BEFFROI_HOME=$$(mktemp -d) $(BIN)/beffroi manage makemigrations --check --dry-run

# Starts PostgreSQL and Redis from Debian's packages where they are missing and it can,
# and installs Debian's chromium for the browser test; prints what it could not do.
test-env:
	@bash scripts/test-env.sh

pytest: pytest-sqlite pytest-postgres

# Both passes (and the bench a test runs) read and write one cache of trained models and
# embeddings, named by hashes of what made them: the default classifier is trained once.
TEST_CACHE := $(CURDIR)/var/test-cache
pytest-sqlite pytest-postgres: export BEFFROI_CACHE ?= $(TEST_CACHE)

# The recorded payloads of tests/corpus/ through every mapping, with the per-field report
# (the same run is a pytest test, marker `fidelity`, in `make test`).
fidelity: $(VENV)/.installed
	$(BIN)/python -m tests.fidelity.run --details

# --dist worksteal: a worker done early takes tests queued for the other (a few take a minute).
pytest-sqlite: $(VENV)/.installed
	BEFFROI_HOME=$$(mktemp -d) BEFFROI_SECRET_KEY=test-secret-key-not-for-production \
	  $(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal -q

pytest-postgres: $(VENV)/.installed
	@url="$${BEFFROI_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"; \
	if $(BIN)/python scripts/reachable.py "$$url"; then \
	  BEFFROI_HOME=$$(mktemp -d) BEFFROI_SECRET_KEY=test-secret-key-not-for-production \
	  DATABASE_URL="$$url" BEFFROI_TESTS_DATABASE_ONLY=1 \
	  $(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal -q -m "not browser"; \
	else \
	  echo "SKIPPED: PostgreSQL is not reachable at $$url; the PostgreSQL pass did not run."; \
	fi

messages: $(VENV)/.installed
	cd src/beffroi && ../../$(BIN)/django-admin makemessages -l fr --ignore 'tests/*' && ../../$(BIN)/django-admin compilemessages

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
