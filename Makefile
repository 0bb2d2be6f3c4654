# Shelfwise: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DB ?= data/shelfwise.duckdb
PORT ?= 8501
## The HTTP API's port: 8600, or PORT when given (`make api PORT=9000`); API_PORT wins over both.
API_PORT ?= $(if $(filter file,$(origin PORT)),8600,$(PORT))
export SHELFWISE_DB ?= $(DB)

.PHONY: run api test test-heavy install install-test browser demo pipeline lint bench clean

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 needed, found " + sys.version' 
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

## Build the embedded demo warehouse when none exists.
demo: install
	@test -f $(DB) || $(PY) -m warehouse --db $(DB) demo

## Train, forecast and plan when their outputs are missing (each step skips itself when present).
pipeline: demo
	$(PY) -m services --db $(DB) pipeline --if-missing

run: pipeline
	$(VENV)/bin/streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT) \
		--server.headless true --browser.gatherUsageStats false

## The HTTP API (FastAPI) on 127.0.0.1:$(API_PORT); keys: `python -m warehouse keys add`.
api: pipeline
	$(VENV)/bin/uvicorn api:app --host 127.0.0.1 --port $(API_PORT)

## Headless Chromium from Debian for the one real-browser test (Playwright drives it).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

install-test: install browser

## Lint, format and type checks (the same hooks run from .pre-commit-config.yaml).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy warehouse recsys forecasting services

test: install-test lint
	$(PY) -m pytest -q

test-heavy: install-test
	SHELFWISE_HEAVY=1 $(PY) -m pytest -q -m heavy

bench: install
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) artifacts .pytest_cache .ruff_cache
