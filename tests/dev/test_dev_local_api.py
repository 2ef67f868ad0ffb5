"""`python -m dev.local_api`: the template's HTTP API served locally, end to end, with the embedded Redis."""

import json
import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from dev.template import REPO_ROOT
from dev.token import mint

STARTUP_TIMEOUT_SECONDS = 10


@dataclass
class Reply:
    status: int
    headers: Message
    body: Any


@dataclass
class LocalApiProcess:
    process: subprocess.Popen[str]
    url: str
    log_path: Path

    def call(self, method: str, path: str, body: Any = None, *, token: str | None = None) -> Reply:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return Reply(response.status, response.headers, json.loads(response.read()))
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.headers, json.loads(error.read()))

    def log_records(self) -> list[dict[str, Any]]:
        """The JSON lines of the log: what the functions logged through Powertools."""
        lines = self.log_path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]


def start_local_api(environment: dict[str, str], log_path: Path) -> LocalApiProcess:
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "dev.local_api", "--port", "0"],
            cwd=REPO_ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    # The banner's first line names the URL; read it on a thread so that a server that never prints cannot hang us.
    stdout = process.stdout
    assert stdout is not None
    first_line: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: first_line.put(stdout.readline()), daemon=True).start()
    try:
        banner = first_line.get(timeout=STARTUP_TIMEOUT_SECONDS)
    except queue.Empty:
        process.kill()
        pytest.fail(f"the local API did not start: {log_path.read_text()}")
    found = re.search(r"http://127\.0\.0\.1:\d+", banner)
    assert found, banner
    return LocalApiProcess(process, found.group(0), log_path)


def stop(server: LocalApiProcess) -> int:
    server.process.send_signal(signal.SIGTERM)
    try:
        return server.process.wait(timeout=10)
    finally:
        server.process.kill()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, local_environment: dict[str, str]) -> Iterator[LocalApiProcess]:
    # Powertools then logs every event, with its cold_start flag: the functions' own view of their container.
    environment = {**local_environment, "POWERTOOLS_LOGGER_LOG_EVENT": "true"}
    server = start_local_api(environment, tmp_path_factory.mktemp("local_api") / "stderr.log")
    yield server
    stop(server)


def test_health_answers_ok_from_the_embedded_redis(api: LocalApiProcess) -> None:
    reply = api.call("GET", "/health")

    assert reply.status == 200
    assert reply.body["status"] == "ok"
    assert reply.headers["Apigw-Requestid"]


def test_logged_actions_are_read_back_newest_first(api: LocalApiProcess) -> None:
    first = api.call("POST", "/users/123/actions", {"action": "login"})
    second = api.call("POST", "/users/123/actions", {"action": "view_profile", "metadata": {"page": 2}})

    reply = api.call("GET", "/users/123/actions?limit=2")

    assert (first.status, second.status) == (201, 201)
    assert first.body["entry"]["action"] == "login"
    assert reply.status == 200
    assert [entry["action"] for entry in reply.body["actions"]] == ["view_profile", "login"]
    assert reply.body["actions"][0]["metadata"] == {"page": 2}


def test_a_path_no_route_has_is_404(api: LocalApiProcess) -> None:
    reply = api.call("GET", "/users/123/nothing")

    assert (reply.status, reply.body) == (404, {"message": "Not Found"})


def test_a_method_the_path_has_no_route_for_is_405(api: LocalApiProcess) -> None:
    reply = api.call("PATCH", "/users/123/actions", {"action": "login"})

    assert reply.status == 405
    assert reply.body == {"message": "Method Not Allowed"}
    assert reply.headers["Allow"] == "DELETE, GET, POST"


def test_a_function_stays_warm_between_requests(api: LocalApiProcess) -> None:
    # Given two requests to the same function (the only test that uses it)
    for _ in range(2):
        assert api.call("DELETE", "/users/warm-check/actions").status == 200

    # Then Powertools in the function saw a cold start first and a warm container after
    cold_start_flags = [
        record["cold_start"]
        for record in api.log_records()
        if record.get("function_name") == "ClearUserActionsFunction" and isinstance(record.get("message"), dict)
    ]
    assert cold_start_flags == [True, False]


def test_a_token_for_another_user_is_forbidden(api: LocalApiProcess) -> None:
    reply = api.call("GET", "/users/123/actions", token=mint({"sub": "999"}))

    assert reply.status == 403
    assert reply.body["message"]


def test_a_token_for_the_user_is_let_through(api: LocalApiProcess) -> None:
    reply = api.call("POST", "/users/123/actions", {"action": "token_login"}, token=mint({"sub": "123"}))

    assert reply.status == 201


def test_a_token_with_the_cache_scope_can_write_and_read_the_cache(api: LocalApiProcess) -> None:
    token = mint({"sub": "123", "scope": "actionlog/cache"})

    written = api.call("PUT", "/cache/session:x", {"value": {"theme": "dark"}, "ttlSeconds": 60}, token=token)
    read = api.call("GET", "/cache/session%3Ax", token=token)  # an encoded colon reaches the handler decoded

    assert written.status == 200
    assert read.status == 200
    assert read.body["key"] == "session:x"
    assert read.body["value"] == {"theme": "dark"}
    assert 0 < read.body["ttlSeconds"] <= 60


def test_a_token_without_the_cache_scope_is_forbidden_the_cache(api: LocalApiProcess) -> None:
    reply = api.call("GET", "/cache/session:x", token=mint({"sub": "123", "scope": "openid"}))

    assert reply.status == 403


def test_a_malformed_token_is_refused_before_the_function_runs(api: LocalApiProcess) -> None:
    reply = api.call("GET", "/users/123/actions", token="not-a-jwt")

    assert reply.status == 401
    assert reply.body == {"message": "Unauthorized"}
    assert 'error="invalid_token"' in reply.headers["WWW-Authenticate"]


def test_each_request_is_logged_on_one_line(api: LocalApiProcess) -> None:
    api.call("GET", "/health?probe=1")

    lines = [line for line in api.log_path.read_text().splitlines() if line.startswith("GET /health ")]
    assert re.fullmatch(r"GET /health 200 \d+ ms HealthCheckFunction \((warm|cold start, init \d+ ms)\)", lines[-1])


def test_sigterm_stops_the_server_cleanly(tmp_path: Path, local_environment: dict[str, str]) -> None:
    server = start_local_api(local_environment, tmp_path / "stderr.log")
    assert server.call("GET", "/health").status == 200

    exit_code = stop(server)

    assert exit_code == 0
    assert "Stopping." in server.log_path.read_text()
