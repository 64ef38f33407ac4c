# Two commands on a fresh machine with Python 3.11 and make: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv: the one on PATH, else a private copy bootstrapped into .tools/ from PyPI.
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := .tools/bin/uv
endif
export UV_PYTHON_DOWNLOADS := never
# Bytecode compiled once at install: with PYTHONDONTWRITEBYTECODE set (as on these machines) every
# process would otherwise compile dagster, dbt and Great Expectations again — measured 27 s for
# their imports in each `imw` and `dbt` process, 13 s with the compiled files.
export UV_COMPILE_BYTECODE := 1
VENV := .venv/bin
# uv compiles what it installs, not the project's own packages (an editable install): with
# PYTHONDONTWRITEBYTECODE set, every `imw` process compiled their ≈ 90 modules again from source
# (0.27 s of the build's start, 2026-12-05). `install` compiles them (again only what changed);
# a source edited later is compiled in memory until the next `make install`, as before.
PROJECT_PACKAGES := $(patsubst %/__init__.py,%,$(wildcard */__init__.py))

# The warehouse home, always absolute for every recipe (a relative IMW_HOME is taken from the
# repository root, where make runs): dbt changes directory, Dagster may too.
IMW_HOME ?= $(CURDIR)/data
override IMW_HOME := $(abspath $(IMW_HOME))
export IMW_HOME

.PHONY: help install demo test test-long manifest lint format contract ui docs docs-static home bench bench-federal fuzz clean chromium

help:
	@echo "make demo      synthetic BW data -> build -> published indicators (data/demo)"
	@echo "make test      lint + contract check + all tests but the long scenarios"
	@echo "make test-long the long scenarios: kill/interrupt/rebuild, demo-scale truth tests"
	@echo "make ui        Dagster webserver + daemon: job, schedule, sensors, checks (IMW_HOME)"
	@echo "make contract  regenerate files derived from contract/spec.py, docs/data_rules.md"
	@echo "make docs      dbt docs (static copy in IMW_HOME/published/docs), served on :8080"
	@echo "make home      print the warehouse home every target uses (IMW_HOME, absolute)"
	@echo "make bench     full + incremental build on BW-scale data, against the DuckDB floor"
	@echo "make bench-federal  ten times BW: the generator streamed to disk and a full build"
	@echo "make fuzz      1,000 corrupted deliveries through the ingest; prints the counts"

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/python -m pip install --quiet --disable-pip-version-check uv

$(VENV)/imw: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

install: $(VENV)/imw
	@$(VENV)/python -m compileall -q $(PROJECT_PACKAGES)

demo: install
	$(VENV)/imw demo

lint: install
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/lint-imports
	$(VENV)/sqlfluff lint --processes 2 dbt_project/models dbt_project/tests dbt_project/macros
	$(VENV)/imw contract --check

# Two workers (the machines have 2 cores), one test module per worker at a time so module-scoped
# builds are made once; the dbt manifest the Dagster definitions read is parsed once beforehand,
# so no two workers parse it at the same time.
# Test homes live in memory (/dev/shm) where there is one with 4 GB free (a container's default
# 64 MB is not enough): the builds' Dagster event log and DuckDB files commit thousands of times,
# each a disk sync otherwise. Removed at the next run. `make test TEST_TMP=` keeps pytest's default.
TEST_TMP ?= $(shell d=/dev/shm; [ -d $$d ] && [ -w $$d ] && \
  [ "$$(df -Pk $$d | awk 'NR==2 {print $$4}')" -gt 4000000 ] && echo $$d/imw-test-$$(id -u))
# Lint (sqlfluff on both cores) and that parse run side by side: 25 s, where sqlfluff on one core
# took 39 s (2026-12-03); the modules go to the workers in the order tests/conftest.py gives
# (FIRST), not xdist's largest-first.
test: install chromium
	$(MAKE) --no-print-directory -j2 lint manifest
	$(VENV)/pytest -n 2 --dist loadfile --no-loadscope-reorder -m "not long" \
	  $(if $(TEST_TMP),--basetemp=$(TEST_TMP))

manifest: install
	$(VENV)/python -c "from orchestration.dbt_project import dbt_project; dbt_project()"

# The long scenarios, outside `make test` so that it stays well inside CI's 30 minutes: kill -9
# at every stage, interrupted publishing, builds on record, a corrupted mart blocking publication
# (several tiny builds each), and the truth tests at demo scale (indicator recovery, outcome
# intervals; two demo worlds). Run before a release and after touching build, publish or the
# disclosure engine.
test-long: install
	$(VENV)/pytest -n 2 --dist loadfile -m long $(if $(TEST_TMP),--basetemp=$(TEST_TMP)-long)

