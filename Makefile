# Executable documentation of the workflow. The README's two commands: `make demo`, `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 90

.PHONY: install demo test slow lint run report-check

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/newsmon demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

# Long scenarios (a real Prefect server + newsmon serve, the Dask cluster): not in `make test`.
slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

lint: $(STAMP)
	$(BIN)/ruff check newsmon flows tasks tests

run: $(STAMP)
	$(BIN)/newsmon run

# The HTML report in a real browser (Debian's chromium, not installed by `make install`): renders
# it headless, checks the chart, a meeting row and the console, saves a screenshot (pytest -s
# prints where).
report-check: $(STAMP)
	@test -x /usr/bin/chromium || { echo "report-check needs /usr/bin/chromium: apt-get update && apt-get install -y chromium"; exit 1; }
	$(BIN)/python -m pytest -q -s tests/test_analyst.py -k "report or console"
