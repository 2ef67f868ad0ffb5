"""Round trips are a design property: with limits and retention on at their defaults, logging and reading the log
are one round trip each, and so is every other limited call (the rate count rides in the same script or pipeline),
shown by a proxy that holds every request."""

import time
from typing import Any

import pytest

from tests.limits.helpers import log_one, put_own, read
from tests.limits.proxies import HoldingProxy
from tests.support import RedisServer, invoke, load_event

pytestmark = pytest.mark.redis_server

HOLD = 0.05  # seconds each request waits before Redis sees it


@pytest.fixture
def holding(session_redis_server: RedisServer, real_redis: Any, configure: Any) -> Any:
    proxy = HoldingProxy(session_redis_server.port, HOLD)
    configure(REDIS_URL=proxy.url)  # the template's defaults: limits and retention on
    yield proxy
    proxy.close()


CALLS = {
    "log one": (lambda: log_one(), 1),
    "log a batch": (lambda: invoke("log_batch_actions", load_event("log_batch_actions.json")), 1),
    "read the log": (lambda: read(), 1),
    "own cache set": (lambda: put_own("123", "prefs", {"theme": "dark"}), 1),
    "count": (lambda: invoke("count_user_actions", load_event("count_user_actions.json")), 1),
    "clear": (lambda: invoke("clear_user_actions", load_event("clear_user_actions.json")), 1),
    "shared cache set": (lambda: invoke("cache_set", load_event("cache_set.json")), 1),
    "shared cache get": (lambda: invoke("cache_get", load_event("cache_get.json")), 1),
    "shared cache delete": (lambda: invoke("cache_delete", load_event("cache_delete.json")), 1),
}


@pytest.mark.parametrize(("call", "round_trips"), list(CALLS.values()), ids=list(CALLS))
def test_each_call_takes_its_round_trips_with_limits_and_retention_on(
    holding: Any, real_redis: Any, call: Any, round_trips: int
) -> None:
    real_redis.set("session:abc123", '"dark"')  # what the shared cache's get reads (events/cache_get.json)
    call()  # a warm container: connected, scripts loaded
    call()
    holding.requests.clear()

    started = time.monotonic()
    answer = call()
    elapsed = time.monotonic() - started

    assert answer["statusCode"] < 400, answer["body"]
    assert "RateLimit-Remaining" in answer["headers"]
    assert len(holding.requests) == round_trips
    assert round_trips * HOLD <= elapsed < (round_trips + 1) * HOLD


def test_a_server_that_lost_the_scripts_costs_one_more_round_trip_not_two(holding: Any, real_redis: Any) -> None:
    log_one()  # a warm container
    real_redis.script_flush()  # a restart or a failover: the server no longer knows the scripts
    holding.requests.clear()

    answer = log_one()

    assert answer["statusCode"] == 201, answer["body"]
    refused, loaded_and_run = holding.requests  # EVALSHA (NOSCRIPT), then SCRIPT LOAD and EVALSHA sent together
    assert b"EVALSHA" in refused
    assert b"SCRIPT" not in refused
    assert b"SCRIPT" in loaded_and_run
    assert b"EVALSHA" in loaded_and_run
