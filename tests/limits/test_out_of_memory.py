"""A Redis out of memory refuses writes: they answer 503 with Retry-After, never 500, and reads keep working."""

import json
from typing import Any

import pytest
import redis

from tests.limits.helpers import log_one, read
from tests.support import RedisServer, invoke, load_event


@pytest.fixture
def full_redis(own_redis_server: RedisServer) -> Any:
    """A redis-server at its maxmemory with noeviction, holding one user's log and a shared cache entry."""
    admin = own_redis_server.client()
    admin.lpush("user:123:actions", json.dumps({"action": "before", "timestamp": "2026-01-01T00:00:00.000Z"}))
    admin.set("session:abc123", '{"theme": "dark"}')
    admin.config_set("maxmemory-policy", "noeviction")
    admin.config_set("maxmemory", str(int(admin.info("memory")["used_memory"]) + 512 * 1024))
    filled = 0
    while filled < 10_000:
        try:
            admin.set(f"filler:{filled}", "x" * 4096)
        except redis.exceptions.OutOfMemoryError:
            break
        filled += 1
    assert filled < 10_000  # full
    yield admin
    admin.config_set("maxmemory", "0")
    admin.close()


@pytest.mark.redis_server
def test_writes_answer_503_with_retry_after_and_reads_still_work(
    full_redis: redis.Redis, configure: Any, caplog: pytest.LogCaptureFixture
) -> None:
    configure(RATE_LIMIT_WRITES="120", RATE_LIMIT_READS="600")

    written = log_one()
    cached = invoke("user_cache_set", load_event("user_cache_set.json"))
    got = read()
    shared = invoke("cache_get", load_event("cache_get.json"))
    count = invoke("count_user_actions", load_event("count_user_actions.json"))
    health = invoke("health_check", load_event("health_check.json"))

    assert (written["statusCode"], written["headers"]["Retry-After"]) == (503, "1")
    assert cached["statusCode"] == 503
    assert (got["statusCode"], [entry["action"] for entry in got["json"]["actions"]]) == (200, ["before"])
    assert "degraded" not in got["json"]
    assert shared["statusCode"] == 200
    assert (count["statusCode"], count["json"]["count"]) == (200, 1)
    assert health["statusCode"] == 503  # its write test cannot write
    assert full_redis.llen("user:123:actions") == 1
    failures = [record for record in caplog.records if "out of memory" in record.getMessage()]
    assert failures
    assert {getattr(record, "cause", None) for record in failures} == {"OutOfMemoryError"}
