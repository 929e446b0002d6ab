# The few commands a newcomer needs. `make run` and `make test` work on a fresh machine.
VENV ?= .venv
PIP := $(VENV)/bin/pip
BIN := $(VENV)/bin
PYTHON ?= python3
SAMPLE ?= examples

.PHONY: install run ingest serve test lint format bench clean chromium backstage-harness

$(VENV)/.installed: pyproject.toml scripts/install-llamacpp.sh
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# torch first and pinned: anything that pulls it in unpinned gets a multi-GB CUDA build.
	$(PIP) install --quiet torch==2.13.0
	bash scripts/install-llamacpp.sh $(VENV)
	$(PIP) install --quiet -e '.[llamacpp,dev]'
	touch $@

install: $(VENV)/.installed

## Ingest the bundled sample catalog and serve the chat page and API on http://127.0.0.1:8000/
run: install ingest serve

ingest: install
	$(BIN)/assistant ingest --source $(SAMPLE)

serve: install
	$(BIN)/assistant serve

## The browser tests drive Debian's chromium (Playwright never downloads a browser of its own here)
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

## A real Backstage backend for the ingest and permission tests: npm packages from the lockfile (better-sqlite3 compiles
## against the system's Node headers), and mkdocs-techdocs-core in its own venv for TechDocs builds.
HARNESS := tests/backstage
$(HARNESS)/node_modules/.installed: $(HARNESS)/package.json $(HARNESS)/package-lock.json
	cd $(HARNESS) && npm_config_nodedir=/usr npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(HARNESS)/.mkdocs/.installed:
	$(PYTHON) -m venv $(HARNESS)/.mkdocs
	$(HARNESS)/.mkdocs/bin/pip install --quiet mkdocs-techdocs-core==1.7.1
	touch $@

backstage-harness: $(HARNESS)/node_modules/.installed $(HARNESS)/.mkdocs/.installed

## Lint, check the shipped prompts, and run every test (real Chroma, MiniLM, llama.cpp, Backstage, Chromium)
test: install chromium backstage-harness
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/assistant prompts check
	$(BIN)/python -m pytest

## Benchmarks: retrieval quality and latency at 10k entities / 50k chunks, streaming overhead, then load
bench: install
	$(BIN)/python benchmarks/retrieval.py
	$(BIN)/python benchmarks/stream_overhead.py
	$(BIN)/python benchmarks/load.py
	$(BIN)/python benchmarks/ingest.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) data .pytest_cache $(HARNESS)/node_modules $(HARNESS)/.mkdocs
