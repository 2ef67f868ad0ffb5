"""`python -m dev.local_api`: the template's HTTP API served locally, end to end, with a Redis of its own."""

import contextlib
import http.client
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import Message
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest

import dev.local_api
from dev.gateway import HttpRequest
from dev.invocation import FunctionError, Invocation, InvocationTimedOut
from dev.local_api import LocalApi
from dev.running_api import DIRECTORY_VARIABLE
from dev.sam_cli import emulator_binary
from dev.template import REPO_ROOT, Cors, Template, load_template
from dev.token import mint
from tests.dev.stubs import stub_route
from tests.support import redis_server_binary

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
    banner: list[str]
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


def start_local_api(
    environment: dict[str, str], log_path: Path, *arguments: str, own_session: bool = False
) -> LocalApiProcess:
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "dev.local_api", "--port", "0", *arguments],
            cwd=REPO_ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            start_new_session=own_session,
        )
    # The banner's first line names the URL, its last one the AUTH_REQUIRED setting. Read on a thread, so that a
    # server that never prints cannot hang the test.
    stdout = process.stdout
    assert stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line.rstrip("\n")) for line in stdout], daemon=True).start()
    banner: list[str] = []
    try:
        while not banner or not banner[-1].startswith("AUTH_REQUIRED="):
            banner.append(lines.get(timeout=STARTUP_TIMEOUT_SECONDS))
    except queue.Empty:
        process.kill()
        pytest.fail(f"the local API did not start: {banner} {log_path.read_text()}")
    found = re.search(r"http://127\.0\.0\.1:\d+", banner[0])
    assert found, banner
    return LocalApiProcess(process, found.group(0), banner, log_path)


def stop(server: LocalApiProcess) -> int:
    server.process.send_signal(signal.SIGTERM)
    try:
        return server.process.wait(timeout=10)
    finally:
        server.process.kill()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, local_environment: dict[str, str]) -> Iterator[LocalApiProcess]:
    # Powertools then logs every event, with its cold_start flag: the functions' own view of their container, which
    # --verbose shows.
    environment = {**local_environment, "POWERTOOLS_LOGGER_LOG_EVENT": "true"}
    server = start_local_api(environment, tmp_path_factory.mktemp("local_api") / "stderr.log", "--verbose")
    yield server
    stop(server)


def test_the_banner_names_the_url_the_redis_the_runtime_and_the_routes(api: LocalApiProcess) -> None:
    assert api.banner[0] == f"Actionlog local API on {api.url}"
    assert re.fullmatch(r"  Redis: (redis-server|embedded fakeredis) on 127\.0\.0\.1:\d+ .*", api.banner[1])
    assert api.banner[2].startswith("  functions: ")
    assert re.fullmatch(
        r"  GET +/health +HealthCheckFunction \(public\)", next(line for line in api.banner if "/health " in line)
    )
    assert api.banner[-1] == "AUTH_REQUIRED=false: requests without a token are let through."


def test_the_functions_run_in_the_emulator_where_it_is_installed(api: LocalApiProcess, rie: Path) -> None:
    assert api.banner[2] == "  functions: AWS's Runtime Interface Emulator + awslambdaric"


def test_health_answers_ok_from_the_runs_redis(api: LocalApiProcess) -> None:
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


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Content-Length": str(10 * 1024 * 1024 + 1)}, 413),  # over API Gateway's payload limit, before it is sent
        ({"Transfer-Encoding": "chunked"}, 400),
        ({"Content-Length": "-1"}, 400),
        ({"Content-Length": "ten"}, 400),
    ],
)
def test_a_body_api_gateway_would_not_take_is_refused_before_any_function_runs(
    api: LocalApiProcess, headers: dict[str, str], status: int
) -> None:
    connection = http.client.HTTPConnection(api.url.removeprefix("http://"), timeout=10)
    try:
        connection.putrequest("POST", "/users/123/actions")
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        body = json.loads(response.read())
    finally:
        connection.close()

    assert (response.status, body) == (status, {"message": HTTPStatus(status).phrase})


