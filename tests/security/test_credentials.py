"""REDIS_PASSWORD against a real redis-server with `requirepass`: right, wrong and missing passwords.

A refused password is "Redis unavailable": a fast 503 with Retry-After and one log line that names the
cause, and no password, right or wrong, ever reaches a log line, stderr or a response.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis

from tests.security.helpers import FAST_SECONDS, Output, log_one_action, read_actions
from tests.support import NEVER_LOGGED, RedisServer

pytestmark = pytest.mark.redis_server

PASSWORD = f"{NEVER_LOGGED}-right-password"
WRONG_PASSWORD = f"{NEVER_LOGGED}-wrong-password"


@pytest.fixture(scope="module")
def protected_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    # Set after start: the shared readiness check PINGs without a password. The connection that sets it
    # stays authenticated; the test's admin clients log in with the password.
    server.client().config_set("requirepass", PASSWORD)
    yield server
    server.stop()


@pytest.fixture
def admin(protected_server: RedisServer) -> Iterator[redis.Redis]:
    client = protected_server.client(password=PASSWORD)
    client.flushall()
    yield client
    client.close()


def server_settings(server: RedisServer, **settings: str) -> dict[str, str]:
    return {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(server.port), **settings}


def assert_refused_without_secrets(response: dict[str, object], seconds: float, written: Output) -> None:
    assert response["statusCode"] == 503
    assert response["headers"] == {"Content-Type": "application/json", "Retry-After": "1"}
    assert seconds < FAST_SECONDS
    assert written.record("Redis authentication failed")["cause"] == "AuthenticationError"
    for secret in (PASSWORD, WRONG_PASSWORD):
        assert secret not in written.everything
        assert secret not in str(response)


def test_given_the_right_password_when_an_action_is_logged_then_it_reads_back(
    protected_server: RedisServer, admin: redis.Redis, configure: Callable[..., None]
) -> None:
    configure(**server_settings(protected_server, REDIS_PASSWORD=PASSWORD))

    logged, _ = log_one_action()
    read = read_actions()

    assert logged["statusCode"] == 201
    assert (read["statusCode"], read["json"]["count"]) == (200, 1)
    assert admin.llen("user:123:actions") == 1


def test_given_a_wrong_password_when_an_action_is_logged_then_a_fast_503_and_no_password_in_the_output(
    protected_server: RedisServer, admin: redis.Redis, configure: Callable[..., None], output: Callable[[], Output]
) -> None:
    configure(**server_settings(protected_server, REDIS_PASSWORD=WRONG_PASSWORD))

    response, seconds = log_one_action()

    assert_refused_without_secrets(response, seconds, output())
    assert admin.exists("user:123:actions") == 0


def test_given_no_password_when_an_action_is_logged_then_a_fast_503_and_no_password_in_the_output(
    protected_server: RedisServer, admin: redis.Redis, configure: Callable[..., None], output: Callable[[], Output]
) -> None:
    configure(**server_settings(protected_server))

    response, seconds = log_one_action()

    assert_refused_without_secrets(response, seconds, output())
    assert admin.exists("user:123:actions") == 0


def test_given_a_wrong_password_when_actions_are_read_then_the_read_degrades_instead_of_failing(
    protected_server: RedisServer, configure: Callable[..., None], output: Callable[[], Output]
) -> None:
    configure(**server_settings(protected_server, REDIS_PASSWORD=WRONG_PASSWORD))

    read = read_actions()

    assert (read["statusCode"], read["json"]["actions"], read["json"]["degraded"]) == (200, [], True)
    assert WRONG_PASSWORD not in output().everything


def test_given_a_wrong_acl_user_password_when_an_action_is_logged_then_a_fast_503_without_the_password(
    protected_server: RedisServer, admin: redis.Redis, configure: Callable[..., None], output: Callable[[], Output]
) -> None:
    admin.acl_setuser("actionlog", enabled=True, passwords=[f"+{PASSWORD}"], keys=["*"], commands=["+@all"])
    configure(**server_settings(protected_server, REDIS_USERNAME="actionlog", REDIS_PASSWORD=WRONG_PASSWORD))

    response, seconds = log_one_action()

    assert_refused_without_secrets(response, seconds, output())
