"""The bench's own instruments: the round-trip counter on a real server, and the pure parts of the quick mode."""

import base64
import json
import time
from collections.abc import Iterator

import pytest
from redis import Redis

from bench import floors
from bench.__main__ import QUICK, run_worker
from bench.cold import ColdResult
from bench.operations import (
    OPERATIONS,
    SEED,
    Memory,
    RoundTripCounter,
    SideBySide,
    Warm,
    counting_round_trips,
    operation,
    side_by_side,
)
from bench.report import Results
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


def test_the_report_fails_a_target_it_misses_and_says_what_it_did_not_measure() -> None:
    timing = SideBySide(300.0, 100.0, 3.0, (2.9, 3.1), 110.0, 2.7)
    warm = Warm({op.name: timing for op in OPERATIONS}, timing, {op.name: (1, 1) for op in OPERATIONS} | {SEED: (2, 1)})
    cold = [ColdResult(op.name, op.function, (260.0, 240.0), (200.0, 180.0), 1.3, (1.2, 1.4), 12) for op in OPERATIONS]
    results = Results(
        QUICK, 8.0, {"date": "today", "CPUs": "2"}, warm, cold, "the source tree", Memory(40, 42), "skipped"
    )
    verdicts = {target: (measured, result) for target, measured, result in results.verdicts()}

    assert verdicts["warm log one ≤ 2.0x plain redis-py"] == ("3.00x (2.90 to 3.10)", "**FAIL**")
    assert verdicts["warm log batch of 100 ≤ 3.0x plain redis-py"][1] == "pass"
    assert verdicts["round trips: 1 per operation, health ≤ 2"] == ("every operation 1", "pass")
    assert verdicts["layer ≤ 25 MB unzipped, as deployed"] == ("skipped", "not measured")
    assert "| log_action | log one | 260 | 240 | 200 | 180 | 1.30x (1.20 to 1.40) | pass |" in results.render()
