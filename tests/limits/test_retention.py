"""USER_DATA_RETENTION_DAYS: a user's log expires N days after its last write, renewed by every way of writing it;
their cache entries written without a TTL get N days; the shared cache is not touched."""

from typing import Any

import pytest
import redis

from actionlog import keys
from tests.limits.helpers import ingest, log_one, put_own, sqs_batch
from tests.support import invoke, load_event, with_body

pytestmark = pytest.mark.redis_server

DAY_MS = 24 * 60 * 60 * 1000


def serverpod(method: str, arguments: dict[str, Any]) -> dict[str, Any]:
    event = load_event("serverpod_user_actions.json")
    event = {**event, "pathParameters": {"method": method}, "routeKey": "POST /userActions/{method}"}
    return invoke("serverpod_user_actions", with_body(event, arguments))


WRITES = {
    "REST": lambda: log_one(),
    "REST batch": lambda: invoke("log_batch_actions", load_event("log_batch_actions.json")),
    "Serverpod logAction": lambda: serverpod("logAction", {"userId": 123, "action": "tap"}),
    "Serverpod logBatchActions": lambda: serverpod("logBatchActions", {"userId": 123, "actions": ["a", "b"]}),
    "SQS": lambda: ingest(sqs_batch({"userId": "123", "action": "tap"})),
}


@pytest.mark.parametrize("write", list(WRITES.values()), ids=list(WRITES))
def test_every_way_of_writing_the_log_renews_its_retention(real_redis: redis.Redis, configure: Any, write: Any) -> None:
    configure(USER_DATA_RETENTION_DAYS="30")
    real_redis.lpush("user:123:actions", '{"action":"old","timestamp":"2025-01-01T00:00:00.000Z","metadata":{}}')
    real_redis.pexpire("user:123:actions", 1000)

    write()

    assert 30 * DAY_MS - 60_000 < real_redis.pttl("user:123:actions") <= 30 * DAY_MS
    assert real_redis.llen("user:123:actions") >= 2


def test_without_retention_the_log_is_kept_until_deleted(real_redis: redis.Redis, configure: Any) -> None:
    configure(USER_DATA_RETENTION_DAYS="0")

    log_one()

    assert real_redis.pttl("user:123:actions") == -1


def test_an_own_cache_entry_without_a_ttl_gets_the_retention_and_one_with_a_ttl_keeps_it(
    real_redis: redis.Redis, configure: Any
) -> None:
    configure(USER_DATA_RETENTION_DAYS="30")

    without = put_own("123", "prefs", {"theme": "dark"})
    given = put_own("123", "draft", "text", ttl=60)

    assert without["json"]["ttlSeconds"] == 30 * 24 * 60 * 60
    assert 30 * DAY_MS - 60_000 < real_redis.pttl(keys.user_cache_key("123", "prefs")) <= 30 * DAY_MS
    assert given["json"]["ttlSeconds"] == 60
    assert real_redis.pttl(keys.user_cache_key("123", "draft")) <= 60_000
    # The index lives as long as its longest-lived entry, so nothing of the user outlives their data.
    assert real_redis.pttl(keys.user_cache_index_key("123")) == pytest.approx(30 * DAY_MS, abs=60_000)


def test_the_shared_cache_is_not_touched_by_retention(real_redis: redis.Redis, configure: Any) -> None:
    configure(USER_DATA_RETENTION_DAYS="30")
    event = with_body(load_event("cache_set.json"), {"value": {"theme": "dark"}})

    assert invoke("cache_set", event)["statusCode"] == 200

    assert real_redis.ttl("session:abc123") == -1
