# Fangkong — the two commands of the README: `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
FK := $(VENV)/bin/fangkong
PYTHON ?= python3.11
DEMO_RESIDENTS ?= 20000
DEMO_SEED ?= 2020
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/fangkong
PG_REPLICA_TEST_URL ?= postgres://postgres@127.0.0.1:5433/fangkong

.PHONY: demo test quicktest install install-test system-test-deps messages lint bench serve

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

install: $(VENV)/.installed messages

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install-test: install $(VENV)/.installed-test system-test-deps

# Translation catalogs: .po files are in git, .mo files are compiled here (no GNU gettext needed).
messages: $(VENV)/.installed
	$(PY) -m fangkong.core.compile_messages

# Debian's chromium (browser tests), CJK fonts (screenshots), PostgreSQL client and server, its streaming
# read replica on port 5433, Redis. In CI a replica that cannot be made is a failure.
system-test-deps:
	bash scripts/install-system-deps.sh
	bash scripts/ensure-postgres.sh
	@bash scripts/ensure-replica.sh || { [ "$$CI" != "true" ] && \
		echo "WARNING: no read replica on 127.0.0.1:5433; its tests will be SKIPPED (they are required in CI)." >&2; }
	bash scripts/ensure-redis.sh
	@bash scripts/ensure-pgbouncer.sh || { [ "$$CI" != "true" ] && \
		echo "WARNING: no pgbouncer on 127.0.0.1:6432; its test will be SKIPPED (it is required in CI)." >&2; }

# Demo mode: the settings start with the published demo key and localhost (a deployment must set its own).
demo: export FANGKONG_DEMO := 1
demo: install
	$(FK) migrate --noinput
	$(FK) collectstatic --noinput --verbosity 0
	$(FK) demo-city --residents $(DEMO_RESIDENTS) --seed $(DEMO_SEED) --if-empty
	$(FK) demo-cases --seed $(DEMO_SEED)
	$(FK) demo-tracing --seed $(DEMO_SEED)
	$(FK) demo-observation --seed $(DEMO_SEED)
	$(FK) demo-accounts
	$(FK) demo-evidence
	@echo "Fangkong is serving on http://127.0.0.1:8000  (Ctrl-C stops it)"
	$(FK) demo-serve 127.0.0.1:8000

test: install-test lint
	@echo "== test suite on SQLite =="
	DATABASE_URL=sqlite:///$(CURDIR)/.test-sqlite.sqlite3 $(VENV)/bin/pytest -q
	@echo "== test suite on PostgreSQL =="
	@if bash scripts/ensure-postgres.sh --check; then \
		DATABASE_URL=$(PG_TEST_URL) $(VENV)/bin/pytest -q; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL is unreachable: in CI this is a failure, not a skip." >&2; exit 1; \
	else \
		echo "WARNING: PostgreSQL is unreachable; the PostgreSQL run was SKIPPED (it is required in CI)." >&2; \
	fi
	@echo "== the read replica's tests on PostgreSQL (primary 5432, streaming replica 5433) =="
	@if bash scripts/ensure-replica.sh --check; then \
		DATABASE_URL=$(PG_TEST_URL) DATABASE_REPLICA_URL=$(PG_REPLICA_TEST_URL) $(VENV)/bin/pytest -q -m replica; \
	elif [ "$$CI" = "true" ]; then \
		echo "The read replica is not streaming (scripts/ensure-replica.sh): in CI this is a failure, not a skip." >&2; exit 1; \
	else \
		echo "WARNING: no streaming read replica; its tests were SKIPPED (they are required in CI)." >&2; \
	fi

# The quick loop while working: lint, then the suite on SQLite without the slow tests.
quicktest: install-test lint
	DATABASE_URL=sqlite:///$(CURDIR)/.test-sqlite.sqlite3 $(VENV)/bin/pytest -q -m "not slow"

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: install-test
	$(PY) bench/registry.py
	$(PY) bench/screening.py
	$(PY) bench/crosscheck.py
	$(PY) bench/placement.py
	$(PY) bench/observation.py  # the alert job and, last, the contact rings (bench/contact_rings.py)
	$(PY) bench/partitions.py   # today's coverage on day partitions vs a plain table; the purge of a day
	$(PY) bench/load.py  # a city's morning through gunicorn under locust (about 6 minutes)
	$(PY) bench/faults.py --reuse-db  # a killed gunicorn worker and double submissions under load