def test_a_function_stays_warm_between_requests(api: LocalApiProcess, rie: Path) -> None:
    # Given two requests to the same function (the only test that uses it), each function in its own runtime
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
    before = api.log_path.read_text().count("\nGET /health ")

    api.call("GET", "/health?probe=1")

    # The line is written once the response is sent: wait for it
    deadline = time.monotonic() + 5
    while api.log_path.read_text().count("\nGET /health ") == before and time.monotonic() < deadline:
        time.sleep(0.01)
    lines = [line for line in api.log_path.read_text().splitlines() if line.startswith("GET /health ")]
    assert len(lines) == before + 1
    assert re.fullmatch(r"GET /health 200 \d+ ms HealthCheckFunction \((warm|cold start, init \d+ ms)\)", lines[-1])


def child_processes(pid: int) -> list[int]:
    """The processes `pid` started (its redis-server, its emulators), from /proc."""
    children = []
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            if f"\nPPid:\t{pid}\n" in status.read_text():
                children.append(int(status.parent.name))
    return children


def descendants(pid: int) -> list[int]:
    """The processes `pid` started, and theirs (an emulator's runtime), from /proc."""
    found, parents = [], [pid]
    while parents:
        children = child_processes(parents.pop())
        found += children
        parents += children
    return found


def running(pids: list[int]) -> list[int]:
    """Those of `pids` that still run (a zombie has finished: only its parent's wait is missing)."""
    alive = []
    for pid in pids:
        with contextlib.suppress(OSError):
            if "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text():
                alive.append(pid)
    return alive


def wait_until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("waited in vain")
        time.sleep(0.02)


def test_sigterm_stops_the_server_its_emulators_and_its_redis(
    tmp_path: Path, local_environment: dict[str, str]
) -> None:
    # Given a server that has answered a request: its Redis and the function's emulator run
    server = start_local_api(local_environment, tmp_path / "stderr.log")
    assert server.call("GET", "/health").status == 200
    redis_port = int(re.findall(r"127\.0\.0\.1:(\d+)", server.banner[1])[0])
    children = child_processes(server.process.pid)
    if shutil.which("redis-server") or emulator_binary():
        assert children

    # When it gets SIGTERM
    exit_code = stop(server)

    # Then it stops as on Ctrl-C, and leaves nothing behind
    assert exit_code == 0
    assert "Stopping." in server.log_path.read_text()
    assert [child for child in children if Path(f"/proc/{child}").exists()] == []
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", redis_port), timeout=1):
        pass


SLOW_TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  SlowFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: slow/
      Handler: app.lambda_handler
      Runtime: python3.13
      Timeout: 60
      Role: arn:aws:iam::123456789012:role/slow
      Events:
        Slow:
          Type: HttpApi
          Properties:
            Path: /slow
            Method: GET
"""

SLOW_HANDLER = """
import os
import pathlib
import time


def lambda_handler(event, context):
    pathlib.Path(os.environ["STARTED_MARKER"]).touch()
    time.sleep(50)
    return {"statusCode": 200, "body": "late"}
