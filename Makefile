# Statements Q&A — `make run` starts the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 7860
# torch is pinned to the CPU build (an unpinned torch pulls several GB of CUDA packages):
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: run test install install-test chromium lint bench evals clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.torch: $(BIN)/python constraints.txt
	$(PIP) torch==2.13.0
	@touch $@

install: $(VENV)/.torch
	$(PIP) -e .

install-test: $(VENV)/.torch
	$(PIP) -e ".[dev]"

# Headless Chromium from Debian for the browser tests (Playwright's own download is not used).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

run: install
	$(BIN)/rag ui --host $(HOST) --port $(PORT)

test: install-test chromium
	$(BIN)/python -m pytest tests evals

evals: install-test
	$(BIN)/python -m pytest evals

lint: install-test
	$(BIN)/ruff check rag ingest ui tests evals benchmarks
	$(BIN)/ruff format --check rag ingest ui tests evals benchmarks
	$(BIN)/mypy rag ingest

bench: install-test
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache test-artifacts evals/reports
