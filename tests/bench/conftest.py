"""What the bench's tests share: a redis-server of their own for each module."""

from collections.abc import Iterator

import pytest

from tests.support import RedisServer, redis_server_binary


@pytest.fixture(scope="module")
def bench_server() -> Iterator[RedisServer]:
    redis_server_binary()  # skips (or fails, when CI requires real servers) without redis-server
    server = RedisServer().start()
    yield server
    server.stop()
