# budget-etl: the two commands of the README are `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8765
SYSTEM_PACKAGES := fonts-wqy-zenhei poppler-utils poppler-data chromium chromium-driver libreoffice-calc-nogui \
	rabbitmq-server

.PHONY: demo test test-fast lint ui setup system-deps venv postgres rabbitmq clean

## command 1: install everything, build the sample portal, ingest it into DuckDB, print the summary and a query
demo: setup
	bash scripts/demo.sh

## command 2: the whole test suite (DuckDB, the local PostgreSQL server and the RabbitMQ broker of the Celery test)
test: setup postgres rabbitmq lint
	$(PY) -m pytest -q -p no:cacheprovider

## ruff: lint (pyflakes, pycodestyle, isort, bugbear, pyupgrade, complexity ≤ 15) and format check, [tool.ruff] in pyproject.toml
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## the fast lane: the unit tests only (no PostgreSQL, no browser; about a minute)
test-fast: setup
	$(PY) -m pytest -q -p no:cacheprovider tests/unit

## the Dagster UI (dg dev) on http://127.0.0.1:3000 over the demo's data and runs (after `make demo`)
ui: setup
	mkdir -p .dagster_home && { [ -f .dagster_home/dagster.yaml ] || cp deploy/dagster.local.yaml .dagster_home/dagster.yaml; }
	DAGSTER_HOME=$(CURDIR)/.dagster_home BUDGET_DATA_DIR=$(CURDIR)/data \
	  BUDGET_SOURCES=$(CURDIR)/build/sample_portal/sources.yaml \
	  VIRTUAL_ENV=$(CURDIR)/$(VENV) PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/dg dev

setup: system-deps venv

system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

postgres:
	bash scripts/start-postgres.sh

rabbitmq:
	bash scripts/start-rabbitmq.sh

clean:
	rm -rf build data
