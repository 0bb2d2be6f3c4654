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

.PHONY: run api dev test test-heavy install install-test browser demo pipeline lint bench clean constraints

$(VENV)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 needed, found " + sys.version' 
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

## Build the embedded demo warehouse when none exists.
demo: install
	@test -f $(DB) || $(PY) -m warehouse --db $(DB) demo

## Train, forecast and plan what is missing or older than the data (a second run does nothing;
## `python -m services pipeline --if-missing` only fills in missing outputs).
pipeline: demo
	$(PY) -m services --db $(DB) pipeline

## Serve on 127.0.0.1:$(PORT) (e.g. `make run PORT=8600`) through `streamlit run app.py`'s launcher
## (pages/_serve.py: deep links work on a fresh server); .streamlit/config.toml: viewer toolbar,
## no file watcher.
run: pipeline
	@echo "Shelfwise: http://127.0.0.1:$(PORT) (warehouse $(SHELFWISE_DB))"
	$(PY) -m pages._serve --server.address 127.0.0.1 --server.port $(PORT) \
		--server.headless true --browser.gatherUsageStats false

## The HTTP API (FastAPI) on 127.0.0.1:$(API_PORT); keys: `python -m warehouse keys add`.
api: pipeline
	$(VENV)/bin/uvicorn api:app --host 127.0.0.1 --port $(API_PORT)

## Development: reload on save, developer toolbar.
dev: pipeline
	$(PY) -m pages._serve --server.address 127.0.0.1 --server.port $(PORT) \
		--server.fileWatcherType auto --server.runOnSave true --client.toolbarMode developer

## Headless Chromium from Debian for the one real-browser test (Playwright drives it).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

## The test suite also runs the Ray scale-out tests (the optional `ray` extra).
install-test: install browser
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev,ray]'

## Lint, format and type checks (the same hooks run from .pre-commit-config.yaml).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy warehouse recsys forecasting services pages app.py api.py

test: install-test lint
	$(PY) -m pytest -q

test-heavy: install-test
	SHELFWISE_HEAVY=1 $(PY) -m pytest -q -m heavy

bench: install
	$(PY) bench/run_all.py

## Record the versions installed now (after the suite passed) as the constraints of every install.
constraints:
	@{ echo "# Versions the test suite passed with (pip freeze of the project venv, the project itself excluded)."; \
	  echo "# make installs with: pip install -c constraints.txt -e '.[dev]'; regenerate with: make constraints"; \
	  $(PY) -m pip freeze --exclude-editable | grep -v -i '^shelfwise'; } > constraints.txt
	@echo "wrote constraints.txt ($$(grep -vc '^#' constraints.txt) packages)"

clean:
	rm -rf $(VENV) artifacts .pytest_cache .ruff_cache
