"""Stand-ins for the local tools' tests: a handler that reports what it sees, and routes to functions that are never
started (what the gateway and server tests route requests to)."""

from collections.abc import Callable
from pathlib import Path

from dev.template import Function, Route

type MakeFunction = Callable[..., Function]  # the make_function fixture of tests/dev/conftest.py

HANDLER = """
import importlib.util
import os
import re
import socket
import sys
import time

invocations = 0  # module state lives as long as the runtime: a warm container keeps it


def lambda_handler(event, context):
    global invocations
    invocations += 1
    print("a stray print goes to the log, not into the result")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("raise"):
        raise ValueError(event["raise"])
    if event.get("exit"):
        os._exit(3)
    return {
        "invocations": invocations,
        "pid": os.getpid(),
        "path": sys.path,
        "cwd": os.getcwd(),
        "importable": {name: importlib.util.find_spec(name) is not None for name in ("dev", "redis")},
        "environment": {name: os.environ.get(name) for name in event.get("variables", [])},
        "functionName": context.function_name,
        "remainingMs": context.get_remaining_time_in_millis(),
        "requestId": context.aws_request_id,
    }
"""


def stub_route(
    method: str,
    path: str,
    authorizer: str | None = "JwtAuthorizer",
    scopes: tuple[str, ...] = (),
    function_name: str | None = None,
) -> Route:
    function = Function(
        logical_id=function_name or f"{method.title()}{len(path)}Function",
        code_dir=Path("/nowhere"),
        handler="app.lambda_handler",
        layer_dirs=(),
        timeout_seconds=3,
        memory_mb=128,
        environment={},
        description="",
        event_types=frozenset({"HttpApi"}),
        log_format="Text",
        log_level=None,
    )
    return Route(function=function, method=method, path=path, authorizer=authorizer, scopes=scopes)