# The report's browser tests drive Debian's Chromium (playwright's own browser download is not
# available here). Installed when missing and we are root; otherwise the one command to run.
CHROMIUM := /usr/bin/chromium
chromium:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian's chromium for the report's browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
	  echo "The report's browser tests need Chromium. Run: sudo apt-get install -y chromium" >&2; \
	  exit 1; \
	fi

format: install
	$(VENV)/ruff format .
	$(VENV)/ruff check --fix .

contract: install
	$(VENV)/imw contract --write

# Webserver + daemon (schedules and sensors run) on the warehouse's Dagster instance,
# DAGSTER_HOME (default $IMW_HOME/dagster, prepared with orchestration/dagster.yaml).
UI_PORT ?= 3000
ui: install
	$(VENV)/imw ui --port $(UI_PORT)

# dbt documentation of every model, column and test, with the catalog of the last build in
# IMW_HOME (without it when there is none yet): one self-contained page (`--static`) copied to
# $(IMW_HOME)/published/docs/index.html for analysts, then served on http://localhost:$(DOCS_PORT).
DOCS_PORT ?= 8080
DOCS_DBT = $(CURDIR)/$(VENV)/imw-dbt
DOCS_DBT_ARGS = --project-dir $(CURDIR)/dbt_project --profiles-dir $(CURDIR)/dbt_project \
  --target-path $(CURDIR)/dbt_project/target/docs
docs-static: install
	@if [ -f "$(IMW_HOME)/warehouse/build.duckdb" ]; then catalog=""; else \
	  echo "no build database under $(IMW_HOME) yet: docs without the catalog (run a build first)"; \
	  catalog="--empty-catalog --no-compile"; fi; \
	mkdir -p dbt_project/target/docs && \
	if [ -f dbt_project/target/partial_parse.msgpack ]; then \
	  cp dbt_project/target/partial_parse.msgpack dbt_project/target/docs/; fi && \
	if [ -n "$$catalog" ]; then $(DOCS_DBT) parse --quiet $(DOCS_DBT_ARGS); \
	else export IMW_BUILD_DB="$(IMW_HOME)/warehouse/build.duckdb"; fi && \
	$(DOCS_DBT) docs generate --static $(DOCS_DBT_ARGS) $$catalog
	mkdir -p "$(IMW_HOME)/published/docs"
	cp dbt_project/target/docs/static_index.html "$(IMW_HOME)/published/docs/index.html"
	@echo "dbt docs (one file, opens without a server): $(IMW_HOME)/published/docs/index.html"

docs: docs-static
	$(DOCS_DBT) docs serve $(DOCS_DBT_ARGS) --port $(DOCS_PORT) --no-browser

# Benchmark (not part of make test): BW-scale data cached by seed under bench/.cache/.
bench: install
	$(VENV)/python -m bench.run $(BENCH_ARGS)

# Ten times bw (112.7 M rows, 5.6 GB of files in bench/.cache/; about 15 minutes on 2 cores
# with generating the data: the build 12.8 min on 2026-12-07 at 8b350df, README). DuckDB's limit at 6GB:
# with the default 1GB dbt runs out of memory, and at 5GB two models side by side did in 3 of 14
# builds, which a build now retries one at a time at a minute's cost (README, Operators; bench/
# HISTORY.md); at 6GB the build's peak was 7.38–7.52 GB.
bench-federal: install
	$(VENV)/python -m bench.run --scale federal --out bench/results/federal --memory-limit 6GB $(BENCH_ARGS)

# Fuzzing the ingest (not part of make test, which runs the same test with 20 cases):
# FUZZ_CASES corrupted tiny files, fixed seed FUZZ_SEED; prints escapes, conservation failures,
# leaks and formulas, and fails unless all are 0.
FUZZ_CASES ?= 1000
FUZZ_SEED ?= 20261202
fuzz: install
	FUZZ_CASES=$(FUZZ_CASES) FUZZ_SEED=$(FUZZ_SEED) $(VENV)/pytest tests/test_fuzz_ingest.py \
	  -q -s -p no:cacheprovider -W ignore::UserWarning

home:
	@echo "$(IMW_HOME)"

clean:
	rm -rf dbt_project/target dbt_project/logs .pytest_cache .ruff_cache
