# Executable documentation of the workflow. The README's two commands: `make demo`, `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 90

.PHONY: install demo test slow lint run report-check faults bench

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

# The fault-injection suite (tests/faults, docs/reliability.md): every scenario, fast and slow
# (~4.5 min on 2 cores), then the table (fault, expected, observed, pass/fail) and the total line.
# Fails if any fault did not behave as expected. FAULTS_SEED picks the random kill points.
FAULTS_REPORT := build/faults.jsonl
faults: $(STAMP)
	@mkdir -p build && rm -f $(FAULTS_REPORT)
	NEWSMON_FAULTS_REPORT=$(abspath $(FAULTS_REPORT)) NEWSMON_FAULTS_SEED=$(or $(FAULTS_SEED),11) \
		$(BIN)/python -m pytest -q -m "slow or not slow" tests/faults; status=$$?; \
		$(BIN)/python -m tests.faults.report $(FAULTS_REPORT) || status=1; exit $$status

# The benchmark of issue 10 (docs/performance.md), ~25 min on 2 cores; never part of `make test`.
# Needs the real pages in ../shared/data/extraction-benchmark/html. Reports in build/bench/.
# 1. cold 200 feeds x 25 items, warm, floor and naive order; 2. the same cold cycle with 200 ms
# per HTTP answer, compared to 1.; 3. warm cycles on 500 feeds, 20 in one process (memory).
BENCH := build/bench
bench: $(STAMP)
	@mkdir -p $(BENCH)
	$(BIN)/newsmon bench --feeds 200 --items 25 --json $(BENCH)/cold-200x25.json
	$(BIN)/newsmon bench --feeds 200 --items 25 --latency-ms 200 --no-floor --warm-cycles 0 \
		--baseline $(BENCH)/cold-200x25.json --json $(BENCH)/latency-200ms.json
	$(BIN)/newsmon bench --feeds 500 --items 2 --warm-cycles 20 --no-floor \
		--json $(BENCH)/warm-500.json

lint: $(STAMP)
	$(BIN)/ruff check newsmon flows tasks tests

run: $(STAMP)
	$(BIN)/newsmon run

# The HTML report in a real browser (Debian's chromium, not installed by `make install`): renders
# it headless, checks the chart, a meeting row and the console, saves a screenshot (pytest -s
# prints where).
report-check: $(STAMP)
	@test -x /usr/bin/chromium || { echo "report-check needs /usr/bin/chromium: apt-get update && apt-get install -y chromium"; exit 1; }
	$(BIN)/python -m pytest -q -s tests/analyst/test_analyst.py tests/analyst/test_report_kinds.py -k "report or console or kind"
