# Two commands matter on a fresh machine: `make dev` (run mlhooks locally) and `make test`.
PYTHON ?= python3.12
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed
MLFLOW_VENV := .venv-mlflow
MLFLOW_STAMP := $(MLFLOW_VENV)/.installed
# The console's third-party code (Preact, htm), pinned in tools/console/package-lock.json.
CONSOLE_VENDOR := functions/console/static/vendor
CONSOLE_STAMP := $(CONSOLE_VENDOR)/.built
# The browser the console's tests drive (Playwright through executable_path): Debian's package.
CHROMIUM := /usr/bin/chromium
# Installing Debian packages needs root; elsewhere sudo asks.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: venv sam mlflow console browser screenshots dev test unit integration e2e lint template build deploy bench cost soak figures clean

$(STAMP): pyproject.toml layers/mlhooks/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,cli]'
	touch $(STAMP)

$(SAM_STAMP): tools/sam-requirements.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet -r tools/sam-requirements.txt
	touch $(SAM_STAMP)

$(MLFLOW_STAMP): tools/mlflow-requirements.txt
	$(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MLFLOW_VENV)/bin/python -m pip install --quiet -r tools/mlflow-requirements.txt
	touch $(MLFLOW_STAMP)

$(CONSOLE_STAMP): tools/console/package.json tools/console/package-lock.json
	command -v npm >/dev/null || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nodejs npm)
	cd tools/console && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	rm -rf $(CONSOLE_VENDOR) && mkdir -p $(CONSOLE_VENDOR)
	cp tools/console/node_modules/preact/dist/preact.mjs tools/console/node_modules/preact/hooks/dist/hooks.mjs \
		tools/console/node_modules/htm/dist/htm.mjs $(CONSOLE_VENDOR)/
	cat tools/console/node_modules/preact/LICENSE tools/console/node_modules/htm/LICENSE > $(CONSOLE_VENDOR)/LICENSES.txt
	touch $(CONSOLE_STAMP)

$(CHROMIUM):
	$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium

venv: $(STAMP)

console: $(CONSOLE_STAMP)  ## the web console's pinned scripts, into functions/console/static/vendor

browser: $(CHROMIUM)  ## Debian's chromium, for the console's browser tests

sam: $(SAM_STAMP)

mlflow: $(MLFLOW_STAMP)  ## a real MLflow server for the tests of the MLflow source

dev: venv console  ## run the local runtime: moto + the API on http://127.0.0.1:3000
	$(BIN)/mlhooks dev

test: venv mlflow console browser lint template  ## the whole suite, the template checks and a container-free sam build
	$(BIN)/python -m pytest

unit: venv
	$(BIN)/python -m pytest tests/unit

integration: venv
	$(BIN)/python -m pytest tests/integration

e2e: venv mlflow console browser
	$(BIN)/python -m pytest tests/e2e

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

template: venv sam console  ## sam validate --lint, then sam build without a container
	$(SAM) validate --lint --region $(AWS_DEFAULT_REGION)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(SAM) build --build-dir .aws-sam/build

build: template

deploy: build
	$(SAM) deploy --guided

screenshots: venv console browser  ## the console's browser tests; the README's two pictures into docs/images
	$(BIN)/python -m pytest -q tests/e2e/console
	cp build/screenshots/automations-list.png docs/images/console-automations.png
	cp build/screenshots/readme-execution.png docs/images/console-execution.png

bench: venv  ## the benchmarks' tables: matcher and sender costs, each function's cold start
	cd bench && ../$(BIN)/python matcher_cost.py && ../$(BIN)/python run_metrics_cost.py \
		&& ../$(BIN)/python sender_cost.py && ../$(BIN)/python cold_start.py

cost: venv  ## measure a run on moto and write docs/cost.md (and docs/cost-run.json) from it
	$(BIN)/python bench/cost_model.py

soak: venv  ## the load suite at full size: 1,000 events, 10,000 deliveries
	MLHOOKS_LOAD_EVENTS=1000 $(BIN)/python -m pytest tests/reliability/test_load.py -s

figures: venv  ## run the hardening suites (full load) and write docs/reliability.md from the results
	MLHOOKS_FIGURES=.mlhooks/figures.json MLHOOKS_LOAD_EVENTS=1000 $(BIN)/python -m pytest -m suite -q
	$(BIN)/python bench/reliability_report.py .mlhooks/figures.json docs/reliability.md

clean:
	rm -rf $(VENV) $(SAM_VENV) $(MLFLOW_VENV) $(CONSOLE_VENDOR) tools/console/node_modules .aws-sam .pytest_cache .ruff_cache .mlhooks
