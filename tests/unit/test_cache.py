import fakeredis
import pytest

from actionlog import cache
from actionlog.errors import NotFound, PayloadTooLarge


def test_a_value_round_trips_with_its_ttl(fake_redis: fakeredis.FakeRedis) -> None:
    cache.put("session:abc", {"theme": "dark"}, 3600, redis=fake_redis)

    cached = cache.get("session:abc", redis=fake_redis)

    assert cached is not None
    assert cached.encoded == '{"theme":"dark"}'
    assert cached.ttl_seconds is not None
    assert 3595 <= cached.ttl_seconds <= 3600


def test_a_value_without_ttl_reports_none(fake_redis: fakeredis.FakeRedis) -> None:
    cache.put("cache:profile:1", 1, None, redis=fake_redis)

    cached = cache.get("cache:profile:1", redis=fake_redis)

    assert cached is not None
    assert cached.ttl_seconds is None


def test_an_absent_key_reads_as_none(fake_redis: fakeredis.FakeRedis) -> None:
    assert cache.get("cache:nothing", redis=fake_redis) is None


def test_overwriting_without_ttl_drops_the_old_ttl(fake_redis: fakeredis.FakeRedis) -> None:
    cache.put("session:abc", 1, 60, redis=fake_redis)
    cache.put("session:abc", 2, None, redis=fake_redis)

    assert fake_redis.ttl("session:abc") == -1


def test_delete_says_whether_the_key_existed(fake_redis: fakeredis.FakeRedis) -> None:
    cache.put("session:abc", 1, None, redis=fake_redis)

    assert cache.delete("session:abc", redis=fake_redis) is True
    assert cache.delete("session:abc", redis=fake_redis) is False


def test_a_value_over_256_kib_of_json_is_refused_before_redis(fake_redis: fakeredis.FakeRedis) -> None:
    with pytest.raises(PayloadTooLarge):
        cache.put("session:abc", "v" * (256 * 1024), None, redis=fake_redis)

    assert fake_redis.exists("session:abc") == 0


def test_a_lookup_of_an_absent_key_is_not_found(fake_redis: fakeredis.FakeRedis) -> None:
    with pytest.raises(NotFound):
        cache.lookup("cache:nothing", redis=fake_redis)


def test_a_value_another_client_stored_as_plain_text_reads_back_as_that_text(fake_redis: fakeredis.FakeRedis) -> None:
    fake_redis.set("session:abc", "not json")

    assert cache.lookup("session:abc", redis=fake_redis).value() == "not json"
