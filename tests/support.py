"""What the tests share: a real redis-server they start themselves, events from events/, handler calls."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import pytest

import dev.redis_server
from dev.lambda_environment import lambda_context  # Lambda's own context object, for handlers called in this process

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
# CI sets both: there the real servers and the SAM CLI must be installed, and no test may skip for want of them.
REQUIRE_REDIS_SERVER = "ACTIONLOG_REQUIRE_REDIS_SERVER"
REQUIRE_SAM = "ACTIONLOG_REQUIRE_SAM"
free_port = dev.redis_server.free_port


def unavailable(reason: str, requirement: str) -> NoReturn:
    """Skip the test for want of a part, or fail it when `requirement` (REQUIRE_...) is set to 1."""
    if os.environ.get(requirement) == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def redis_server_binary() -> str:
    """The redis-server binary, or a skip (a failure when CI demands real servers)."""
    if shutil.which("redis-server") is None:
        reason = "redis-server is not installed (apt-get install -y redis-server); real-Redis tests cannot run"
        unavailable(reason, REQUIRE_REDIS_SERVER)
    return dev.redis_server.redis_server_binary()


class RedisServer(dev.redis_server.ThrowawayRedisServer):
    """The tests' redis-server: dev.redis_server.ThrowawayRedisServer, whose start skips the test (or fails it under
    CI) where redis-server is missing."""

    def start(self) -> RedisServer:
        redis_server_binary()
        super().start()
        return self


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def handler_module(operation: str) -> ModuleType:
    """functions/<operation>/app.py, imported once per test session like a warm container."""
    return importlib.import_module(f"functions.{operation}.app")


def invoke(operation: str, event: dict[str, Any]) -> dict[str, Any]:
    """Call a handler as Lambda does and return its response with the body decoded."""
    response: dict[str, Any] = handler_module(operation).lambda_handler(event, lambda_context())
    return {**response, "json": json.loads(response["body"]) if response.get("body") else None}


def with_body(event: dict[str, Any], body: Any) -> dict[str, Any]:
    """The event with another body: a str is sent as is, anything else as JSON."""
    return {**event, "body": body if isinstance(body, str) else json.dumps(body), "isBase64Encoded": False}


def with_path(event: dict[str, Any], raw_path: str, **parameters: str) -> dict[str, Any]:
    context = {**event["requestContext"], "http": {**event["requestContext"]["http"], "path": raw_path}}
    return {**event, "rawPath": raw_path, "pathParameters": parameters, "requestContext": context}


def with_query(event: dict[str, Any], **query: str) -> dict[str, Any]:
    raw = "&".join(f"{name}={value}" for name, value in query.items())
    return {**event, "queryStringParameters": query, "rawQueryString": raw}


def with_caller(
    event: dict[str, Any], claims: dict[str, Any] | None, scopes: list[str] | None = None
) -> dict[str, Any]:
    """The event as API Gateway passes it for a caller with these JWT claims (None: no authorizer)."""
    context = {key: value for key, value in event["requestContext"].items() if key != "authorizer"}
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": scopes}}
    return {**event, "requestContext": context}


# The containers that race one another test the cap and atomicity, at rates no user may reach: no rate limits.
WARM_CONTAINER = {
    "AUTH_REQUIRED": "false",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "RATE_LIMIT_WRITES": "0",
    "RATE_LIMIT_READS": "0",
}


def log_actions_as_a_warm_container(redis_url: str, user_id: str, writer: str, count: int) -> list[int]:
    """Run in a separate process: one warm log_action handler logging `count` actions; returns the statuses."""
    os.environ.update({"REDIS_URL": redis_url, **WARM_CONTAINER})
    event = with_caller(with_path(load_event("log_action.json"), f"/users/{user_id}/actions", userId=user_id), None)
    statuses = []
    for sequence in range(count):
        body = {"action": "tap", "metadata": {"writer": writer, "sequence": sequence}}
        statuses.append(invoke("log_action", with_body(event, body))["statusCode"])
    return statuses


def write_users_as_a_warm_container(redis_url: str, writer: str, users: list[str], rounds: int) -> int:
    """Run in a separate process: log `rounds` actions to each of `users`, interleaved; returns how many 201s."""
    os.environ.update({"REDIS_URL": redis_url, **WARM_CONTAINER})
    base = with_caller(load_event("log_action.json"), None)
    created = 0
    for sequence in range(rounds):
        for user in users:
            event = with_path(base, f"/users/{user}/actions", userId=user)
            body = {"action": "tap", "metadata": {"writer": writer, "sequence": sequence}}
            created += invoke("log_action", with_body(event, body))["statusCode"] == 201
    return created


def read_users_as_a_warm_container(redis_url: str, users: list[str], reads: int, limit: int) -> tuple[int, int]:
    """Run in a separate process: read `users` repeatedly; returns (largest count seen, duplicate ids seen)."""
    os.environ.update({"REDIS_URL": redis_url, **WARM_CONTAINER})
    base = with_query(with_caller(load_event("get_user_actions.json"), None), limit=str(limit))
    largest = duplicates = 0
    for number in range(reads):
        user = users[number % len(users)]
        body = invoke("get_user_actions", with_path(base, f"/users/{user}/actions", userId=user))["json"]
        ids = [entry["id"] for entry in body["actions"]]
        largest = max(largest, body["count"])
        duplicates += len(ids) - len(set(ids))
    return largest, duplicates


class FlakyProxy:
    """A loopback TCP proxy to a real Redis that fails, as a server or network would, after N client requests.

    `failure="close"`: every connection is closed and the port refuses new ones (Redis died).
    `failure="stall"`: connections stay open but nothing is answered any more, new ones included
    (Redis hung, or a network path black-holed mid-stream). Without a target it is a black hole from the start.
    """

    def __init__(self, target_port: int | None, *, cut_after_requests: int = 0, failure: str = "stall") -> None:
        assert failure in ("close", "stall")
        self._target_port = target_port
        self._budget = cut_after_requests
        self._failure = failure
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._failed = threading.Event()
        self._closed = threading.Event()
        if target_port is None:
            self._failed.set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def __enter__(self) -> FlakyProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._failed.set()
        self._closed.set()
        with self._lock:
            for sock in [self._listener, *self._sockets]:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def _fail(self) -> None:
        if self._failure == "close":
            self.close()
        else:
            self._failed.set()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._sockets.append(client)
            if self._failed.is_set():
                continue  # a stalled server still accepts, and never answers
            assert self._target_port is not None
            upstream = socket.create_connection(("127.0.0.1", self._target_port))
            with self._lock:
                self._sockets.append(upstream)
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, is_request: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if is_request:
                    with self._lock:
                        self._budget -= 1
                        exhausted = self._budget < 0
                    if exhausted:
                        self._fail()
                if self._failed.is_set():
                    continue  # swallowed: the request never reaches Redis, or the reply never returns
                sink.sendall(chunk)
        except OSError:
            return


def emitted_metrics(output: str) -> dict[str, list[float]]:
    """The CloudWatch EMF metrics in captured stdout, by name, with their values."""
    found: dict[str, list[float]] = {}
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        if "_aws" not in document:
            continue
        for directive in document["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == "Actionlog"
            assert ["service"] in directive["Dimensions"]
            for metric in directive["Metrics"]:
                values = document[metric["Name"]]
                found.setdefault(metric["Name"], []).extend(values if isinstance(values, list) else [values])
    return found


# Passwords, tokens and cached values in the tests and events/ carry this marker; tests/conftest.py fails any
# test whose log output (stdout, stderr, logging) contains it.
NEVER_LOGGED = "NEVER-LOGGED"
AWS_REGION = "eu-west-1"  # where the tests' moto plays AWS


class TempEntries:
    """What this process makes directly in the temp directory under a name of the project's (actionlog-*), seen
    through Python's audit events: a test session checks at its end that none is left (tests/conftest.py).

    Processes the tests start (the local API, the benchmark) are not seen here; their tests check their own.
    """

    def __init__(self, prefix: str = "actionlog-") -> None:
        self.root = tempfile.gettempdir()
        self.prefix = os.path.join(self.root, prefix)
        self.made: set[str] = set()

    def record(self) -> None:
        """From now on, for the rest of the process (an audit hook cannot be removed)."""
        sys.addaudithook(self._audit)

    def left(self) -> list[str]:
        return sorted(path for path in self.made if os.path.lexists(path))

    def _audit(self, event: str, args: tuple[Any, ...]) -> None:
        # os.mkdir: tempfile.mkdtemp; open with O_CREAT: tempfile.mkstemp and the like. Called for every audited
        # event of the process: the cheap test first.
        if event not in ("os.mkdir", "open") or not args or not isinstance(args[0], str):
            return
        created = event == "os.mkdir" or (isinstance(args[2], int) and bool(args[2] & os.O_CREAT))
        if created and args[0].startswith(self.prefix):
            self.made.add(args[0])


class _CurrentStdout:
    """Writes to whatever sys.stdout is when a line is logged, as the Lambda runtime's stdout would receive it."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@contextlib.contextmanager
def logging_to_current_stdout() -> Iterator[None]:
    """Powertools' Logger keeps the stdout it saw at import, not the one capsys installs around each test: for the
    duration, its handler writes to the current stdout instead."""
    import logging

    from actionlog.observability import logger

    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(_CurrentStdout())  # type: ignore[arg-type]
    try:
        yield
    finally:
        handler.setStream(previous)
