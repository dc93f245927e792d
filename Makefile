# One command surface. `make help` lists the verbs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

PG_URL    ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
REDIS_URL ?= redis://127.0.0.1:6379/15
# The suite runs on one process per core (pytest-xdist): each has its own database, data
# folder and Redis namespace. TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= auto
# The suite starts a hundred `bandstand` processes: with bytecode written (whatever the
# environment says), each reads Bandstand's compiled modules instead of compiling them
# anew, half a second of CPU apiece.
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/pytest

.DEFAULT_GOAL := help
.PHONY: help install run test test-production lint fmt typecheck migrate bench screenshots clean

help: ## List the verbs
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## Create .venv and install Bandstand with its dev tools

run: $(STAMP) ## Install and serve on the embedded defaults (HOST=127.0.0.1 PORT=8000)
	$(BIN)/bandstand serve$(if $(HOST), --host $(HOST))$(if $(PORT), --port $(PORT))

test: $(STAMP) ## Install and run the whole suite (SQLite; PostgreSQL + Redis when BANDSTAND_TEST_* are set)
	$(PYTEST) -n $(TEST_WORKERS)

test-production: $(STAMP) ## Run the suite on PostgreSQL + Redis (PG_URL, REDIS_URL)
	BANDSTAND_TEST_DATABASE_URL=$(PG_URL) BANDSTAND_TEST_REDIS_URL=$(REDIS_URL) $(PYTEST) -n $(TEST_WORKERS)

lint: $(STAMP) ## ruff: lint and check formatting
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP) ## ruff: fix what can be fixed and format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP) ## mypy --strict over src/
	$(BIN)/mypy

migrate: $(STAMP) ## Apply database migrations (BANDSTAND_DATABASE_URL, default SQLite)
	$(BIN)/bandstand migrate

screenshots: $(STAMP) ## Photograph the web app's main pages into docs/screenshots/ (Chromium)
	$(BIN)/pytest -q tests/web/screenshots.py

bench: $(STAMP) ## Load-test a real server with wrk; writes bench/RESULTS.md
	$(BIN)/python bench/run.py

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
