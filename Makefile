# huabei — make demo / make test work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
export HUABEI_DATABASE_URL ?= sqlite:///huabei.db

.PHONY: install demo test test-fast serve bench lint format clean

$(BIN)/python:
	@echo "creating the virtual environment $(VENV) ..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# pip prints each package as it installs (the first time takes a minute or two)
$(VENV)/.installed: $(BIN)/python pyproject.toml
	@echo "installing huabei and its dependencies into $(VENV) ..."
	$(BIN)/python -m pip install --progress-bar on -e '.[test]'
	@touch $@

install: $(VENV)/.installed

# the keys are printed before the server starts; once it answers, serve prints the page, /docs and
# ?lang=zh links
demo: install
	$(BIN)/huabei db upgrade
	$(BIN)/huabei demo load
	@echo "API keys of the demo, one per role (log in to the page with the customer's):"
	$(BIN)/huabei demo keys
	$(BIN)/huabei serve --host $(HOST) --port $(PORT)

# Parallel over the machine's cores (pytest-xdist): each worker makes its own PostgreSQL scratch
# database and SQLite template (tests/conftest.py). PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= auto

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix-only -q src tests bench
	$(BIN)/ruff format src tests bench

test: lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The pure rules and a smoke test of each capability (both databases), in well under 2 minutes.
test-fast: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -m "(pure or smoke) and not slow" $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/authorize.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info huabei.db huabei.db-wal huabei.db-shm
