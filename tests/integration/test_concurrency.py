"""Several warm containers (processes) writing one user's log at once, against a real redis-server."""

import json
import multiprocessing
import threading

import pytest
import redis

from tests.support import RedisServer, log_actions_as_a_warm_container

pytestmark = pytest.mark.redis_server

WRITERS = 4
PER_WRITER = 150
CAP = 100


def test_concurrent_writers_end_at_the_cap_keeping_every_writers_newest(
    session_redis_server: RedisServer, real_redis: redis.Redis
) -> None:
    largest_seen: list[int] = []
    done = threading.Event()

    def watch_length() -> None:
        while not done.is_set():
            largest_seen.append(len(real_redis.lrange("user:42:actions", 0, -1)))

    watcher = threading.Thread(target=watch_length)
    watcher.start()
    with multiprocessing.get_context("spawn").Pool(WRITERS) as pool:
        results = pool.starmap(
            log_actions_as_a_warm_container,
            [(session_redis_server.url, "42", f"w{n}", PER_WRITER) for n in range(WRITERS)],
        )
    done.set()
    watcher.join()

    assert all(status == 201 for statuses in results for status in statuses)
    stored = [json.loads(item)["metadata"] for item in real_redis.lrange("user:42:actions", 0, -1)]
    assert len(stored) == CAP
    assert max(largest_seen) <= CAP
    for writer in (f"w{n}" for n in range(WRITERS)):
        kept = [entry["sequence"] for entry in stored if entry["writer"] == writer]
        # Newest first, and a suffix of what the writer sent: nothing newer than a kept entry was lost.
        assert kept == list(range(PER_WRITER - 1, PER_WRITER - 1 - len(kept), -1))
    assert any(entry["sequence"] == PER_WRITER - 1 for entry in stored)
