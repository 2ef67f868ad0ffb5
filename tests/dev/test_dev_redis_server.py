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
