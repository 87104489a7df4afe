# motcua — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CHROMIUM ?= /usr/bin/chromium
export MOTCUA_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: install run test lint typecheck unit browser-deps check-postgres bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Install, migrate the SQLite database under var/, load bpmn/, seed demo users, serve on :5000.
run: install
	$(BIN)/python run.py init-db
	$(BIN)/python run.py serve --host 127.0.0.1 --port 5000

## Everything: lint, types, unit + integration on SQLite and PostgreSQL, BDD features, browser tests.
test: install browser-deps check-postgres lint typecheck
	$(BIN)/pytest -q -p no:cacheprovider

lint:
	$(BIN)/ruff check .

typecheck:
	$(BIN)/mypy

check-postgres:
	@$(BIN)/python -c "import os, psycopg, sys; url = os.environ['MOTCUA_TEST_DATABASE_URL']; \
	  psycopg.connect(url, connect_timeout=5).close()" \
	  || { echo "FATAL: PostgreSQL does not answer at $$MOTCUA_TEST_DATABASE_URL — the PostgreSQL suite cannot run." >&2; exit 1; }

## Debian chromium for the Playwright browser tests (installed when missing; needs root or sudo).
browser-deps:
	@test -x $(CHROMIUM) || { \
	  echo "Installing Debian chromium for browser tests..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; }
	@test -x $(CHROMIUM) || { echo "FATAL: $(CHROMIUM) missing after install" >&2; exit 1; }

bench: install
	$(BIN)/python run.py bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
