from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import fakeredis
import pytest
import redis
from moto import mock_aws

from actionlog.redis_client import discard_client
from actionlog.settings import get_settings
from dev.redis_server import EmbeddedRedis
from dev.sam_cli import emulator_binary
from tests.support import AWS_REGION, NEVER_LOGGED, REQUIRE_SAM, RedisServer, TempEntries, unavailable

TEMP_ENTRIES = TempEntries()
TEMP_ENTRIES.record()


@pytest.fixture(scope="session", autouse=True)
def nothing_left_in_the_temp_directory() -> Iterator[None]:
    """The run leaves nothing in /tmp: every actionlog-* entry it made there is gone once the session's fixtures
    are (this one, set up first, is torn down last). A failure here names what was left."""
    yield
    left = TEMP_ENTRIES.left()
    assert left == [], f"the tests left these in {TEMP_ENTRIES.root}: {', '.join(left)}"


@pytest.fixture
def fake_redis() -> Iterator[fakeredis.FakeRedis]:
    """An in-process fake Redis for fast tests of our own logic."""
    client = fakeredis.FakeRedis(decode_responses=True)
    yield client
    client.flushall()


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set environment variables as a deployment would, and make the next handler call start a fresh container."""

    def apply(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        discard_client()

    for name in ("REDIS_URL", "REDIS_HOST", "REDIS_PASSWORD", "REDIS_USERNAME", "REDIS_SECRET_ARN", "REDIS_CLUSTER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AUTH_REQUIRED", "true")
    apply()
    yield apply
    get_settings.cache_clear()
    discard_client()


@pytest.fixture(scope="session")
def fake_server_port() -> Iterator[int]:
    """fakeredis' embedded TCP server: lets handler tests use the real client without a redis-server."""
    server = EmbeddedRedis()
    yield server.port
    server.close()


@pytest.fixture
def fake_server(fake_server_port: int, configure: Callable[..., None]) -> Iterator[redis.Redis]:
    """Handlers pointed at the embedded fake server; yields a client to inspect what they stored."""
    configure(REDIS_URL=f"redis://127.0.0.1:{fake_server_port}/0")
    inspector = redis.Redis(port=fake_server_port, decode_responses=True)
    inspector.flushall()
    yield inspector
    inspector.close()


@pytest.fixture(scope="session")
def session_redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.close()


@pytest.fixture
def real_redis(session_redis_server: RedisServer, configure: Callable[..., None]) -> Iterator[redis.Redis]:
    """Handlers pointed at a real redis-server (session-wide, flushed per test)."""
    configure(REDIS_URL=session_redis_server.url)
    client = session_redis_server.client()
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def own_redis_server(configure: Callable[..., None]) -> Iterator[RedisServer]:
    """A real redis-server of the test's own, which it may stop and start."""
    server = RedisServer().start()
    configure(REDIS_URL=server.url)
    yield server
    server.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Log redaction, checked on every test of the suite: no secret-marked string in any captured output."""
    report: pytest.TestReport = yield
    leaked = [name for name, content in report.sections if NEVER_LOGGED in content]
    if leaked and report.when == "call" and report.passed:
        report.outcome = "failed"
        report.longrepr = f"a password, token or cached value reached the logs ({', '.join(leaked)})"
    return report


@pytest.fixture(scope="session")
def rie() -> Path:
    """The Runtime Interface Emulator of the installed aws-sam-cli: skipped where it cannot run (not Linux, or
    .venv-sam missing), a failure when ACTIONLOG_REQUIRE_SAM=1."""
    binary = emulator_binary()
    if binary is None:
        unavailable(
            "the Runtime Interface Emulator is not installed for this machine (make installs the SAM CLI)", REQUIRE_SAM
        )
    return binary


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """AWS as moto plays it, with the credentials and region a Lambda function has; boto3 reaches it unchanged."""
    for name, value in {
        "AWS_DEFAULT_REGION": AWS_REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield
