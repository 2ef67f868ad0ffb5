"""Redis that stops answering: every caller gets an answer inside the socket-timeout budget, nothing is lost."""

import json
import time

import pytest
import redis

from actionlog import actions
from tests.support import (
    FlakyProxy,
    RedisServer,
    handler_module,
    invoke,
    lambda_context,
    load_event,
    with_body,
)

pytestmark = pytest.mark.redis_server

# At most (1 + REDIS_RETRIES) x REDIS_SOCKET_TIMEOUT plus backoff; the function timeout is 10 s.
BUDGET_SECONDS = 3.5


def sqs_batch(*bodies: dict) -> dict:  # type: ignore[type-arg]
    template = load_event("ingest_actions.json")["Records"][0]
    return {
        "Records": [
            {**template, "messageId": f"m-{number}", "body": json.dumps(body)} for number, body in enumerate(bodies)
        ]
    }


def ingest(event: dict) -> set[str]:  # type: ignore[type-arg]
    response = handler_module("ingest_actions").lambda_handler(event, lambda_context())
    return {failure["itemIdentifier"] for failure in response["batchItemFailures"]}


def test_a_redis_that_stalls_mid_stream_gets_a_503_within_the_budget(
    session_redis_server: RedisServer,
    real_redis: redis.Redis,
    configure,  # type: ignore[no-untyped-def]
) -> None:
    real_redis.script_load(actions.LOG_SCRIPT)  # one request per write after the connection handshake
    with FlakyProxy(session_redis_server.port, cut_after_requests=4, failure="stall") as proxy:
        configure(REDIS_URL=proxy.url)
        statuses = []
        for number in range(4):
            started = time.monotonic()
            event = with_body(load_event("log_action.json"), {"action": f"a{number}"})
            statuses.append((invoke("log_action", event)["statusCode"], time.monotonic() - started))

    assert statuses[0][0] == 201
    assert 503 in [status for status, _ in statuses]
    assert all(seconds < BUDGET_SECONDS for _, seconds in statuses)
    # Every 201 is in Redis; nothing answered 503 was reported logged.
    logged = [json.loads(item)["action"] for item in real_redis.lrange("user:123:actions", 0, -1)]
    assert len(logged) == sum(1 for status, _ in statuses if status == 201)


def test_a_black_holed_redis_fails_the_whole_sqs_batch_inside_the_function_timeout(configure) -> None:  # type: ignore[no-untyped-def]
    with FlakyProxy(None) as black_hole:
        configure(REDIS_URL=black_hole.url)
        event = sqs_batch(*({"userId": "123", "action": f"a{n}"} for n in range(10)))

        started = time.monotonic()
        failed = ingest(event)
        elapsed = time.monotonic() - started

    assert failed == {record["messageId"] for record in event["Records"]}
    assert elapsed < BUDGET_SECONDS  # the batch stopped trying after the first timeout


def test_redis_stalling_mid_sqs_batch_reports_exactly_the_unwritten_records(
    session_redis_server: RedisServer,
    real_redis: redis.Redis,
    configure,  # type: ignore[no-untyped-def]
) -> None:
    event = sqs_batch(*({"userId": "123", "action": f"a{n}"} for n in range(8)))
    real_redis.script_load(actions.LOG_SCRIPT)  # one request per record after the connection handshake
    with FlakyProxy(session_redis_server.port, cut_after_requests=6, failure="stall") as proxy:
        configure(REDIS_URL=proxy.url)
        started = time.monotonic()
        failed = ingest(event)
        elapsed = time.monotonic() - started

    done = {json.loads(r["body"])["action"] for r in event["Records"] if r["messageId"] not in failed}
    logged = {json.loads(item)["action"] for item in real_redis.lrange("user:123:actions", 0, -1)}
    assert failed
    assert done
    assert done <= logged  # every record reported done is in Redis
    assert elapsed < BUDGET_SECONDS + 1

    # Redelivery of the failed records, with Redis answering again: each ends up logged exactly once.
    configure(REDIS_URL=session_redis_server.url)
    retry = {"Records": [record for record in event["Records"] if record["messageId"] in failed]}
    assert ingest(retry) == set()
    everything = [json.loads(item)["action"] for item in real_redis.lrange("user:123:actions", 0, -1)]
    assert sorted(everything) == sorted(f"a{n}" for n in range(8))
