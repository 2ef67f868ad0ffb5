"""DELETE /users/{userId}: every key that holds the user's data is gone, found from the user id alone."""

from typing import Any

import pytest
import redis

from actionlog import keys
from tests.limits.helpers import ADMIN, erase, keys_naming, log_one, put_own, read
from tests.limits.proxies import DiesOnScript
from tests.support import RedisServer, invoke, load_event, with_caller

pytestmark = pytest.mark.redis_server


def counters(user: str) -> list[str]:
    """The user's rate counters: an erasure leaves them to expire at their window's end (see erasure.py)."""
    return sorted(keys.user_keys(user)[-2:])


def everything_of(user: str) -> None:
    """A user with a log, receipts, their own cache (one entry without a TTL) and both rate counters."""
    for number in range(3):
        event = load_event("log_action.json")
        event = {**event, "headers": {**event["headers"], "idempotency-key": f"k-{number}"}}
        event = {**event, "pathParameters": {"userId": user}}
        assert invoke("log_action", with_caller(event, {"sub": user}))["statusCode"] == 201
    assert put_own(user, "prefs", {"theme": "dark"})["statusCode"] == 200
    assert put_own(user, "draft", "text", ttl=600)["statusCode"] == 200
    assert read(user)["statusCode"] == 200


def test_erasing_leaves_no_key_that_names_the_user_and_never_scans(real_redis: redis.Redis) -> None:
    everything_of("123")
    everything_of("456")
    # The list, receipts and their expiries, the cache's index and sizes, two entries, two rate counters.
    assert len(keys_naming(real_redis, "123")) == 9
    real_redis.config_resetstat()

    answer = erase("123")
    commands = set(real_redis.info("commandstats"))  # before this test's own SCAN below

    assert (answer["statusCode"], answer["json"]) == (200, {"userId": "123", "erased": True})
    assert not {"cmdstat_scan", "cmdstat_keys"} & commands
    assert {"cmdstat_zrange", "cmdstat_evalsha"} <= commands
    assert keys_naming(real_redis, "123") == counters("123")
    assert all(0 < real_redis.pttl(counter) <= 60_000 for counter in counters("123"))  # gone by the window's end
    assert len(keys_naming(real_redis, "456")) == 9  # another user's data is untouched


def test_erasing_a_user_with_nothing_says_so_and_a_repeat_is_harmless(real_redis: redis.Redis) -> None:
    everything_of("123")

    first, again = erase("123"), erase("123")

    assert (first["json"]["erased"], again["json"]["erased"]) == (True, False)
    assert keys_naming(real_redis, "123") == counters("123")


def test_an_admin_may_erase_any_user_and_another_user_may_not(real_redis: redis.Redis) -> None:
    everything_of("123")
    event = load_event("erase_user.json")

    by_other = invoke("erase_user", with_caller(event, {"sub": "456"}))
    by_admin = invoke("erase_user", with_caller(event, *ADMIN))

    assert by_other["statusCode"] == 403
    assert (by_admin["statusCode"], by_admin["json"]["erased"]) == (200, True)


def test_an_erasure_that_dies_half_way_is_finished_by_the_next_call(
    session_redis_server: RedisServer, real_redis: redis.Redis, configure: Any
) -> None:
    everything_of("123")
    before = keys_naming(real_redis, "123")
    dying = DiesOnScript(session_redis_server.port)
    configure(REDIS_URL=dying.url)

    died = erase("123")
    dying.close()

    assert died["statusCode"] == 503
    assert keys_naming(real_redis, "123") == before  # the first step only read: nothing half-deleted
    configure(REDIS_URL=session_redis_server.url)
    finished = erase("123")
    assert (finished["statusCode"], finished["json"]["erased"]) == (200, True)
    assert keys_naming(real_redis, "123") == counters("123")


def test_an_entry_written_between_the_index_read_and_the_erasure_is_erased_too(real_redis: redis.Redis) -> None:
    # The script refuses to run on a stale index (an entry it was not given), and the erasure reads it again.
    everything_of("123")
    from actionlog import erasure

    real_names = real_redis.zrange

    def index_then_a_new_entry(name: str, start: int, end: int) -> Any:
        names = real_names(name, start, end)
        if name == keys.user_cache_index_key("123") and "late" not in names:
            put_own("123", "late", 1)
        return names

    real_redis.zrange = index_then_a_new_entry  # type: ignore[method-assign]
    try:
        erased = erasure.erase_user("123", redis=real_redis)
    finally:
        del real_redis.zrange

    assert erased
    assert keys_naming(real_redis, "123") == counters("123")


def test_clearing_the_log_alone_leaves_the_users_cache(real_redis: redis.Redis) -> None:
    everything_of("123")

    invoke("clear_user_actions", load_event("clear_user_actions.json"))

    assert real_redis.exists(keys.user_cache_key("123", "prefs"))
    assert not real_redis.exists(keys.actions_key("123"), keys.receipts_key("123"))


def test_the_log_written_after_an_erasure_starts_afresh(real_redis: redis.Redis) -> None:
    everything_of("123")
    erase("123")

    log_one()

    assert real_redis.llen("user:123:actions") == 1
