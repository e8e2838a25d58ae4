# Statements Q&A — `make run` starts the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 7860
# torch is pinned to the CPU build (an unpinned torch pulls several GB of CUDA packages).
# pip says nothing but errors (-qq); each step prints one line of its own instead.
PIP    := $(BIN)/python -m pip install -qq --disable-pip-version-check --progress-bar off -c constraints.txt
LINTED := rag ingest ui tests evals benchmarks

.PHONY: run test install install-test install-llm chromium lint lint-only bench evals clean

$(BIN)/python:
	@echo "Creating $(VENV)…"
	@$(PYTHON) -m venv $(VENV)

$(VENV)/.torch: $(BIN)/python constraints.txt
	@echo "Installing PyTorch 2.13.0 (CPU build) into $(VENV) (a few minutes)…"
	@$(PIP) torch==2.13.0
	@touch $@

# Installed again only when pyproject.toml or constraints.txt change (the stamps), so a
# second `make run` starts the app in seconds. pip byte-compiles the packages it installs
# but not an editable project's own modules, and with PYTHONDONTWRITEBYTECODE=1 Python never
# caches them: every `rag ask` would compile ~50 of them again (a tenth of its CPU time).
COMPILE := $(BIN)/python -m compileall -q rag ingest ui

$(VENV)/.installed: $(VENV)/.torch pyproject.toml constraints.txt
	@echo "Installing Statements Q&A and its dependencies into $(VENV)…"
	@$(PIP) -e .
	@$(COMPILE)
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.torch pyproject.toml constraints.txt
	@echo "Installing Statements Q&A with its test and lint tools into $(VENV)…"
	@$(PIP) -e ".[dev]"
	@$(COMPILE)
	@touch $@ $(VENV)/.installed

# the optional LLM answers' packages, only when asked: `make run LLM=1` (or `make install-llm`)
$(VENV)/.installed-llm: $(VENV)/.installed
	@echo "Installing the LLM extra (langchain, langchain-openai) into $(VENV)…"
	@$(PIP) -e ".[llm]"
	@touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-dev

install-llm: $(VENV)/.installed-llm

# Headless Chromium from Debian for the browser tests (Playwright's own download is not used).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

run: install $(if $(LLM),install-llm)
	@$(BIN)/rag ui --host $(HOST) --port $(PORT)

test: install-test chromium
	$(MAKE) --no-print-directory lint-only
	$(BIN)/python -m pytest tests evals

evals: install-test
	$(BIN)/python -m pytest evals

lint: install-test
	$(MAKE) --no-print-directory lint-only

# ruff and mypy are pinned in pyproject.toml's dev extra, so CI lints like a developer.
lint-only:
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy rag ingest

bench: install-test
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache test-artifacts evals/reports
