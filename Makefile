# The newcomer's commands. `make up` starts the embedded default exchange; `make test` runs
# the checks, the suite on SQLite and its data-layer tests on PostgreSQL (under 20 minutes).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test test-sqlite test-postgres test-postgres-db test-postgres-all test-e2e test-slow test-scale lint bench bench-scale install clean interop interop-identity

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

up: $(STAMP)
	$(BIN)/ocx up $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

# The SQLite run measures coverage (its total is the last line it prints).
test-sqlite: $(STAMP)
	$(BIN)/pytest -q -n 2 --cov --cov-report=
	$(BIN)/coverage report | tail -n 1

# On PostgreSQL, within the default suite's budget (20 minutes on two cores): the tests whose
# subject is a part's data layer (the exchange's ledger and market, identity's records and
# federation, object metadata and its sweeper, volumes, servers, images). CI then runs
# `make test-postgres-db`: every other test that reaches a database (tests/conftest.py says
# which; the rest would repeat the SQLite run exactly). `make test-postgres-all` runs every test.
PG_CORE := tests/exchange/test_usage.py tests/exchange/test_subscriptions.py \
	tests/exchange/test_offerings.py tests/exchange/test_leases.py \
	tests/exchange/test_broker.py tests/exchange/test_money.py \
	tests/identity/test_keystone_compat.py tests/identity/test_credentials.py \
	tests/identity/test_projects_as_domains.py tests/identity/federation/test_lifecycle.py \
	tests/object/test_objects.py tests/object/test_listings.py tests/object/test_sweeper.py \
	tests/volume/test_storage.py tests/volume/test_smoke.py tests/volume/test_client.py \
	tests/compute/test_bulk.py tests/compute/test_volumes.py tests/image/test_wire.py

test-postgres: $(STAMP)
	OCX_TEST_DATABASE=postgresql $(BIN)/pytest -q -n 2 -m 'not slow and not e2e and not sqlite_only' $(PG_CORE)

test-postgres-db: $(STAMP)
	OCX_TEST_DATABASE=postgresql $(BIN)/pytest -q -n 2 -m 'not slow and not e2e and not sqlite_only' \
		$(addprefix --ignore=,$(PG_CORE))

test-postgres-all: $(STAMP)
	OCX_TEST_DATABASE=postgresql OCX_TEST_PG_ALL=1 $(BIN)/pytest -q -n 2 -m 'not slow and not e2e and not sqlite_only'

# End to end (CI runs it after `make test`): the seed scenarios' walk-throughs, whole `ocx up`
# and `ocx serve` processes, landlords killed under load, real Keystone and Swift as peers.
# Coverage is added to the SQLite run's (`make test` then `make test-e2e`, as CI does: the
# total printed last is the whole suite's).
test-e2e: $(STAMP)
	$(BIN)/pytest -q -n 2 -m e2e --cov --cov-append --cov-report=
	$(BIN)/coverage report | tail -n 1

test: lint test-sqlite test-postgres

test-slow: $(STAMP)
	$(BIN)/pytest -q -m slow

# Many landlords behind one proxy under concurrent calls, at a test's size (bench/scale.py
# --quick: 6 landlords x 1,000 servers, 50 calls at once); `bench-scale` is the full size.
test-scale: $(STAMP)
	$(BIN)/pytest -q -n 0 -m slow tests/proxy/test_scale.py

# OpenStack's Tempest (own venv, .venv-tempest) against a live default exchange: counts printed.
# `interop` runs the identity tests, the object-storage tests at harvard's Swift and through
# the proxy (region ocx), then keystonemiddleware's auth_token against OCX identity.
interop: $(STAMP)
	$(BIN)/python -m tests.interop.tempest all $(ARGS)
	bash bench/peers/install-swift.sh
	$(BIN)/pytest -q -n 0 -m e2e tests/interop/test_keystonemiddleware.py

interop-identity: $(STAMP)
	$(BIN)/python -m tests.interop.tempest identity $(ARGS)

bench: $(STAMP)
	$(BIN)/python bench/identity.py
	$(BIN)/python bench/object.py
	$(BIN)/python bench/proxy.py
	$(BIN)/python bench/vault.py
	$(BIN)/python bench/volume.py

# 100 landlords x 10,000 servers behind one proxy, 1,000 concurrent calls (ARGS to change it).
bench-scale: $(STAMP)
	$(BIN)/python bench/scale.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
