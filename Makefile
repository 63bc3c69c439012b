# `make run` serves the API on the embedded PostgreSQL, with a job worker beside it (`serve` starts
# `python -m app worker` as a child process); `make test` runs the test suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-clock test-pg15 lint format bench soak migrate clean

# The venv is rebuilt when a requirements file changes (the stamps are older than it).
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

run: $(VENV)/.runtime-installed
	$(BIN)/python -m app serve

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest

# The date-sensitive tests with the system clock faked (libfaketime) to 23:55, 23:59 and 00:05 IST
# on 31 March / 1 April, where a day and a financial year end and UTC and Asia/Kolkata disagree.
CLOCK_TESTS := tests/api/v1/test_invoices.py tests/api/v1/test_invoice_numbering.py \
	tests/api/v1/test_receipts.py tests/api/v1/test_credit_notes.py tests/api/v1/test_ledger.py \
	tests/api/v1/test_dashboard.py tests/api/v1/test_subscriptions.py tests/api/v1/test_upgrade.py \
	tests/api/v1/test_usage.py tests/api/v1/test_invoice_gst.py tests/api/v1/test_tax_rates.py \
	tests/jobs tests/services tests/db/test_rls.py tests/security/test_cross_tenant_probe.py
test-clock: $(VENV)/.dev-installed
	tests/clock/run.sh -q $(CLOCK_TESTS)

# The role, migration and isolation tests on a throwaway PostgreSQL 15 cluster whose owner role is not
# a superuser (CREATEROLE only, as managed databases give). Installs postgresql-15 when missing.
test-pg15: $(VENV)/.dev-installed
	PYTHON=$(BIN)/python tests/pg15/run.sh

# mypy: --strict on the files `[tool.mypy] files` in pyproject.toml lists.
lint: $(VENV)/.dev-installed
	$(BIN)/ruff check app tests bench alembic
	$(BIN)/ruff format --check app tests bench
	$(BIN)/mypy

format: $(VENV)/.dev-installed
	$(BIN)/ruff format app tests bench
	$(BIN)/ruff check --fix app tests bench

# About 14 minutes: the baseline (1 and 2 API workers), the invoice scenarios, RLS on and off, documents (PDF),
# product search over 100,000 products, the counter sale, an order placed and paid, and exports of
# 100,000 invoices (CSV and XLSX).
bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench.baseline
	$(BIN)/python -m bench.invoices
	$(BIN)/python -m bench.rls
	$(BIN)/python -m bench.documents
	$(BIN)/python -m bench.products
	$(BIN)/python -m bench.sales
	$(BIN)/python -m bench.orders
	$(BIN)/python -m bench.exports

# Mixed reads and writes for SOAK_MINUTES against WEB_CONCURRENCY API workers (default 2); RSS per worker.
SOAK_MINUTES ?= 10
soak: $(VENV)/.dev-installed
	$(BIN)/python -m bench.soak --minutes $(SOAK_MINUTES)

migrate: $(VENV)/.runtime-installed
	$(BIN)/python -m app migrate

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
