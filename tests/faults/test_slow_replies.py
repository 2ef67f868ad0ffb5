"""A reply that arrives after the socket timeout: the write is not sent a second time."""

import threading
import time
from collections.abc import Iterator

import pytest
import redis

from actionlog import actions
from tests.limits.proxies import Proxy
from tests.support import RedisServer, invoke, load_event

pytestmark = pytest.mark.redis_server


class SlowReplies(Proxy):
    """A loopback proxy to Redis that, once `slow` is set, holds the next reply for `delay` seconds."""

    def __init__(self, target_port: int, delay: float) -> None:
        self.delay = delay
        self.slow = threading.Event()
        super().__init__(target_port, on_reply=self._hold)

    def _hold(self, chunk: bytes) -> None:
        if self.slow.is_set():
            self.slow.clear()  # one slow reply: a second attempt on a new connection would be answered
            time.sleep(self.delay)


@pytest.fixture
def slow_replies(
    session_redis_server: RedisServer,
    real_redis: redis.Redis,
    configure,  # type: ignore[no-untyped-def]
) -> Iterator[SlowReplies]:
    # After real_redis, which points the handlers straight at the server: here they go through the proxy.
    proxy = SlowReplies(session_redis_server.port, delay=1.5)  # longer than the 1 s socket timeout
    configure(REDIS_URL=proxy.url)
    yield proxy
    proxy.close()


def test_a_write_whose_reply_times_out_is_answered_503_and_logged_once(
    slow_replies: SlowReplies, real_redis: redis.Redis
) -> None:
    assert invoke("health_check", load_event("health_check.json"))["statusCode"] == 200  # connection open
    real_redis.script_load(actions.LOG_SCRIPT)  # the write is one request: EVALSHA of a script Redis holds
    slow_replies.slow.set()

    response = invoke("log_action", load_event("log_action.json"))

    assert response["statusCode"] == 503  # not reported logged: the caller does not know, and may retry
    time.sleep(0.5)
    assert real_redis.llen("user:123:actions") == 1  # Redis ran it once; redis-py did not send it again
