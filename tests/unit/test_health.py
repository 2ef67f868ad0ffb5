import fakeredis

from actionlog import health, keys


def test_a_healthy_store_passes_the_write_and_read_test(fake_redis: fakeredis.FakeRedis) -> None:
    report = health.check(redis=fake_redis)

    assert report.status == "ok"
    assert (report.connected, report.writeTest, report.readTest) == (True, True, True)
    assert report.latencyMs is not None
    assert report.latencyMs >= 0
    assert report.mode == "standalone"


def test_the_probe_key_is_short_lived(fake_redis: fakeredis.FakeRedis) -> None:
    health.check(redis=fake_redis)

    assert 0 < fake_redis.ttl(keys.HEALTH_KEY) <= health.HEALTH_KEY_TTL_SECONDS
