"""Bad input at scale: Schemathesis sends what openapi.json allows, and much that it does not, to the local server.

The local server (`python -m dev.local_api`, its own Redis, AUTH_REQUIRED=false) runs the real handlers, each in
its own warm Runtime Interface Emulator, behind the template's routes. Schemathesis' coverage phase sends boundary
and invalid values for every parameter and body field, unexpected methods and missing headers; its fuzzing phase
sends random valid and invalid requests; its stateful phase chains calls. The run passes only when no response is a
5xx, every response has a documented status, content type, headers and body, every request the document allows is
accepted and every request it forbids is refused. A failure prints Schemathesis'
report, with a curl command for each failing request, and the server's log lines of the 5xx answers.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actionlog.http import IDEMPOTENCY_KEY_HEADER
from dev.openapi import OUTPUT_PATH
from dev.template import REPO_ROOT
from dev.token import mint
from tests.support import free_port

pytestmark = [pytest.mark.schemathesis, pytest.mark.timeout(240)]

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    # Every request Schemathesis makes to break the document (a wrong type, a value out of range, a missing field)
    # must be refused with a 4xx: the handlers are no looser than the document.
    "negative_data_rejection",
    # Every request that follows the document must be accepted (a 2xx, or a 404 for what is absent): the document is
    # no looser than the handlers, so a client written from it is never refused.
    "positive_data_acceptance",
]
# Sized for about a minute on a 2-core machine; the seed makes a failure reproducible with the same command.
MAX_EXAMPLES = 40
SEED = 20261125
RUN_TIMEOUT_SECONDS = 180
STARTUP_TIMEOUT_SECONDS = 20
SERVER_ERROR_LINE = re.compile(r"[A-Z]+ \S+ 5\d\d ")  # the local server's request line of a 5xx answer


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the local API exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    pytest.fail(f"the local API did not answer GET /health within {STARTUP_TIMEOUT_SECONDS} s:\n{log.read_text()}")


@pytest.fixture
def local_api(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The local server on a free port with a Redis of its own; yields its URL and its log."""
    port = free_port()
    environment = {name: value for name, value in os.environ.items() if not name.startswith("REDIS_")}
    # The functions log only warnings and errors: tens of thousands of requests would bury a traceback.
    environment |= {"AUTH_REQUIRED": "false", "POWERTOOLS_LOG_LEVEL": "WARNING"}
    log = tmp_path / "local_api.log"
    with log.open("wb") as stream:
        process = subprocess.Popen(
            [sys.executable, "-m", "dev.local_api", "--port", str(port)],
            cwd=REPO_ROOT,
            env=environment,
            stdout=stream,
            stderr=stream,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log)
        yield url, log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        finally:
            process.kill()


def configuration() -> str:
    """schemathesis.toml: where the document cannot say all there is, and why.

    - A write with an Idempotency-Key answers 422 when the key was used before with another body: a run draws keys
      from a small alphabet and sends the same one with different bodies, and the document cannot say "a key not
      used before". Those operations accept a 422 among the answers to valid data.
    - A read with a `before` cursor answers 400 when the log no longer holds that entry: the document cannot say "an
      id the log holds". Those operations accept a 400 among the answers to valid data.
    - A body holding any JSON value (metadata, a cache value: JsonValue, an anyOf of every JSON type): Schemathesis's
      negative data turns one alternative of the anyOf into another type, which another alternative still accepts,
      and then reports the valid request accepted. Those operations are not held to negative data rejection; what
      such bodies refuse is tested in tests/contract (bad input, hostile requests and attempts).
    Every other operation is held to every check.
    """
    document = json.loads(OUTPUT_PATH.read_text())
    operations = [operation for item in document["paths"].values() for operation in item.values()]

    def names(operation: dict[str, Any], parameter: str) -> bool:
        return any(each["name"] == parameter for each in operation.get("parameters", ()))

    def holding_any_json(operation: dict[str, Any]) -> bool:
        seen, pending = set(), [json.dumps(operation.get("requestBody", {}))]
        while pending:
            text = pending.pop()
            for name in re.findall(r"#/components/schemas/([A-Za-z0-9_]+)", text):
                if name not in seen:
                    seen.add(name)
                    pending.append(json.dumps(document["components"]["schemas"][name]))
        return "JsonValue" in seen

    def ids(chosen: Any) -> str:
        return json.dumps(sorted(operation["operationId"] for operation in operations if chosen(operation)))

    checks = "".join(f"{check}.enabled = true\n" for check in CHECKS)
    return (
        f"[checks]\nenabled = false\n{checks}\n"  # here rather than --checks, which would win over the sections below
        "[[operations]]\n"
        f"include-operation-id = {ids(lambda operation: names(operation, IDEMPOTENCY_KEY_HEADER))}\n"
        'checks.positive_data_acceptance.expected-statuses = ["2XX", "3XX", 401, 403, 404, 409, 422, 429, "5XX"]\n'
        "\n[[operations]]\n"
        f"include-operation-id = {ids(lambda operation: names(operation, 'before'))}\n"
        'checks.positive_data_acceptance.expected-statuses = ["2XX", "3XX", 400, 401, 403, 404, 409, 429, "5XX"]\n'
        "\n[[operations]]\n"
        f"include-operation-id = {ids(holding_any_json)}\n"
        "checks.negative_data_rejection.enabled = false\n"
    )


def server_errors(log: Path) -> str:
    """The log lines of 5xx answers, and the functions' error records."""
    lines = log.read_text(errors="replace").splitlines()
    return "\n".join(line for line in lines if SERVER_ERROR_LINE.match(line) or '"level":"ERROR"' in line)[-10_000:]


def test_no_request_gets_a_5xx_or_a_response_the_document_does_not_describe(
    local_api: tuple[str, Path], tmp_path: Path
) -> None:
    url, log = local_api
    # An admin token, as API Gateway's authorizer would pass it on: every route's handler is reached and its
    # claims are checked. Schemathesis does not generate tokens of its own (those would all be 401).
    token = mint({"sub": "schemathesis", "scope": "actionlog/admin actionlog/cache"})
    command = [
        str(SCHEMATHESIS),
        "--no-color",
        "run",
        str(OUTPUT_PATH),
        "--url",
        url,
        "--header",
        f"Authorization: Bearer {token}",
        "--generation-with-security-parameters",
        "false",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--generation-database",
        "none",
        "--workers",
        "2",
        "--request-timeout",
        "15",
    ]
    # Run from a scratch directory: Schemathesis reads the schemathesis.toml written there, and nothing else.
    (tmp_path / "schemathesis.toml").write_text(configuration())
    environment = dict(os.environ)

    # When Schemathesis runs every phase against every operation
    result = subprocess.run(
        command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS
    )

    # Then it found nothing
    assert result.returncode == 0, (
        f"Schemathesis found failures:\n{result.stdout[-30_000:]}\n{result.stderr[-5_000:]}\n"
        f"Local server errors:\n{server_errors(log)}"
    )
