# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
ASSETS := hotline/web/assets
VENDOR := hotline/web/static/vendor
# A throwaway database is created (and dropped) on this server by the test suite.
HOTLINE_TEST_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
export HOTLINE_TEST_PG_URL

.PHONY: run test lint venv clean bench browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24" "setuptools>=68" wheel

# Reinstall when the dependency list changes.
$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed $(VENDOR)/echarts.min.js

# Chart library for the dashboard, pinned in hotline/web/assets/package-lock.json, copied into
# our own static files: pages never load anything from a CDN, and work offline after this.
$(VENDOR)/echarts.min.js: $(ASSETS)/package-lock.json
	cd $(ASSETS) && npm ci --no-audit --no-fund --silent
	mkdir -p $(VENDOR)
	cp $(ASSETS)/node_modules/echarts/dist/echarts.min.js $@

run: venv
	mkdir -p var
	$(BIN)/hotline db upgrade
	$(BIN)/hotline seed --demo
	@echo "serving on http://$(HOST):$(PORT)  (API docs: http://$(HOST):$(PORT)/api/v1/docs)"
	@# The scheduler (SLA sweep every minute, outbox re-drain) runs beside the web server
	@# and stops with it.
	$(BIN)/hotline scheduler & scheduler=$$!; trap 'kill $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers $(WORKERS) wsgi:app  # gunicorn.conf.py

lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

# Unit tests need no database; everything that touches one runs on SQLite and on PostgreSQL.
# The browser tests (tests/e2e) run once, on SQLite, in Debian's chromium; the API contract
# run (schemathesis, tests/contract) once, on PostgreSQL, against gunicorn.
# The two passes run side by side (one per core), each with its own Redis database; the
# PostgreSQL pass's output is shown when both have finished.
PG_TESTS := tests/services tests/serving tests/api tests/pages tests/jobs tests/contract
test: lint browser
	mkdir -p var
	@HOTLINE_TEST_DATABASE=postgresql HOTLINE_TEST_REDIS_URL=redis://127.0.0.1:6379/14 \
		$(BIN)/pytest -q -p no:cacheprovider $(PG_TESTS) > var/test-postgresql.log 2>&1 & pg=$$!; \
	HOTLINE_TEST_DATABASE=sqlite $(BIN)/pytest -q tests --ignore=tests/contract; lite=$$?; \
	wait $$pg; pgrc=$$?; echo "--- PostgreSQL pass ---"; cat var/test-postgresql.log; \
	echo "SQLite pass: exit $$lite; PostgreSQL pass: exit $$pgrc"; \
	[ $$lite -eq 0 ] && [ $$pgrc -eq 0 ]

# Debian's chromium for the browser tests, and a CJK font so screenshots show the Chinese.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
		echo "installing chromium and a CJK font for the browser tests"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei; \
	fi

bench: venv
	$(BIN)/python bench/routing.py
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/metrics.py
	$(BIN)/python bench/outbox.py
	$(BIN)/python bench/import.py
	$(BIN)/python bench/worklist.py

clean:
	rm -rf $(VENV) var/test-* .ruff_cache
