# Shelfwise: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DB ?= data/shelfwise.duckdb
PORT ?= 8501
export SHELFWISE_DB ?= $(DB)

.PHONY: run dev test test-heavy install install-test browser demo pipeline lint bench clean

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

## Serve on 127.0.0.1:$(PORT) (e.g. `make run PORT=8600`); .streamlit/config.toml: viewer
## toolbar, no file watcher.
run: pipeline
	@echo "Shelfwise: http://127.0.0.1:$(PORT) (warehouse $(SHELFWISE_DB))"
	$(VENV)/bin/streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT) \
		--server.headless true --browser.gatherUsageStats false

## Development: reload on save, developer toolbar.
dev: pipeline
	$(VENV)/bin/streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT) \
		--server.fileWatcherType auto --server.runOnSave true --client.toolbarMode developer

## Headless Chromium from Debian for the one real-browser test (Playwright drives it).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

install-test: install browser

lint: install
	$(VENV)/bin/ruff check .

test: install-test lint
	$(PY) -m pytest -q

test-heavy: install-test
	SHELFWISE_HEAVY=1 $(PY) -m pytest -q -m heavy

bench: install
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) artifacts .pytest_cache .ruff_cache