"""


def test_a_second_signal_while_it_stops_leaves_nothing_running(
    tmp_path: Path, local_environment: dict[str, str], rie: Path
) -> None:
    # Given a server, in a process group of its own, whose function is in the middle of a long invocation: its
    # redis-server, the function's emulator and the emulator's runtime all run
    (tmp_path / "slow").mkdir()
    (tmp_path / "slow" / "app.py").write_text(SLOW_HANDLER)
    (tmp_path / "template.yaml").write_text(SLOW_TEMPLATE)
    marker = tmp_path / "started"
    environment = {**local_environment, "STARTED_MARKER": str(marker)}
    arguments = ("-t", str(tmp_path / "template.yaml"))
    server = start_local_api(environment, tmp_path / "stderr.log", *arguments, own_session=True)

    def call_the_slow_function() -> None:
        with contextlib.suppress(OSError):  # the server stops before it answers
            server.call("GET", "/slow")

    threading.Thread(target=call_the_slow_function, daemon=True).start()
    started: list[int] = []
    try:
        wait_until(marker.exists)
        started = descendants(server.process.pid)
        redis_server = next(pid for pid in started if Path(f"/proc/{pid}/comm").read_text().strip() == "redis-server")
        redis_dir = Path(f"/proc/{redis_server}/cwd").readlink()  # its --dir
        assert len(started) >= 3
        announced = Path(local_environment[DIRECTORY_VARIABLE]) / f"{server.process.pid}.json"
        assert announced.exists()

        # When it gets Ctrl-C, and SIGTERM while it stops
        server.process.send_signal(signal.SIGINT)
        wait_until(lambda: "Stopping." in server.log_path.read_text())
        with contextlib.suppress(ProcessLookupError):
            server.process.send_signal(signal.SIGTERM)
        exit_code = server.process.wait(timeout=20)

        # Then it finished stopping: nothing it started runs, nothing is left in its process group, and neither its
        # Redis's directory nor the file that named its Redis remains
        assert exit_code == 0, server.log_path.read_text()
        assert running(started) == []
        with pytest.raises(ProcessLookupError):
            os.killpg(server.process.pid, 0)
        assert not redis_dir.exists()
        assert not announced.exists()
    finally:
        server.process.kill()
        for pid in running(started):  # what a failed shutdown left: not for the next tests
            os.kill(pid, signal.SIGKILL)


def test_the_console_shows_one_line_per_request_and_the_reason_of_a_4xx(
    tmp_path: Path, local_environment: dict[str, str]
) -> None:
    # Given a server as `make run` starts it: without --verbose
    server = start_local_api(local_environment, tmp_path / "stderr.log")
    try:
        # When an action is logged, and then one without its name
        created = server.call("POST", "/users/123/actions", {"action": "login"})
        refused = server.call("POST", "/users/123/actions", {"metadata": {}})
    finally:
        stop(server)

    # Then its console has a line for each, the second with its reason, and nothing of the emulators or functions
    assert (created.status, refused.status) == (201, 422)
    lines = server.log_path.read_text().splitlines()
    assert len(lines) == 3, lines
    assert re.fullmatch(
        r"POST /users/123/actions 201 \d+ ms LogActionFunction \((warm|cold start, init \d+ ms)\)", lines[0]
    )
    assert re.fullmatch(r"POST /users/123/actions 422 \d+ ms LogActionFunction \(warm\) - (.+)", lines[1])
    assert lines[1].endswith(f" - {refused.body['message']}")
    assert lines[2] == "Stopping."


def test_make_invoke_uses_the_redis_of_the_running_api_and_says_so(
    api: LocalApiProcess, local_environment: dict[str, str], tmp_path: Path
) -> None:
    # Given an action logged through the running API
    assert api.call("POST", "/users/invoke-check/actions", {"action": "through_the_api"}).status == 201
    event = json.loads((REPO_ROOT / "events" / "get_user_actions.json").read_text())
    event |= {"rawPath": "/users/invoke-check/actions", "pathParameters": {"userId": "invoke-check"}}
    del event["requestContext"]["authorizer"]  # no token: let through locally (AUTH_REQUIRED=false)
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event))

    # When `make invoke` reads that user's actions
    completed = subprocess.run(
        [sys.executable, "-m", "dev.invoke", "GetUserActionsFunction", "-e", str(event_file)],
        cwd=REPO_ROOT,
        env=local_environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    # Then it used the API's Redis, said so, and found the action
    assert completed.returncode == 0, completed.stderr
    redis_port = re.findall(r"127\.0\.0\.1:(\d+)", api.banner[1])[0]
    first_line = completed.stderr.splitlines()[0]
    assert first_line.startswith(f"Invoking GetUserActionsFunction (Redis: the running local API's ({api.url}): ")
    assert f"127.0.0.1:{redis_port}" in first_line
    actions = json.loads(json.loads(completed.stdout)["body"])["actions"]
    assert [action["action"] for action in actions] == ["through_the_api"]


def test_a_bad_env_vars_file_stops_the_server_before_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = tmp_path / "env.json"
    env_file.write_text('{"Parameters": ["REDIS_HOST"]}')

    exit_code = dev.local_api.main(["--port", "0", "--env-vars", str(env_file)])

    captured = capsys.readouterr()
    assert exit_code == 2
    assert captured.out == ""  # no banner: nothing was started
    assert "object of objects" in captured.err


def test_an_env_vars_file_reaches_the_functions(tmp_path: Path, local_environment: dict[str, str]) -> None:
    # Given an env-vars file that requires a token, for every function
    env_file = tmp_path / "env.json"
    env_file.write_text(json.dumps({"Parameters": {"AUTH_REQUIRED": True}}))

    # When the server runs with it
    server = start_local_api(local_environment, tmp_path / "stderr.log", "--env-vars", str(env_file))
    try:
        without_token = server.call("GET", "/users/123/actions")
        with_token = server.call("GET", "/users/123/actions", token=mint({"sub": "123"}))
    finally:
        stop(server)

    # Then the banner says so, and a request without a token is refused by the handler
    assert server.banner[-1] == "AUTH_REQUIRED=true: requests without a token get 401."
    assert without_token.status == 401
    assert with_token.status == 200


# API Gateway's side of a request, with functions that only record their events


ADMIN_SCOPES = ("actionlog/admin",)


class RecordingFunctions:
    """Stands in for LocalFunctions: answers as told, and keeps the events it was given."""

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.events: list[dict[str, Any]] = []

    def invoke(self, name: str, event: dict[str, Any]) -> Invocation:
        self.events.append(event)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, Invocation)
        return answer


CORS = Cors(
    allow_origins=("https://app.example.com",),
    allow_methods=("GET", "PUT"),
    allow_headers=("Authorization", "Idempotency-Key"),
    expose_headers=("Retry-After",),
    max_age=600,
)


def local_api(
    functions: RecordingFunctions, scopes: tuple[str, ...] = ADMIN_SCOPES, cors: Cors | None = None
) -> LocalApi:
    route = stub_route("GET", "/admin/{item}", scopes=scopes, function_name="AdminFunction")
    template = Template(
        path=Path("/nowhere/template.yaml"),
        document={},
        functions={},
        routes=(route,),
        cloudformation={},
        cors=cors,
    )
    return LocalApi(template, functions)  # type: ignore[arg-type]


def get(path: str, token: str | None = None, *headers: tuple[str, str], method: str = "GET") -> HttpRequest:
    sent = [*headers] if token is None else [("Authorization", f"Bearer {token}"), *headers]
    return HttpRequest(method=method, target=path, headers=sent, body=b"", source_ip="127.0.0.1")


def preflight(origin: str) -> HttpRequest:
    asks = [
        ("Origin", origin),
        ("Access-Control-Request-Method", "GET"),
        ("Access-Control-Request-Headers", "authorization"),
    ]
    return get("/admin/x", None, *asks, method="OPTIONS")


OK = Invocation({"statusCode": 200, "body": "{}"}, init_ms=None, duration_ms=1.0)


def test_a_scoped_route_answers_403_before_the_function_runs_when_the_token_lacks_the_scope() -> None:
    # Given a route that requires the admin scope (the template has none yet)
    functions = RecordingFunctions(OK)
    api = local_api(functions)

    # When a token without it is sent
    response, note = api.handle(get("/admin/x", mint({"sub": "123", "scope": "actionlog/cache"})))

    # Then API Gateway's 403 comes back, and the function never ran
    assert response.status == 403
    assert json.loads(response.body) == {"message": "Forbidden"}
    assert 'error="invalid_token"' in dict(response.headers)["WWW-Authenticate"]
    assert "actionlog/admin" in note
    assert functions.events == []


def test_a_scoped_route_lets_a_token_with_the_scope_through_with_its_claims() -> None:
    functions = RecordingFunctions(OK)

    response, _ = local_api(functions).handle(get("/admin/x", mint({"sub": "ops-1", "scope": "actionlog/admin"})))

    assert response.status == 200
    [event] = functions.events
    assert event["requestContext"]["authorizer"]["jwt"]["scopes"] == ["actionlog/admin"]
    assert event["pathParameters"] == {"item": "x"}


def test_a_malformed_token_on_a_scoped_route_is_401() -> None:
    functions = RecordingFunctions(OK)

    response, _ = local_api(functions).handle(get("/admin/x", "not-a-jwt"))

    assert response.status == 401
    assert json.loads(response.body) == {"message": "Unauthorized"}
    assert functions.events == []


@pytest.mark.parametrize(
    ("answer", "status", "message"),
    [
        (FunctionError({"errorType": "ValueError", "errorMessage": "boom"}), 500, "Internal Server Error"),
        (InvocationTimedOut("AdminFunction Task timed out after 3.00 seconds"), 504, "Gateway Timeout"),
        (Invocation({"statusCode": "teapot"}, init_ms=None, duration_ms=1.0), 500, "Internal Server Error"),
    ],
)
def test_a_function_that_fails_gets_api_gateways_answer(answer: object, status: int, message: str) -> None:
    response, note = local_api(RecordingFunctions(answer)).handle(get("/admin/x"))

    assert response.status == status
    assert json.loads(response.body) == {"message": message}
    assert note.startswith("AdminFunction - ")  # and why, which the response does not say
    assert note != f"AdminFunction - {message}"


def answered(status: int, body: str) -> Invocation:
    return Invocation({"statusCode": status, "body": body}, init_ms=None, duration_ms=1.0)


@pytest.mark.parametrize(
    ("answer", "note"),
    [
        (answered(422, '{"message": "body.action: Field required"}'), "(warm) - body.action: Field required"),
        (answered(503, '{"message": "store\\nunavailable"}'), "(warm) - store unavailable"),  # on one line
        (answered(404, "not json"), "(warm)"),  # no reason to give
        (answered(400, '{"message": "' + "x" * 150 + '"}'), "(warm) - " + "x" * 99 + "…"),
        (answered(200, '{"message": "fine"}'), "(warm)"),
    ],
)
def test_the_log_note_gives_the_reason_of_a_4xx_or_5xx_from_its_message(answer: Invocation, note: str) -> None:
    _, logged = local_api(RecordingFunctions(answer)).handle(get("/admin/x"))

    assert logged == f"AdminFunction {note}"


def test_the_log_note_of_a_request_no_route_takes_is_its_status_message() -> None:
    response, note = local_api(RecordingFunctions()).handle(get("/nowhere"))

    assert (response.status, note) == (404, "- Not Found")


def test_the_log_note_tells_a_cold_start_from_a_warm_call() -> None:
    cold = Invocation({"statusCode": 204}, init_ms=123.4, duration_ms=130.0)
    api = local_api(RecordingFunctions(cold, OK))

    (first, first_note), (second, second_note) = api.handle(get("/admin/x")), api.handle(get("/admin/x"))

    assert (first.status, second.status) == (204, 200)
    assert first_note == "AdminFunction (cold start, init 123 ms)"
    assert second_note == "AdminFunction (warm)"
    assert dict(first.headers)["Apigw-Requestid"] != dict(second.headers)["Apigw-Requestid"]


def test_with_cors_a_preflight_from_an_allowed_origin_is_answered_before_any_route_or_authorizer() -> None:
    functions = RecordingFunctions()

    response, note = local_api(functions, cors=CORS).handle(preflight("https://app.example.com"))

    assert response.status == 204
    assert dict(response.headers) == {
        "Access-Control-Allow-Origin": "https://app.example.com",
        "Access-Control-Allow-Methods": "GET,PUT",
        "Access-Control-Allow-Headers": "authorization,idempotency-key",
        "Access-Control-Max-Age": "600",
    }
    assert note == "CORS preflight"
    assert functions.events == []


def test_a_preflight_from_another_origin_gets_no_cors_headers_so_the_browser_stops_there() -> None:
    response, _ = local_api(RecordingFunctions(), cors=CORS).handle(preflight("https://evil.example"))

    assert response.status == 204
    assert not [name for name, _ in response.headers if name.lower().startswith("access-control-")]


def test_an_allowed_origins_request_gets_api_gateways_cors_headers_in_place_of_the_functions() -> None:
    answer = Invocation(
        {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "*"}, "body": "{}"}, init_ms=None, duration_ms=1
    )
    token = mint({"sub": "ops-1", "scope": "actionlog/admin"})

    response, _ = local_api(RecordingFunctions(answer), cors=CORS).handle(
        get("/admin/x", token, ("Origin", "https://app.example.com"))
    )

    cors = [(name, value) for name, value in response.headers if name.lower().startswith("access-control-")]
    assert cors == [
        ("Access-Control-Allow-Origin", "https://app.example.com"),
        ("Access-Control-Expose-Headers", "retry-after"),
    ]


def test_without_cors_an_options_request_is_routed_like_any_other_and_gets_no_cors_headers() -> None:
    response, _ = local_api(RecordingFunctions()).handle(preflight("https://app.example.com"))

    assert response.status == 405
    assert not [name for name, _ in response.headers if name.lower().startswith("access-control-")]


def test_make_run_answers_preflights_for_the_origins_of_the_cors_parameter(
    tmp_path: Path, local_environment: dict[str, str]
) -> None:
    origin = "http://localhost:8080"
    arguments = ("--parameter-overrides", f"CorsAllowedOrigins={origin}")
    server = start_local_api(local_environment, tmp_path / "stderr.log", *arguments)
    try:
        request = urllib.request.Request(
            f"{server.url}/users/123/actions",
            method="OPTIONS",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            status, headers = response.status, response.headers
    finally:
        stop(server)

    assert f"  CORS: preflights answered for {origin}" in server.banner
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == origin
    assert headers["Access-Control-Allow-Headers"] == "authorization,content-type,idempotency-key"


# The documents whose shell commands call `make run`'s server: the Quick start, then local development.
LOCAL_EXAMPLE_DOCS = ("README.md", "docs/local-development.md")


def local_examples() -> list[str]:
    """The docs' shell commands that call the local server, continuation lines joined."""
    text = "\n".join((REPO_ROOT / doc).read_text() for doc in LOCAL_EXAMPLE_DOCS).replace("\\\n", " ")
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    return [line for block in blocks for line in block.splitlines() if re.match(r"curl .*127\.0\.0\.1:3000", line)]


