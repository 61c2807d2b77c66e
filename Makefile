# `make demo` and `make test` work on a fresh machine: they create .venv, install, then run.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint format bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "tgscope needs Python 3.11+"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install
	@rm -f demo.db demo.db-wal demo.db-shm; rm -rf demo.db.index
	$(BIN)/tgscope --db demo.db import --channel china_embassy_demo samples/russia_china_dump.txt
	$(BIN)/tgscope --db demo.db import --channel mid_ru_demo samples/mid_ru_dump.txt
	$(BIN)/tgscope --db demo.db import --channel china_embassy_demo samples/russia_china_dump.txt
	$(BIN)/tgscope --db demo.db search meeting --limit 3
	$(BIN)/tgscope --db demo.db search Лавров --limit 3
	$(BIN)/tgscope --db demo.db stats

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

test: lint
	$(BIN)/pytest -q

bench: install
	$(BIN)/python bench/bench_import.py
	$(BIN)/python bench/bench_search.py

clean:
	rm -rf $(VENV) demo.db demo.db-wal demo.db-shm demo.db.index
