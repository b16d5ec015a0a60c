# Two commands: `make run` (the app with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
FLASK  := $(BIN)/flask --app tracker
# the suite runs in parallel, a database per worker (tests/conftest.py); PYTEST_WORKERS=0 runs it in one process
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadfile
# the tests' OpenID Connect provider (tests/oidc_provider: npm's oidc-provider, run by tests/oidc_helpers.py)
OIDC_PROVIDER := tests/oidc_provider/node_modules/.package-lock.json

.PHONY: run test test-sqlite lint lock bench browser-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# the versions CI tested: requirements.lock (the app) and requirements-test.lock (the app, test and bench
# tools), both made from pyproject.toml by `make lock`; then the app itself, without resolving again
$(VENV)/.runtime: pyproject.toml requirements.lock | $(BIN)/python
	scripts/ensure-system-deps runtime
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.test: pyproject.toml requirements-test.lock $(VENV)/.runtime
	$(BIN)/pip install -q -r requirements-test.lock
	touch $@

## run: migrate, load the library, frameworks and demo data, then serve on 127.0.0.1:$(PORT)
## (e-mail, demo and calendar links point at that port unless TRACKER_BASE_URL is set)
run: export TRACKER_BASE_URL ?= http://127.0.0.1:$(PORT)
run: $(VENV)/.runtime
	$(FLASK) db upgrade
	$(FLASK) seed
	$(FLASK) demo load
	TRACKER_EMBEDDED_SCHEDULER=1 $(FLASK) run --host 127.0.0.1 --port $(PORT)

## test: the suite on SQLite, then on PostgreSQL when TRACKER_TEST_DATABASE_URL is set
test: $(VENV)/.test browser-deps $(OIDC_PROVIDER) lint
	@echo "== the suite on SQLite"
	env -u TRACKER_TEST_DATABASE_URL $(PYTEST) $(PYTEST_ARGS)
	@if [ -n "$$TRACKER_TEST_DATABASE_URL" ]; then \
	  echo "== the same suite on $$TRACKER_TEST_DATABASE_URL"; \
	  $(PYTEST) $(PYTEST_ARGS); \
	else echo "(set TRACKER_TEST_DATABASE_URL=postgresql+psycopg://... to run it on PostgreSQL too)"; fi

test-sqlite: $(VENV)/.test browser-deps $(OIDC_PROVIDER) lint
	env -u TRACKER_TEST_DATABASE_URL $(PYTEST) $(PYTEST_ARGS)

## lint: ruff with the settings in pyproject.toml ([tool.ruff])
lint: $(VENV)/.test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## lock: pin every dependency of pyproject.toml, with hashes (tests/test_tooling.py checks the locks match it);
## pins already in the locks are kept: `make lock LOCK_ARGS=--upgrade` moves everything to the newest allowed
LOCK := $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --quiet \
        --custom-compile-command "make lock"
lock: | $(BIN)/python
	$(BIN)/pip install -q "uv>=0.9,<1"
	$(LOCK) --extra test --extra bench $(LOCK_ARGS) -o requirements-test.lock
	$(LOCK) -c requirements-test.lock -o requirements.lock

## bench: every benchmark in bench/ in one run; figures go to bench/results.md (TRACKER_BENCH_DATABASE_URL for PostgreSQL)
bench: $(VENV)/.test
	scripts/ensure-system-deps bench
	$(BIN)/python bench/run.py $(BENCH)

# the tests' OpenID Connect provider, installed from its lock file when node_modules is missing or older
$(OIDC_PROVIDER): tests/oidc_provider/package-lock.json
	npm ci --prefix tests/oidc_provider --no-audit --no-fund

browser-deps:
	scripts/ensure-system-deps browser

clean:
	rm -rf $(VENV) instance
