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
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: venv sam mlflow dev test unit integration e2e lint template build deploy bench soak figures clean

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

venv: $(STAMP)

sam: $(SAM_STAMP)

mlflow: $(MLFLOW_STAMP)  ## a real MLflow server for the tests of the MLflow source

dev: venv  ## run the local runtime: moto + the API on http://127.0.0.1:3000
	$(BIN)/mlhooks dev

test: venv mlflow lint template  ## the whole suite, the template checks and a container-free sam build
	$(BIN)/python -m pytest

unit: venv
	$(BIN)/python -m pytest tests/unit

integration: venv
	$(BIN)/python -m pytest tests/integration

e2e: venv mlflow
	$(BIN)/python -m pytest tests/e2e

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

template: venv sam  ## sam validate --lint, then sam build without a container
	$(SAM) validate --lint --region $(AWS_DEFAULT_REGION)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(SAM) build --build-dir .aws-sam/build

build: template

deploy: build
	$(SAM) deploy --guided

bench: venv
	cd bench && ../$(BIN)/python matcher_cost.py && ../$(BIN)/python run_metrics_cost.py \
		&& ../$(BIN)/python sender_cost.py

soak: venv  ## the load suite at full size: 1,000 events, 10,000 deliveries
	MLHOOKS_LOAD_EVENTS=1000 $(BIN)/python -m pytest tests/reliability/test_load.py -s

figures: venv  ## run the hardening suites (full load) and write docs/reliability.md from the results
	MLHOOKS_FIGURES=.mlhooks/figures.json MLHOOKS_LOAD_EVENTS=1000 $(BIN)/python -m pytest -m suite -q
	$(BIN)/python bench/reliability_report.py .mlhooks/figures.json docs/reliability.md

clean:
	rm -rf $(VENV) $(SAM_VENV) $(MLFLOW_VENV) .aws-sam .pytest_cache .ruff_cache .mlhooks
