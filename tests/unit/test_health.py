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


def test_a_server_without_info_gets_the_figures_marked_unknown_not_an_error(fake_redis: fakeredis.FakeRedis) -> None:
    # Given a server that does not know INFO (fakeredis, as `make run` embeds it without redis-server)
    # When its info is asked for
    info = health.server_info(redis=fake_redis)

    # Then the answer says what it cannot know, rather than failing or reporting zeros as figures
    assert (info.redisVersion, info.mode, info.note) == ("unknown", "standalone", health.NO_INFO)
