# ClaimPost: `make run` starts everything on embedded defaults; `make test` runs the suite;
# `make bench` measures the pipeline (bench/harness.py) and writes bench/results.json;
# `make chaos` runs the long chaos and fuzz runs.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
INSTALLED = $(VENV)/.installed

.PHONY: run test lint install score-replies bench chaos fuzz

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("ClaimPost needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(INSTALLED)

run: install
	$(BIN)/claimpost dev

# One test process per core, at most four (pytest-xdist; each gets its own Redis and
# PostgreSQL database, tests/conftest.py). TEST_PROCESSES=0 runs the suite in one process.
TEST_PROCESSES ?= $(shell $(PYTHON) -c 'import os; print(min(os.cpu_count() or 1, 4))')

test: install
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist loadfile

# How well replies are read, case by case, on Discourse's public corpus (not in this repo).
CORPUS ?= ../shared/corpora/email_reply_trimmer
score-replies: install
	$(BIN)/python tools/score_replies.py --corpus $(CORPUS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install
	$(BIN)/python -m bench

# The long chaos run (README, Reliability): 1,000 emails and 1,000 replies under faults, and
# the long fuzz run where tests/fuzz exists.
chaos: install
	CHAOS_SCALE=full $(BIN)/python -m pytest -q -p no:cacheprovider tests/chaos $(wildcard tests/fuzz)

# The long fuzz run (at least 100,000 inputs, deterministic); `make test` runs a short one.
fuzz: install
	CHAOS_SCALE=full $(BIN)/python -m pytest tests/fuzz
