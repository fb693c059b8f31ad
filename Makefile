# ketenhub: `make run` for the demo, `make test` for the whole suite. Both set everything up.
SHELL := /bin/bash
# The interpreter the virtualenv is built from: an optimised (PGO + LTO) build when the
# machine has one, see scripts/pick-python.sh; `make PYTHON=... install` chooses another.
ifeq ($(origin PYTHON), undefined)
PYTHON := $(shell scripts/pick-python.sh)
endif
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install run test lint typecheck prometheus contracts kafka-start kafka-stop kafka-status clean

help:  ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "ketenhub needs Python 3.11+ (found: $$($(PYTHON) --version))"; exit 1; }
	@echo "virtualenv from $(PYTHON) ($$($(PYTHON) --version))"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

install: $(STAMP)  ## Create the virtualenv and install ketenhub with its dev tools

run: install  ## Start local Kafka, the hub and simulated partners with a live traffic table
	$(BIN)/ketenhub demo

test: install lint typecheck  ## Lint, type-check and run all tests (unit + end-to-end on real Kafka)
	$(BIN)/ketenhub kafka fetch
	scripts/ensure-prometheus.sh
	scripts/ensure-asyncapi-parser.sh
	$(BIN)/pytest

prometheus:  ## Install Prometheus and promtool (Debian package) for the alert and scrape tests
	scripts/ensure-prometheus.sh

contracts: install  ## Regenerate the partner contracts in docs/contracts (AsyncAPI 3.0 + JSON Schema)
	$(BIN)/ketenhub docs gen

lint:  ## ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:  ## mypy --strict
	$(BIN)/mypy

kafka-start: install  ## Start the local Kafka broker only
	$(BIN)/ketenhub kafka start

kafka-stop: install  ## Stop the local Kafka broker
	$(BIN)/ketenhub kafka stop

kafka-status: install  ## Is local Kafka running?
	$(BIN)/ketenhub kafka status

clean:  ## Remove the virtualenv and local Kafka data (the jar cache stays)
	-$(BIN)/ketenhub kafka stop
	rm -rf $(VENV) .ketenhub/kafka .ketenhub/logs
