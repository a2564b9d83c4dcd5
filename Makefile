# tradewatch: `make help` lists the targets. Every target installs what it needs first.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

SPECS := tradewatch.yaml $(sort $(wildcard examples/*/tradewatch.yaml))
VENV := .venv
STAMP := $(VENV)/.tradewatch-installed
TW := $(VENV)/bin/tradewatch

.PHONY: help setup validate generate check lint test bench demo report deploy diff exporter simulate clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh

setup: $(STAMP) ## install Prometheus, Alertmanager, Redis (Debian) and the Python dependencies
	@bash scripts/setup.sh

validate: $(STAMP) ## check every spec; errors name file, line and YAML path
	$(TW) validate $(SPECS)

generate: $(STAMP) ## regenerate rules, dashboards, tests and configs from every spec
	$(TW) generate $(SPECS)

check: $(STAMP) ## fail if generated files differ from what the specs make (drift)
	$(TW) generate --check $(SPECS)

lint: $(STAMP) ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: check lint ## everything CI runs: drift, lint, types, unit, promtool and server tests
	$(VENV)/bin/pytest

bench: $(STAMP) ## benchmarks, reported as ratios against baselines measured in the same run
	$(VENV)/bin/python -m bench

demo: $(STAMP) ## the whole system on loopback: simulated trading, real Prometheus and Alertmanager
	$(TW) demo

report: $(STAMP) ## the performance report of the last 24 h, HTML and PDF (PROMETHEUS=url, default 127.0.0.1:9090)
	$(TW) report tradewatch.yaml --prometheus $(or $(PROMETHEUS),http://127.0.0.1:9090) $(REPORT_ARGS)

deploy: generate ## dashboards and alerts into Grafana, rules into the evaluator (GRAFANA_TOKEN from env)
	$(TW) deploy tradewatch.yaml $(DEPLOY_ARGS)

diff: generate ## what `make deploy` would change, with a diff per object; changes nothing
	$(TW) diff tradewatch.yaml $(DEPLOY_ARGS)

exporter: $(STAMP) ## run the exporter against Redis (TRADEWATCH_REDIS_URL, default redis://127.0.0.1:6379/0)
	$(TW) exporter

simulate: $(STAMP) ## write simulated trade events to Redis
	$(TW) simulate

clean: ## remove the virtualenv and caches (generated files are committed and stay)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
