# ct_pipeline — the commands. `make demo` and `make test` do all the set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: demo test dev lint bench venv browser clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip uv
	@# --compile-bytecode: the libraries' .pyc written once here. Without them every process compiles
	@# what it imports (great_expectations 6.9 -> 2.9 s, pandera 1.4 -> 0.5 s measured), and a
	@# machine with PYTHONDONTWRITEBYTECODE set, or a read-only environment, pays it on every run.
	@$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# Debian's Chromium renders PNG charts (kaleido) and runs the browser tests; installed when we can.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium (for PNG charts and browser tests)…"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "Could not install chromium: PNG charts will be skipped, HTML still written."; \
	  else echo "No chromium and not root: PNG charts will be skipped, HTML still written."; fi; }

demo: $(STAMP) browser
	@$(BIN)/ct-pipeline demo

test: $(STAMP) browser
	@$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

dev: $(STAMP)
	@mkdir -p $(DAGSTER_HOME) && cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	@$(BIN)/dagster instance migrate >/dev/null  # create storage once, before two services race
	@$(BIN)/dagster dev -m assets.definitions -h 127.0.0.1 -p 3000

lint: $(STAMP)
	@$(BIN)/ruff check ct_pipeline assets tests

bench: $(STAMP)
	@$(BIN)/ct-pipeline bench

clean:
	rm -rf $(VENV) .dagster_home
