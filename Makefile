# `make demo` and `make test` work on a fresh machine: they create .venv, install, then run.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo serve screenshots test test-fast lint format bench clean browser postgres

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "tgscope needs Python 3.11+"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install
	@rm -f demo.db demo.db-wal demo.db-shm; rm -rf demo.db.index
	@echo "== import the two sample dumps into demo.db"
	$(BIN)/tgscope import --db demo.db --channel russia_china_demo samples/russia_china_dump.txt
	$(BIN)/tgscope import --db demo.db --channel mid_russia samples/mid_ru_dump.txt
	@echo "== import the same dump again: nothing changes"
	$(BIN)/tgscope import --db demo.db --channel russia_china_demo samples/russia_china_dump.txt
	@echo "== search in any word form, English and Russian"
	$(BIN)/tgscope search --db demo.db meetings --limit 3
	$(BIN)/tgscope search --db demo.db Лавров --channel mid_russia --limit 3
	@echo "== a saved web-preview page and a Desktop export of the same channel: one record per post"
	$(BIN)/tgscope import --db demo.db samples/rusembchina_page.html samples/rusembchina_export.json
	$(BIN)/tgscope show --db demo.db --sources rusembchina/500
	@echo "== what the archive holds"
	$(BIN)/tgscope stats --db demo.db
	@echo "== the diplomatic events the posts tell of: who met whom, how, where and when"
	$(BIN)/tgscope events --db demo.db --type CONSULT
	@echo "== done. Browse it: make serve (or .venv/bin/tgscope serve --db demo.db), then open http://127.0.0.1:8080/"

# the demo archive in a browser, at http://127.0.0.1:8080/ (Ctrl+C stops)
serve: install
	@test -f demo.db || $(MAKE) demo
	$(BIN)/tgscope serve --db demo.db

# the README's screenshots, taken by the browser tests
screenshots: install browser
	TGSCOPE_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/test_web_browser.py

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

# Debian's chromium and fonts for the browser tests (needs root or sudo the first time)
browser:
	scripts/install-browser

# Debian's postgresql for the PostgreSQL tests (needs root or sudo the first time)
postgres:
	scripts/install-postgres

test: lint browser postgres
	$(BIN)/pytest -q

# the quick loop while working: no subprocess kills, servers or large generated inputs
test-fast: install
	$(BIN)/pytest -q -m 'not slow and not pg'

bench: install
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/bench_import.py
	$(BIN)/python bench/bench_wordforms.py
	$(BIN)/python bench/bench_search.py
	$(BIN)/python bench/bench_web.py
	$(BIN)/python bench/bench_duplicates.py
	$(BIN)/python bench/bench_analysis.py
	$(BIN)/python bench/eval_events.py --agreement
	$(BIN)/python bench/bench_events.py
	$(BIN)/python bench/bench_web_parse.py
	$(BIN)/python bench/bench_desktop_import.py
	$(BIN)/python bench/bench_sync.py
	$(BIN)/python bench/bench_media.py
	$(BIN)/python bench/bench_images.py
	$(BIN)/python bench/bench_reposts.py
	$(BIN)/python bench/hostile_report.py

clean:
	rm -rf $(VENV) demo.db demo.db-wal demo.db-shm demo.db.index