def http_events() -> list[dict[str, Any]]:
    events = [json.loads(path.read_text()) for path in sorted((REPO_ROOT / "events").glob("*.json"))]
    return [event for event in events if "routeKey" in event]


@pytest.mark.parametrize("redis", ["redis-server", "fakeredis"])
def test_make_run_answers_every_local_example_of_the_docs_and_every_route_without_a_5xx(
    redis: str, tmp_path: Path, local_environment: dict[str, str], rie: Path
) -> None:
    # Given the server of `make run`, with redis-server installed or (an empty PATH) without it
    if redis == "redis-server":
        redis_server_binary()  # a skip where it is missing (the fakeredis case still runs), a failure in CI
    environment = {**local_environment, **({"PATH": str(tmp_path)} if redis == "fakeredis" else {})}
    server = start_local_api(environment, tmp_path / "stderr.log")
    try:
        # When the docs' examples run against it, and each route gets its event's request
        statuses = []
        for example in local_examples():
            command = example.replace("http://127.0.0.1:3000", server.url)
            command = command.replace("curl -s", "curl -s -o /dev/null -w '%{http_code}\\n'")
            ran = subprocess.run(
                ["bash", "-c", f"TOKEN=$({sys.executable} -m dev.token --sub 123 --scope actionlog/cache)\n{command}"],
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
                timeout=60,
            )
            statuses += [(example, int(code)) for code in ran.stdout.split()]
        routes = set()
        for event in http_events():
            query = f"?{event['rawQueryString']}" if event.get("rawQueryString") else ""
            method, path = event["requestContext"]["http"]["method"], event["rawPath"] + query
            body = json.loads(event["body"]) if event.get("body") and not event.get("isBase64Encoded") else None
            statuses.append((event["routeKey"], server.call(method, path, body).status))
            routes.add(event["routeKey"])
    finally:
        stop(server)

    # Then every example answers 2xx, every route is reached, and none answers a 5xx
    assert server.banner[1].startswith(
        "  Redis: " + ("redis-server" if redis == "redis-server" else "embedded fakeredis")
    )
    assert [status for example, status in statuses if example.startswith("curl")] == [200, 201, 200, 200]
    assert routes == {route.key for route in load_template().routes}
    failed = [(where, status) for where, status in statuses if status >= 500]
    assert failed == [], server.log_path.read_text()  # the functions' and the emulators' own account of it
