"""Each function declares its one operation and nothing else: no router, no route string, no one else's imports."""

import ast
import json
import os
import subprocess
import sys

import pytest

from dev.template import REPO_ROOT
from tests.catalogue import HTTP_OPERATIONS, OPERATIONS, SERVERPOD_ENDPOINTS, TEMPLATE, Operation

LAYER = REPO_ROOT / "layers" / "actionlog"
ENTRY_POINT_MODULES = {"actionlog.http", "actionlog.serverpod", "actionlog.ingest"}


def imported_at_cold_start(operation: Operation) -> set[str]:
    """The modules a fresh interpreter holds once it imported the function's handler, as Lambda does at init."""
    program = "import json, sys; import app; print(json.dumps(sorted(sys.modules)))"
    pythonpath = os.pathsep.join([str(operation.function.code_dir), str(LAYER), *sys.path])
    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=operation.function.code_dir,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": pythonpath},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(json.loads(result.stdout))


def needs(operation: Operation) -> set[str]:
    """The entry-point modules a function's own path goes through."""
    if operation in SERVERPOD_ENDPOINTS:
        return {"actionlog.http", "actionlog.serverpod"}
    if operation in HTTP_OPERATIONS:
        return {"actionlog.http"}
    if "SQS" in operation.function.event_types:
        return {"actionlog.ingest"}
    return set()


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_a_cold_start_imports_only_what_the_functions_path_uses(operation: Operation) -> None:
    modules = imported_at_cold_start(operation)

    # Never at a cold start: Powertools' event handler imports every resolver (~150 ms); boto3 and botocore's
    # clients ~400 ms (only a configured secret needs them, on first use: Powertools itself only looks for the
    # botocore package, to tag its user agent); a tracer's SDK ~700 ms (`Tracing: Active` needs none).
    unused = ("aws_lambda_powertools.event_handler", "boto3", "botocore.", "aws_xray_sdk")
    assert {name for name in modules if name.startswith(unused)} == set()
    assert modules & ENTRY_POINT_MODULES == needs(operation)


def route_segments() -> set[str]:
    """Every literal segment of the template's routes, as a route string would hold it: "/users", "/health", ..."""
    return {f"/{segment}" for route in TEMPLATE.routes for segment in route.path.split("/")[1:] if "{" not in segment}


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_no_handler_holds_a_route_string(operation: Operation) -> None:
    source = (operation.function.code_dir / "app.py").read_text()

    strings = [node.value for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Constant)]
    found = {segment for text in strings if isinstance(text, str) for segment in route_segments() if segment in text}
    assert found == set(), "API Gateway routes from template.yaml; a handler reads its path parameters"


def test_the_openapi_generator_keeps_no_table_of_its_own_about_any_function() -> None:
    generator = (REPO_ROOT / "dev" / "openapi.py").read_text()

    for operation in OPERATIONS:
        assert operation.name not in generator
        assert operation.function.logical_id not in generator
