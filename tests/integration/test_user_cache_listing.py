"""Listing a user's own cache keys (GET /users/{userId}/cache) on a real redis-server: sorted, with their remaining
TTLs, expired and deleted keys absent, only the user's own, owner or admin, from the user's index and never a scan."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import redis

from actionlog import keys
from tests.catalogue import HTTP_OPERATIONS
from tests.limits.helpers import ADMIN, delete_own, erase, put_own
from tests.limits.proxies import HoldingProxy
from tests.support import RedisServer, invoke, load_event, with_caller, with_path

pytestmark = pytest.mark.redis_server


def listing(user: str, claims: dict[str, Any] | None = None, scopes: list[str] | None = None) -> dict[str, Any]:
    """GET /users/{user}/cache, as the user unless `claims` name another caller."""
    event = with_path(load_event("list_user_cache.json"), f"/users/{user}/cache", userId=user)
    return invoke("list_user_cache", with_caller(event, claims or {"sub": user}, scopes))


def listed(user: str) -> list[str]:
    response = listing(user)
    assert response["statusCode"] == 200, response["body"]
    return [entry["key"] for entry in response["json"]["keys"]]


def test_the_keys_are_listed_sorted_with_their_remaining_ttls(real_redis: redis.Redis, configure: Any) -> None:
    configure(USER_DATA_RETENTION_DAYS="0")  # a key written without a TTL keeps none
    for key, ttl in [("prefs", None), ("b:2", 100), ("a.1", 3600), ("Z", 50)]:
        assert put_own("123", key, {"k": key}, ttl)["statusCode"] == 200

    response = listing("123")

    assert response["statusCode"] == 200
    assert response["json"] == {
        "userId": "123",
        "keys": [
            {"key": "Z", "ttlSeconds": 50},
            {"key": "a.1", "ttlSeconds": 3600},
            {"key": "b:2", "ttlSeconds": 100},
            {"key": "prefs", "ttlSeconds": None},
        ],
        "count": 4,
    }


def test_a_key_written_without_a_ttl_shows_the_retentions(real_redis: redis.Redis, configure: Any) -> None:
    configure(USER_DATA_RETENTION_DAYS="30")
    put_own("123", "prefs", {"theme": "dark"})

    [entry] = listing("123")["json"]["keys"]

    assert entry == {"key": "prefs", "ttlSeconds": 30 * 24 * 60 * 60}
    assert entry["ttlSeconds"] == real_redis.ttl(keys.user_cache_key("123", "prefs"))


def test_the_remaining_ttl_counts_down(real_redis: redis.Redis) -> None:
    put_own("123", "soon", 1, ttl=3)

    time.sleep(1.1)

    assert listing("123")["json"]["keys"] == [{"key": "soon", "ttlSeconds": 2}]


def test_expired_keys_are_not_listed(real_redis: redis.Redis) -> None:
    put_own("123", "short", 1, ttl=1)
    put_own("123", "long", 2, ttl=100)

    time.sleep(1.1)  # no write since: the index still names the expired key, the listing does not

    assert listed("123") == ["long"]
    assert listing("123")["json"]["count"] == 1


def test_deleted_and_erased_keys_are_not_listed(real_redis: redis.Redis) -> None:
    put_own("123", "kept", 1)
    put_own("123", "gone", 2)
    delete_own("123", "gone")
    assert listed("123") == ["kept"]

    erase("123")

    assert listing("123")["json"] == {"userId": "123", "keys": [], "count": 0}


def test_a_user_lists_only_their_own_keys(real_redis: redis.Redis) -> None:
    # Users whose ids prefix one another, and keys that read like another user's.
    owned = {
        "12": ["3:prefs", "prefs"],
        "123": ["prefs", "user:1234:cache:x"],
        "1234": ["a", "b"],
        "abc": ["123", "prefs:123"],
    }
    for user, names in owned.items():
        for name in names:
            assert put_own(user, name, {"of": user})["statusCode"] == 200

    for user, names in owned.items():
        assert listed(user) == sorted(names)
    assert listed("456") == []


def test_another_user_cannot_list_them_an_admin_can(real_redis: redis.Redis) -> None:
    put_own("123", "prefs", {"theme": "dark"})
    admin_claims, admin_scopes = ADMIN

    other = listing("123", {"sub": "456"})
    client = listing("123", {"sub": "999", "scope": "actionlog/cache"})
    nobody = invoke("list_user_cache", with_caller(load_event("list_user_cache.json"), None))
    admin = listing("123", admin_claims, admin_scopes)

    assert (other["statusCode"], client["statusCode"], nobody["statusCode"]) == (403, 403, 401)
    assert "prefs" not in other["body"] + client["body"] + nobody["body"]
    assert admin["statusCode"] == 200
    assert [entry["key"] for entry in admin["json"]["keys"]] == ["prefs"]


def test_the_authorisation_matrix_covers_the_listing_as_an_owners_route() -> None:
    [operation] = [operation for operation in HTTP_OPERATIONS if operation.name == "list_user_cache"]

    assert operation.declaration.access == "owner"  # tests/contract/test_authorisation.py takes every caller to it


def test_the_listing_never_scans_the_keyspace(real_redis: redis.Redis) -> None:
    for n in range(30):
        put_own("123", f"key:{n:02d}", n, ttl=600)
    real_redis.mset({f"session:{n}": n for n in range(500)})  # a keyspace far larger than the user's keys
    real_redis.config_resetstat()

    names = listed("123")

    commands = set(real_redis.info("commandstats"))
    assert names == [f"key:{n:02d}" for n in range(30)]
    assert {"cmdstat_scan", "cmdstat_keys", "cmdstat_sscan", "cmdstat_hscan", "cmdstat_zscan"}.isdisjoint(commands)
    assert "cmdstat_zrangebyscore" in commands  # the user's index, read inside the script


def test_the_listing_is_one_round_trip(
    session_redis_server: RedisServer, real_redis: redis.Redis, configure: Callable[..., None]
) -> None:
    for n in range(10):
        put_own("123", f"key:{n}", n, ttl=600)
    proxy = HoldingProxy(session_redis_server.port, 0.05)
    configure(REDIS_URL=proxy.url)  # the template's defaults: rate limits on
    try:
        listing("123")  # a warm container: connected, the script loaded
        proxy.requests.clear()
        response = listing("123")
    finally:
        proxy.close()

    assert response["statusCode"] == 200
    assert response["json"]["count"] == 10
    assert "RateLimit-Remaining" in response["headers"]  # the read was counted, in the same round trip
    assert len(proxy.requests) == 1
