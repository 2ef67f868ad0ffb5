"""dev.redis_server: the Redis of a local run."""

import tempfile
from pathlib import Path

import pytest
import redis

from dev.redis_server import EmbeddedRedis, ThrowawayRedisServer, local_redis
from tests.support import redis_server_binary


@pytest.mark.redis_server
def test_a_local_run_serves_a_real_redis_server_where_one_is_installed() -> None:
    redis_server_binary()  # skipped, or failed under CI, where it is missing

    server = local_redis()
    try:
        assert isinstance(server, ThrowawayRedisServer)
        assert "redis-server" in server.description
        client = server.client()
        assert client.execute_command("INFO", "server")["redis_version"]
        client.close()
    finally:
        server.close()
    assert server.process is None


def test_without_redis_server_a_local_run_embeds_fakeredis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without redis-server
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))

    server = local_redis()
    try:
        assert isinstance(server, EmbeddedRedis)
        assert "fakeredis" in server.description
        client = redis.Redis.from_url(server.url, socket_timeout=2)
        assert client.ping()
        client.close()
    finally:
        server.close()
    assert list(temporary.iterdir()) == []  # the redis-server that could not start left no directory behind


@pytest.mark.redis_server
def test_a_stopped_server_leaves_no_directory_and_starts_again_empty_on_its_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a server started in a temp directory of the test's own, holding a key
    redis_server_binary()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    server = ThrowawayRedisServer().start()
    try:
        server.client().set("key", "value")

        # When it is stopped
        server.stop()

        # Then nothing of it is left, and it starts again on the same port, empty
        assert list(tmp_path.iterdir()) == []
        port = server.port
        server.start()
        assert (server.port, server.client().get("key")) == (port, None)
    finally:
        server.close()
    assert list(tmp_path.iterdir()) == []
