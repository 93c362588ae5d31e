# The few commands a newcomer needs. `make run` and `make test` install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run test fuzz bench lint format postgres chromium wrk clean

$(BIN)/mutual-aid: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/mutual-aid

run: $(BIN)/mutual-aid  ## Serve the API on http://127.0.0.1:8000 with SQLite under ./data
	$(BIN)/mutual-aid serve

test: $(BIN)/mutual-aid postgres chromium lint  ## Lint, type-check and run every test (SQLite and PostgreSQL)
	$(BIN)/python -m pytest

fuzz: $(BIN)/mutual-aid  ## Schemathesis over the whole OpenAPI, all checks, 100 examples each
	scripts/fuzz.sh 100

bench: $(BIN)/mutual-aid postgres wrk  ## The performance suite (about 25 minutes); writes bench/RESULTS.md
	$(BIN)/python -m bench.suite --results bench/RESULTS.md

lint: $(BIN)/mutual-aid
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(BIN)/mutual-aid
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

postgres:  ## The tests start their own PostgreSQL server; install it where it is missing
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; }

chromium:  ## The status-board test drives a real headless Chromium; install it where missing
	@command -v chromium >/dev/null || \
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

wrk:  ## The load generator of the performance suite; install it where missing
	@command -v wrk >/dev/null || \
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; }

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .pytest_cache
