"""A warm handler (one imported module, one client) survives Redis going away and coming back."""

import time
from collections.abc import Iterator

import pytest

from tests.support import FlakyProxy, RedisServer, invoke, load_event

pytestmark = pytest.mark.redis_server


def timed(operation: str, event_file: str) -> tuple[dict, float]:  # type: ignore[type-arg]
    started = time.monotonic()
    response = invoke(operation, load_event(event_file))
    return response, time.monotonic() - started


def test_redis_stopped_then_restarted(own_redis_server: RedisServer) -> None:
    assert invoke("log_action", load_event("log_action.json"))["statusCode"] == 201

    own_redis_server.stop()
    write, write_seconds = timed("log_action", "log_action.json")
    read, read_seconds = timed("get_user_actions", "get_user_actions.json")

    assert (write["statusCode"], write["headers"]["Retry-After"]) == (503, "1")
    assert (read["statusCode"], read["json"]["degraded"]) == (200, True)
    assert write_seconds < 2
    assert read_seconds < 2

    own_redis_server.start()
    assert invoke("log_action", load_event("log_action.json"))["statusCode"] == 201
    assert invoke("get_user_actions", load_event("get_user_actions.json"))["json"]["count"] == 1


def test_connections_killed_by_the_server_are_replaced(own_redis_server: RedisServer) -> None:
    assert invoke("log_action", load_event("log_action.json"))["statusCode"] == 201

    own_redis_server.client().client_kill_filter(_type="normal", skipme=True)

    assert invoke("log_action", load_event("log_action.json"))["statusCode"] == 201


def test_an_idle_connection_closed_by_the_server_is_replaced(own_redis_server: RedisServer) -> None:
    own_redis_server.client().config_set("timeout", 1)
    assert invoke("log_action", load_event("log_action.json"))["statusCode"] == 201

    time.sleep(2.5)  # the server drops our idle connection, as it does to a frozen Lambda's

    assert invoke("log_action", load_event("log_action.json"))["statusCode"] == 201


@pytest.fixture
def black_hole(configure) -> Iterator[FlakyProxy]:  # type: ignore[no-untyped-def]
    """A loopback listener that accepts connections and never answers."""
    with FlakyProxy(None) as proxy:
        configure(REDIS_URL=proxy.url)
        yield proxy


def test_a_black_holed_redis_gets_a_503_within_the_socket_timeout_budget(black_hole: FlakyProxy) -> None:
    response, seconds = timed("log_action", "log_action.json")

    assert response["statusCode"] == 503
    # At most (1 + REDIS_RETRIES) x 1 s socket timeout plus backoff; the function timeout is 10 s.
    assert seconds < 3.5


def test_the_health_check_of_a_black_holed_redis_answers_503(black_hole: FlakyProxy) -> None:
    response, seconds = timed("health_check", "health_check.json")

    assert response["statusCode"] == 503
    assert response["json"]["status"] == "unavailable"
    assert seconds < 3.5


def test_a_fresh_process_connects_after_redis_was_down_at_its_first_call(configure) -> None:  # type: ignore[no-untyped-def]
    server = RedisServer()
    configure(REDIS_URL=server.url)
    assert invoke("health_check", load_event("health_check.json"))["statusCode"] == 503

    server.start()
    try:
        assert invoke("health_check", load_event("health_check.json"))["statusCode"] == 200
    finally:
        server.stop()
