"""Several warm containers (processes) writing one user's log at once, against a real redis-server."""

import json
import multiprocessing
import threading

import pytest
import redis

from tests.support import (
    RedisServer,
    log_actions_as_a_warm_container,
    read_users_as_a_warm_container,
    write_users_as_a_warm_container,
)

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


MANY_WRITERS = 6
READERS = 2
USERS = ["alice", "bob", "carol"]
ROUNDS = 60  # per writer and user: 360 writes per user against a cap of 100


def test_many_containers_writing_and_reading_shared_and_separate_users(
    session_redis_server: RedisServer, real_redis: redis.Redis
) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(MANY_WRITERS + READERS) as pool:
        # Writers 0-2 share every user; writers 3-5 each also own a user nobody else touches.
        writes = [
            pool.apply_async(
                write_users_as_a_warm_container,
                (session_redis_server.url, f"w{n}", USERS if n < 3 else [*USERS, f"solo{n}"], ROUNDS),
            )
            for n in range(MANY_WRITERS)
        ]
        reads = [
            pool.apply_async(read_users_as_a_warm_container, (session_redis_server.url, USERS, 300, CAP))
            for _ in range(READERS)
        ]
        created = sum(result.get(timeout=120) for result in writes)
        seen = [result.get(timeout=120) for result in reads]

    assert created == ROUNDS * (3 * len(USERS) + 3 * (len(USERS) + 1))
    # Readers saw full pages while writers raced, and never the same entry twice in one page.
    assert all(duplicates == 0 for _, duplicates in seen)
    assert max(largest for largest, _ in seen) == CAP
    for user in [*USERS, "solo3", "solo4", "solo5"]:
        stored = [json.loads(item) for item in real_redis.lrange(f"user:{user}:actions", 0, -1)]
        expected_length = CAP if user in USERS else ROUNDS
        assert len(stored) == expected_length, user
        assert len({entry["id"] for entry in stored}) == len(stored), f"{user}: duplicated entries"
        for writer in {entry["metadata"]["writer"] for entry in stored}:
            kept = [entry["metadata"]["sequence"] for entry in stored if entry["metadata"]["writer"] == writer]
            assert kept == list(range(ROUNDS - 1, ROUNDS - 1 - len(kept), -1)), f"{user}/{writer} lost a newer entry"
