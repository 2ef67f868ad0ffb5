"""The bench's own instruments: the round-trip counter on a real server, and the pure parts of the quick mode."""

import base64
import json
import time
from collections.abc import Iterator

import pytest
from redis import Redis

from bench import floors
from bench.__main__ import QUICK, run_worker
from bench.operations import (
    SEED,
    RoundTripCounter,
    counting_round_trips,
    operation,
    side_by_side,
)
from tests.support import RedisServer, redis_server_binary


@pytest.fixture(scope="module")
def bench_server() -> Iterator[RedisServer]:
    redis_server_binary()  # skips (or fails, when CI requires real servers) without redis-server
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.mark.redis_server
def test_every_handler_takes_one_round_trip_and_the_seeds_write_two(bench_server: RedisServer) -> None:
    counted = run_worker("warm", QUICK, bench_server.url).round_trips

    assert counted["log one"] == (1, 1)
    assert counted["read 50"][0] == 1
    assert counted[SEED] == (2, 1)


@pytest.mark.redis_server
def test_the_counter_sees_a_pipeline_as_one_round_trip_however_many_commands(bench_server: RedisServer) -> None:
    redis: Redis = floors.client(bench_server.url)
    redis.ping()
    with counting_round_trips() as counter:
        batch = counter.count(lambda: floors.FLOORS["log_batch"](redis))
        seed = counter.count(lambda: floors.FLOORS["seed_log_one"](redis))

    assert (batch, seed) == (1, 2)


def test_a_counter_counts_a_new_round_trip_only_after_a_reply() -> None:
    counter = RoundTripCounter()

    def send_twice_then_read() -> None:
        counter.sent()
        counter.sent()
        counter.received()
        counter.received()

    assert counter.count(send_twice_then_read) == 1


def test_the_batch_event_carries_100_actions_encoded_as_the_event_file_encodes_them() -> None:
    event = operation("log batch of 100").event()

    assert event["isBase64Encoded"] is True
    assert len(json.loads(base64.b64decode(event["body"]))["actions"]) == 100


def test_the_read_event_asks_for_50() -> None:
    event = operation("read 50").event()

    assert (event["queryStringParameters"], event["rawQueryString"]) == ({"limit": "50"}, "limit=50")


def test_side_by_side_reports_the_slower_call_as_a_ratio_above_one() -> None:
    result = side_by_side(lambda: time.sleep(0.002), lambda: time.sleep(0.0005), rounds=3, block_seconds=0.01)

    assert result.subject_us > result.floor_us
    assert result.ratio > 1
