# Everything a developer or CI runs. `make run` and `make test` bootstrap their own virtualenvs.
PYTHON ?= python3.13
VENV := .venv
SAM_VENV := .venv-sam
SCAN_VENV := .venv-scan
BIN := $(VENV)/bin
SAM := $(abspath $(SAM_VENV)/bin/sam)
PORT ?= 3000
FUNCTION ?= HealthCheckFunction
EVENT ?= events/health_check.json

.PHONY: run invoke test lint scan bench build deploy validate openapi clean

# Both run the functions under AWS's Runtime Interface Emulator, which comes with the SAM CLI (.venv-sam).
# PARAMETERS: template parameters as Key=Value pairs, e.g. PARAMETERS="CorsAllowedOrigins=http://localhost:8080".
# VERBOSE=1: the functions' logs and Lambda's START/END/REPORT lines too, not only one line per request.
run: $(VENV)/.installed $(SAM_VENV)/.installed  ## Start the API on http://127.0.0.1:$(PORT) without Docker
	$(BIN)/python -m dev.local_api --port $(PORT) $(if $(VERBOSE),--verbose) --parameter-overrides $(PARAMETERS)

# While `make run` runs, its Redis (dev/running_api.py); otherwise a throwaway one. It says which.
invoke: $(VENV)/.installed $(SAM_VENV)/.installed  ## Invoke one function with an event file, like `sam local invoke`
	$(BIN)/python -m dev.invoke $(FUNCTION) -e $(EVENT) --parameter-overrides $(PARAMETERS)

test: $(VENV)/.installed $(SAM_VENV)/.installed lint scan  ## Lint, type-check, scan the template and run every test
	SAM_CLI=$(SAM) $(BIN)/python -m pytest $(PYTEST_ARGS)

# checkov's findings on template.yaml: each one is fixed or skipped on its resource with a reason
# (Metadata: checkov: skip), so any new finding fails the build. --skip-download: offline, no account.
scan: $(SCAN_VENV)/.installed
	$(SCAN_VENV)/bin/checkov --file template.yaml --framework cloudformation --skip-download --quiet --compact

# cfn-lint with awslabs' Serverless Rules runs in the tests (tests/deploy/test_template.py), from .venv-sam.
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

openapi: $(VENV)/.installed $(SAM_VENV)/.installed ; $(BIN)/python -m dev.openapi

# Fails when a target is missed or undecided (`python -m bench --help` says how each is judged). The results are
# printed; RECORD=1 writes them to bench/RESULTS.md as well.
bench: $(VENV)/.installed $(SAM_VENV)/.installed  ## Benchmarks against a real redis-server; RECORD=1 keeps the results
	SAM_CLI=$(SAM) $(BIN)/python -m bench $(if $(filter 1,$(RECORD)),--record)

validate: $(SAM_VENV)/.installed
	$(SAM) validate --lint

# The layer ships arm64 wheels and compiled bytecode however it is built (layers/actionlog/Makefile).
build: $(SAM_VENV)/.installed $(VENV)/.installed  ## sam build: the functions and the layer, into .aws-sam/build
	PATH=$(abspath $(BIN)):$$PATH $(SAM) build

# samconfig.toml holds the stack name and deployment settings; PARAMETERS (Key=Value ...) replace its
# parameter_overrides. The first time, `$(SAM) deploy --guided` asks for each parameter instead.
deploy: build  ## sam deploy with samconfig.toml (docs/deploy.md)
	$(SAM) deploy $(if $(PARAMETERS),--parameter-overrides $(PARAMETERS))

# The first `make run` or `make test` creates both virtualenvs (a minute or two), saying what it does and letting pip
# show what it fetches; later runs go straight on.
$(VENV)/.installed: pyproject.toml layers/actionlog/requirements.txt
	@echo "==> [1/2] $(VENV): the layer's dependencies and the tools (pytest, ruff, mypy, awslambdaric)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==26.3
	$(BIN)/python -m pip install --progress-bar on -r layers/actionlog/requirements.txt --group dev
	touch $@
	@echo "==> [1/2] $(VENV) ready"

# aws-sam-cli pins its own pydantic and boto3, so it gets a virtualenv of its own.
$(SAM_VENV)/.installed: pyproject.toml
	@echo "==> [2/2] $(SAM_VENV): the SAM CLI (its template translator and Runtime Interface Emulator), cfn-lint"
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip==26.3
	$(SAM_VENV)/bin/python -m pip install --progress-bar on --group sam
	touch $@
	@echo "==> [2/2] $(SAM_VENV) ready"

# checkov pins its own dependencies, which clash with the SAM CLI's and the runtime's: a virtualenv of its own.
$(SCAN_VENV)/.installed: pyproject.toml
	test -x $(SCAN_VENV)/bin/python || $(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --upgrade pip==26.3
	$(SCAN_VENV)/bin/python -m pip install --quiet --group scan
	touch $@

clean:
	rm -rf $(VENV) $(SAM_VENV) $(SCAN_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
