# FinTech Analytics Accelerator — every command a user or CI runs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
ENV ?= dev
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

# Offline, quiet toolchain: node 22 from node_modules first on PATH (jsii and the CDK CLI use it),
# no CDK telemetry/version checks/notices, Spark bound to loopback.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := true
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export SPARK_LOCAL_IP := 127.0.0.1
export PYTHONDONTWRITEBYTECODE := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
CDK := cdk --no-notices
# The stacks live inside one Stage per environment: select them with '**' (`--all` or no selector reaches only
# top-level stacks, and the CLI then drops the nag/validation findings of the nested ones and reports success).
STACKS ?= **

.PHONY: help install demo test synth diff deploy bench review review-approve postgres postgres-stop clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed ## create .venv (pinned pip deps) and node_modules (pinned CDK CLI + Node 22)

postgres: ## start this checkout's PostgreSQL server (free loopback port, printed) for the dbt `ci` target
	@scripts/postgres.sh start

postgres-stop: ## stop this checkout's PostgreSQL server and delete its throwaway data
	@scripts/postgres.sh stop

demo: install ## run the whole pipeline locally (DuckDB) and synthesize every environment
	$(PY) -m scripts.demo

test: install ## install everything and run the whole test suite (it starts and stops its own PostgreSQL server)
	@scripts/ensure_chromium.sh
	$(PY) -m pytest

synth: install ## synthesize one environment: make synth ENV=dev|staging|prod
	$(CDK) synth '$(STACKS)' -c env=$(ENV) --quiet

diff: install ## diff one environment against the deployed stacks (needs AWS credentials)
	$(CDK) diff '$(STACKS)' -c env=$(ENV)

deploy: install ## deploy one environment (needs AWS credentials and a bootstrapped account)
	$(CDK) deploy '$(STACKS)' -c env=$(ENV) --require-approval broadening

review: install ## platform team's review pack of every environment into review_output/ (diff vs approved review/)
	$(PY) -m scripts.review

review-approve: install ## after reading review_output/: write the approved pack review/<env>.{md,json} to commit
	$(PY) -m scripts.review --approve

bench: install ## benchmarks (not part of make test): writes bench_output/results.json
	$(PY) -m bench.run

clean: ## remove generated output (keeps .venv and node_modules)
	rm -rf cdk.out demo_output bench_output review_output dbt/target dbt/logs .pytest_cache
