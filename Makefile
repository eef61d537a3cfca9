# debtflow — two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench clean browser

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/debtflow demo --reset

lint: install
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy --strict src/debtflow/core

# browser tests drive Debian's Chromium (never `playwright install`); CJK fonts so Chinese renders
browser:
	@test -x /usr/bin/chromium && fc-list | grep -qi "noto.*cjk" || \
	  { (apt-get update -qq || true) && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

test: lint browser
	$(BIN)/pytest

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) debtflow.db debtflow.db-* var .pytest_cache .mypy_cache .ruff_cache
