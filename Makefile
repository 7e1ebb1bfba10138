# One-liners for the project. `make test` and `make demo` work on a fresh machine:
# both create the local virtual environment (.venv) first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install postgres fmt lint typecheck test unit demo bench bench-scale soak clean

$(STAMP): pyproject.toml requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -e '.[postgres]'
	touch $(STAMP)

install: $(STAMP)

# PostgreSQL's server binaries for the throwaway servers of the suite, demo and bench
# (installs Debian's package when run as root on a bare machine; says what to do otherwise).
postgres:
	@scripts/ensure-postgres.sh

fmt: $(STAMP)
	$(BIN)/ruff format provisioner tests bench
	$(BIN)/ruff check --fix provisioner tests bench

lint: $(STAMP)
	$(BIN)/ruff check provisioner tests bench
	$(BIN)/ruff format --check provisioner tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) postgres
	$(BIN)/pytest

test: lint typecheck unit

# Database secrets for the example configs, for the demo only (the emulator checks nothing).
demo: export PROD_ORDERS_PG_PASSWORD = demo-orders-prod
demo: export STAGE_ORDERS_PG_PASSWORD = demo-orders-stage
demo: export DEV_ORDERS_PG_PASSWORD = demo-orders-dev
demo: export PROD_AWS_ORDERS_PG_PASSWORD = demo-orders-aws
demo: export INVENTORY_PG_PASSWORD = demo-inventory
demo: export DEV_CLICKS_PG_PASSWORD = demo-clicks
demo: export BILLING_PG_DSN = Server=billing.db.acme.internal;Database=billing;UID=aep;Password=demo-billing
demo: export PAYMENTS_PG_PASSWORD = demo-payments
demo: $(STAMP) postgres
	@scripts/demo.sh

# Under ~10 minutes on a shared machine: scale runs at 2k and 10k connections here.
bench: $(STAMP) postgres
	$(BIN)/python bench/run.py

# The scale section alone at 2k, 10k and 50k connections over 500 sandboxes (SIZES=...
# to choose); writes bench/RESULTS-scale.md, which the next `make bench` includes.
SIZES ?= 2000,10000,50000
bench-scale: $(STAMP)
	$(BIN)/python bench/run.py --scale-only --scale-sizes $(SIZES)

# The reliability suites at full size (faults, crashes, hostile input); figures on stdout.
# Unlike `make test` (derandomized, tests/conftest.py), each soak draws fresh examples.
soak: $(STAMP)
	PROVISION_SOAK=1 HYPOTHESIS_PROFILE=soak $(BIN)/pytest tests/reliability tests/hostile -q -s

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
