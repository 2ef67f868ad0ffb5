"""A user's own cache is bounded: USER_CACHE_MAX_KEYS keys and USER_CACHE_MAX_BYTES bytes, counted exactly."""

import multiprocessing
import time
from typing import Any

import pytest
import redis

from actionlog import keys
from tests.limits.helpers import delete_own, put_own
from tests.support import RedisServer, handler_module, lambda_context, load_event, with_body, with_caller, with_path

pytestmark = pytest.mark.redis_server

KIB = 1024


def test_a_write_past_the_key_quota_is_refused_with_403_naming_it(real_redis: redis.Redis, configure: Any) -> None:
    configure(USER_CACHE_MAX_KEYS="3")

    answers = [put_own("123", f"k{n}", n) for n in range(4)]

    assert [answer["statusCode"] for answer in answers] == [200, 200, 200, 403]
    assert "USER_CACHE_MAX_KEYS" in answers[3]["json"]["message"]
    assert not real_redis.exists(keys.user_cache_key("123", "k3"))


def test_overwriting_a_key_or_deleting_one_makes_no_new_room_needed_or_frees_it(
    real_redis: redis.Redis, configure: Any
) -> None:
    configure(USER_CACHE_MAX_KEYS="2")
    put_own("123", "a", 1)
    put_own("123", "b", 2)

    overwrite = put_own("123", "a", "again")
    refused = put_own("123", "c", 3)
    deleted = delete_own("123", "b")
    admitted = put_own("123", "c", 3)

    assert [overwrite["statusCode"], refused["statusCode"], admitted["statusCode"]] == [200, 403, 200]
    assert deleted["json"]["deleted"] is True


def test_a_write_past_the_byte_quota_is_refused_and_a_smaller_overwrite_is_not(
    real_redis: redis.Redis, configure: Any
) -> None:
    configure(USER_CACHE_MAX_BYTES=str(256 * KIB))
    hundred = "x" * (100 * KIB)

    first, second, third = put_own("123", "a", hundred), put_own("123", "b", hundred), put_own("123", "c", hundred)
    smaller = put_own("123", "b", "small")
    fits_now = put_own("123", "c", hundred)

    assert [first["statusCode"], second["statusCode"], third["statusCode"]] == [200, 200, 403]
    assert "USER_CACHE_MAX_BYTES" in third["json"]["message"]
    assert (smaller["statusCode"], fits_now["statusCode"]) == (200, 200)
    total = int(real_redis.hget(keys.user_cache_sizes_key("123"), keys.USER_CACHE_TOTAL_FIELD))
    assert total == 2 * len(f'"{hundred}"') + len('"small"')


def test_an_expired_entry_never_counts(real_redis: redis.Redis, configure: Any) -> None:
    configure(USER_CACHE_MAX_KEYS="1")
    assert put_own("123", "short", 1, ttl=1)["statusCode"] == 200

    assert put_own("123", "other", 1)["statusCode"] == 403
    time.sleep(1.1)

    assert put_own("123", "other", 1)["statusCode"] == 200
    assert real_redis.zrange(keys.user_cache_index_key("123"), 0, -1) == ["other"]


def test_quotas_are_per_user(real_redis: redis.Redis, configure: Any) -> None:
    configure(USER_CACHE_MAX_KEYS="1")
    put_own("123", "a", 1)

    assert put_own("456", "a", 1)["statusCode"] == 200


def put_keys_as_a_warm_container(redis: dict[str, str], writer: int, count: int) -> list[int]:
    """A warm container of its own putting `count` distinct keys into user 42's cache, at a quota of 25 keys."""
    import os

    os.environ.update({"AUTH_REQUIRED": "false", "POWERTOOLS_LOG_LEVEL": "ERROR", "RATE_LIMIT_WRITES": "0"})
    os.environ.update({"USER_CACHE_MAX_KEYS": "25", **redis})
    function = handler_module("user_cache_set").lambda_handler
    statuses = []
    for number in range(count):
        key = f"w{writer}-{number}"
        event = with_path(load_event("user_cache_set.json"), f"/users/42/cache/{key}", userId="42", key=key)
        event = with_caller(with_body(event, {"value": number}), None)
        statuses.append(function(event, lambda_context())["statusCode"])
    return statuses


def race_for_the_quota(redis: dict[str, str]) -> list[int]:
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.starmap(put_keys_as_a_warm_container, [(redis, n, 15) for n in range(4)])
    return [status for each in results for status in each]


def test_racing_containers_fill_the_quota_exactly(session_redis_server: RedisServer, real_redis: redis.Redis) -> None:
    statuses = race_for_the_quota({"REDIS_URL": session_redis_server.url})

    assert statuses.count(200) == 25
    assert statuses.count(403) == 60 - 25
    assert real_redis.zcard(keys.user_cache_index_key("42")) == 25
    stored = [key for key in real_redis.scan_iter(match=keys.user_cache_prefix("42") + "*")]
    assert len(stored) == 25
