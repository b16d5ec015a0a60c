# Two commands: `make run` (the app with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
FLASK  := $(BIN)/flask --app tracker
# the suite runs in parallel, a database per worker (tests/conftest.py); PYTEST_WORKERS=0 runs it in one process
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadfile

.PHONY: run test test-sqlite bench browser-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	scripts/ensure-system-deps runtime
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test: pyproject.toml $(VENV)/.runtime
	$(BIN)/pip install -q -e ".[test]"
	touch $@

## run: migrate, load the library, frameworks and demo data, then serve on 127.0.0.1:$(PORT)
run: $(VENV)/.runtime
	$(FLASK) db upgrade
	$(FLASK) seed
	$(FLASK) demo load
	TRACKER_EMBEDDED_SCHEDULER=1 $(FLASK) run --host 127.0.0.1 --port $(PORT)

## test: the suite on SQLite, then on PostgreSQL when TRACKER_TEST_DATABASE_URL is set
test: $(VENV)/.test browser-deps
	@echo "== the suite on SQLite"
	env -u TRACKER_TEST_DATABASE_URL $(PYTEST) $(PYTEST_ARGS)
	@if [ -n "$$TRACKER_TEST_DATABASE_URL" ]; then \
	  echo "== the same suite on $$TRACKER_TEST_DATABASE_URL"; \
	  $(PYTEST) $(PYTEST_ARGS); \
	else echo "(set TRACKER_TEST_DATABASE_URL=postgresql+psycopg://... to run it on PostgreSQL too)"; fi

test-sqlite: $(VENV)/.test browser-deps
	env -u TRACKER_TEST_DATABASE_URL $(PYTEST) $(PYTEST_ARGS)

## bench: every benchmark in bench/ in one run; figures go to bench/results.md (TRACKER_BENCH_DATABASE_URL for PostgreSQL)
bench: $(VENV)/.test
	scripts/ensure-system-deps bench
	$(BIN)/pip install -q -e ".[bench]"
	$(BIN)/python bench/run.py $(BENCH)

browser-deps:
	scripts/ensure-system-deps browser

clean:
	rm -rf $(VENV) instance
