# motcua — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CHROMIUM ?= /usr/bin/chromium
DESIGNER_JS  := web/static/vendor/designer.js
AUDITOR_JS   := web/static/vendor/auditor.js
FRONTEND_SRC := frontend/package.json $(wildcard frontend/package-lock.json) $(wildcard frontend/src/*)
export MOTCUA_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: install run test lint typecheck unit browser-deps ocr-deps check-postgres bench clean designer-assets

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) $(DESIGNER_JS) $(AUDITOR_JS)

## The designer's and the auditor's bundles (bpmn-js, Chart.js; web/static/vendor/, git-ignored), built
## together by one esbuild run and rebuilt when frontend/ changes.
$(DESIGNER_JS) $(AUDITOR_JS) &: $(FRONTEND_SRC)
	@command -v npm >/dev/null 2>&1 || { echo "FATAL: npm (Node.js 18 or later) is needed to build the process designer (bpmn-js) into web/static/vendor/ — install nodejs and npm." >&2; exit 1; }
	cd frontend && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
	cd frontend && npm run build
	touch $(DESIGNER_JS) $(AUDITOR_JS)

designer-assets: $(DESIGNER_JS) $(AUDITOR_JS)

## Install, migrate the SQLite database under var/, load bpmn/, seed demo users, serve on :5000 (citizen
## sign-in through the local OIDC test provider under /oidc-test unless MOTCUA_OIDC_ISSUER is set).
run: install ocr-deps
	$(BIN)/python run.py init-db --demo
	$(BIN)/python run.py serve --host 127.0.0.1 --port 5000

## Everything: lint, types, unit + integration on SQLite and PostgreSQL, BDD features, browser tests.
test: install browser-deps ocr-deps check-postgres lint typecheck
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

## Debian tesseract with Vietnamese data and Ghostscript for ocrmypdf (counter digitisation, PDF/A);
## installed when missing (needs root or sudo).
ocr-deps:
	@{ command -v tesseract >/dev/null 2>&1 && tesseract --list-langs 2>/dev/null | grep -qx vie \
	    && command -v gs >/dev/null 2>&1; } || { \
	  echo "Installing tesseract-ocr-vie and Ghostscript for OCR..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    tesseract-ocr tesseract-ocr-vie ghostscript fonts-dejavu-core >/dev/null; }
	@tesseract --list-langs 2>/dev/null | grep -qx vie || { echo "FATAL: tesseract Vietnamese data (vie) missing after install" >&2; exit 1; }

bench: install
	$(BIN)/python run.py bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
