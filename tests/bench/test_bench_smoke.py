"""The bench's own instruments: the round-trip counter on a real server, and the pure parts of the quick mode."""

import base64
import json
import time

import pytest
from redis import Redis

from bench import floors
from bench.__main__ import QUICK, run_worker
from bench.operations import (
    OPERATIONS,
    SEED,
    RoundTripCounter,
    Subjects,
    counting_round_trips,
    operation,
    side_by_side,
)
from tests.support import RedisServer


@pytest.mark.redis_server
def test_the_warm_phase_counts_each_operations_round_trips_beside_its_floors(bench_server: RedisServer) -> None:
    # Given the template's defaults: rate limits, quotas and retention on
    warm = run_worker("warm", QUICK, bench_server.url)

    counted, allowed = warm.round_trips, warm.round_trips_allowed
    assert set(counted) == {op.name for op in OPERATIONS} | {SEED}
    assert (counted["log one"], allowed["log one"]) == ((1, 1), 1)
    assert (counted["read 50"][0], allowed["read 50"]) == (1, 1)
    assert (counted["count"][1], allowed["count"]) == (1, 1)  # LLEN: the request is counted in the same round trip
    assert counted[SEED] == (2, 1)
    assert set(warm.limits) == {"log one", "read 50"}
    assert all(timing.reference_quartiles is not None for timing in warm.operations.values())
    assert 0 < warm.loopback_us < min(timing.floor_us for timing in warm.operations.values())  # a floor's own part


def test_each_operation_is_allowed_its_floors_round_trips_and_health_one_spare() -> None:
    allowed = {op.name: op.round_trips_allowed() for op in OPERATIONS}

    assert allowed == {op.name: 1 for op in OPERATIONS} | {
        "erase user": 2,  # ZRANGE, then the erasing script
        "health": 2,
    }


def test_subjects_change_after_so_many_calls_and_refuse_a_call_past_the_last() -> None:
    subjects = Subjects("user", calls=5, per_subject=2)

    taken = [subjects.take() for _ in range(6)]

    assert subjects.names == ["user-0", "user-1", "user-2"]
    assert taken == [0, 0, 1, 1, 2, 2]
    with pytest.raises(RuntimeError):
        subjects.take()


def test_an_event_about_another_subject_names_it_in_its_path_and_its_token() -> None:
    event = operation("user cache get").event("bench-7")

    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    assert (event["pathParameters"], event["rawPath"]) == (
        {"userId": "bench-7", "key": "prefs"},
        "/users/bench-7/cache/prefs",
    )
    assert claims["sub"] == "bench-7"
    assert claims["client_id"] != claims["sub"]  # a user's token from the app's client, not a client's own token
    assert operation("user cache get").event()["pathParameters"]["userId"] == "123"  # the file's, unchanged


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
