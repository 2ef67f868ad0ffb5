# Everything a developer or CI runs. `make run` and `make test` bootstrap their own virtualenvs.
PYTHON ?= python3.13
VENV := .venv
SAM_VENV := .venv-sam
BIN := $(VENV)/bin
SAM := $(abspath $(SAM_VENV)/bin/sam)
PORT ?= 3000
FUNCTION ?= HealthCheckFunction
EVENT ?= events/health_check.json

.PHONY: run invoke test lint bench build deploy validate openapi clean

# Both run the functions under AWS's Runtime Interface Emulator, which comes with the SAM CLI (.venv-sam).
# PARAMETERS: template parameters as Key=Value pairs, e.g. PARAMETERS="CorsAllowedOrigins=http://localhost:8080".
# VERBOSE=1: the functions' logs and Lambda's START/END/REPORT lines too, not only one line per request.
run: $(VENV)/.installed $(SAM_VENV)/.installed  ## Start the API on http://127.0.0.1:$(PORT) without Docker
	$(BIN)/python -m dev.local_api --port $(PORT) $(if $(VERBOSE),--verbose) --parameter-overrides $(PARAMETERS)

# While `make run` runs, its Redis (dev/running_api.py); otherwise a throwaway one. It says which.
invoke: $(VENV)/.installed $(SAM_VENV)/.installed  ## Invoke one function with an event file, like `sam local invoke`
	$(BIN)/python -m dev.invoke $(FUNCTION) -e $(EVENT) --parameter-overrides $(PARAMETERS)

test: $(VENV)/.installed $(SAM_VENV)/.installed lint  ## Lint, type-check and run every test
	SAM_CLI=$(SAM) $(BIN)/python -m pytest $(PYTEST_ARGS)

# cfn-lint with awslabs' Serverless Rules runs in the tests (tests/deploy/test_template.py), from .venv-sam.
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

openapi: $(VENV)/.installed $(SAM_VENV)/.installed ; $(BIN)/python -m dev.openapi

bench: $(VENV)/.installed $(SAM_VENV)/.installed  ## Benchmarks against a real redis-server; writes bench/RESULTS.md
	SAM_CLI=$(SAM) $(BIN)/python -m bench

validate: $(SAM_VENV)/.installed
	$(SAM) validate --lint

# The layer ships arm64 wheels and compiled bytecode however it is built (layers/actionlog/Makefile).
build: $(SAM_VENV)/.installed $(VENV)/.installed  ## sam build: the functions and the layer, into .aws-sam/build
	PATH=$(abspath $(BIN)):$$PATH $(SAM) build

# samconfig.toml holds the stack name and deployment settings; PARAMETERS (Key=Value ...) replace its
# parameter_overrides. The first time, `$(SAM) deploy --guided` asks for each parameter instead.
deploy: build  ## sam deploy with samconfig.toml (README: Deploy)
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

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
