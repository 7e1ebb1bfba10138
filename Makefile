# One-liners for the project. `make test` and `make demo` work on a fresh machine:
# both create the local virtual environment (.venv) first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install fmt lint typecheck test unit demo bench soak clean

$(STAMP): pyproject.toml requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -e .
	touch $(STAMP)

install: $(STAMP)

fmt: $(STAMP)
	$(BIN)/ruff format provisioner tests bench
	$(BIN)/ruff check --fix provisioner tests bench

lint: $(STAMP)
	$(BIN)/ruff check provisioner tests bench
	$(BIN)/ruff format --check provisioner tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck unit

demo: $(STAMP)
	@echo "== provision validate configs/"; $(BIN)/provision validate configs/
	@echo; echo "== provision render configs/ --sandbox prod-aws   (secrets masked)"
	@$(BIN)/provision render configs/ --sandbox prod-aws

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
