"""Idempotency-Key on POST /users/{userId}/actions and /batch: the same key logs once, answers the same."""

import json

import pytest
import redis

from actionlog.actions import RECEIPTS_MAX
from tests.support import invoke, load_event, with_body, with_path

pytestmark = pytest.mark.redis_server


def with_key(event: dict, key: str) -> dict:  # type: ignore[type-arg]
    return {**event, "headers": {**event["headers"], "idempotency-key": key}}


def test_a_repeated_post_with_the_same_key_logs_once_and_returns_the_first_body(real_redis: redis.Redis) -> None:
    event = with_key(load_event("log_action.json"), "3f0c2a4e-retry-1")

    first = invoke("log_action", event)
    again = invoke("log_action", event)

    assert (first["statusCode"], again["statusCode"]) == (201, 201)
    assert again["json"] == first["json"]
    assert (first["headers"]["Idempotent-Replayed"], again["headers"]["Idempotent-Replayed"]) == ("false", "true")
    assert real_redis.llen("user:123:actions") == 1


@pytest.mark.parametrize("function", ["log_action", "log_batch_actions"])
def test_a_replayed_answer_is_the_first_answer_byte_for_byte(real_redis: redis.Redis, function: str) -> None:
    # Metadata whose encoding a re-encoder could change (key order, escapes, a float, non-ASCII), kept as first sent.
    metadata = {"z": 1.5e300, "a": "caf\u00e9 \u2028", "n": [None, True, {"deep": -0.0}]}
    body = {"action": "pay", "metadata": metadata}
    event = with_key(load_event(f"{function}.json"), f"byte-for-byte-{function}")
    event = with_body(event, body if function == "log_action" else {"actions": [body, body]})

    first = invoke(function, event)
    again = invoke(function, event)

    assert first["statusCode"] == again["statusCode"] == 201
    assert again["headers"]["Idempotent-Replayed"] == "true"
    assert again["body"] == first["body"]
    assert again["body"].encode() == first["body"].encode()


@pytest.mark.parametrize("spelling", ["Idempotency-Key", "IDEMPOTENCY-KEY", "idempotency-KEY"])
def test_the_key_is_honoured_whatever_the_case_of_its_header_name(real_redis: redis.Redis, spelling: str) -> None:
    # API Gateway lower-cases header names; `sam local start-api` passes them on as the client sent them.
    event = load_event("log_action.json")
    event = {**event, "headers": {**event["headers"], spelling: "case-1"}}

    first = invoke("log_action", event)
    again = invoke("log_action", event)

    assert (first["headers"]["Idempotent-Replayed"], again["headers"]["Idempotent-Replayed"]) == ("false", "true")
    assert again["body"] == first["body"]
    assert real_redis.llen("user:123:actions") == 1


def test_clearing_the_log_removes_its_receipts_and_a_retry_logs_again(real_redis: redis.Redis) -> None:
    event = with_key(load_event("log_action.json"), "before-clear")
    first = invoke("log_action", event)

    assert invoke("clear_user_actions", load_event("clear_user_actions.json"))["json"]["cleared"] is True
    assert real_redis.keys("actionlog:receipt*") == []
    again = invoke("log_action", event)

    assert again["headers"]["Idempotent-Replayed"] == "false"
    assert again["json"]["entry"]["id"] != first["json"]["entry"]["id"]
    assert real_redis.llen("user:123:actions") == 1


def test_an_expired_receipt_is_dropped_and_its_key_logs_again(real_redis: redis.Redis) -> None:
    event = with_key(load_event("log_action.json"), "expiring")
    invoke("log_action", event)
    [write_id] = real_redis.zrange("actionlog:receipt-expiries:{user:123:actions}", 0, -1)
    real_redis.zadd("actionlog:receipt-expiries:{user:123:actions}", {write_id: 1})  # as if 24 hours had passed

    again = invoke("log_action", event)

    assert again["headers"]["Idempotent-Replayed"] == "false"
    assert real_redis.llen("user:123:actions") == 2
    assert real_redis.hlen("actionlog:receipts:{user:123:actions}") == 1  # the old receipt replaced, not kept


def test_a_repeated_batch_with_the_same_key_logs_once(real_redis: redis.Redis) -> None:
    event = with_key(load_event("log_batch_actions.json"), "batch-7")

    responses = [invoke("log_batch_actions", event) for _ in range(3)]

    assert {json.dumps(response["json"]) for response in responses} == {json.dumps({"userId": "123", "count": 3})}
    assert real_redis.llen("user:123:actions") == 3


def test_without_a_key_every_post_is_logged(real_redis: redis.Redis) -> None:
    for _ in range(2):
        invoke("log_action", load_event("log_action.json"))

    assert real_redis.llen("user:123:actions") == 2


def test_the_same_key_with_another_body_is_refused_and_logs_nothing(real_redis: redis.Redis) -> None:
    event = with_key(load_event("log_action.json"), "k-1")
    invoke("log_action", event)

    response = invoke("log_action", with_body(event, {"action": "logout"}))

    assert response["statusCode"] == 422
    assert "Idempotency-Key" in response["json"]["message"]
    assert real_redis.llen("user:123:actions") == 1


def test_keys_are_per_user(real_redis: redis.Redis) -> None:
    admin = {"jwt": {"claims": {"sub": "ops"}, "scopes": ["actionlog/admin"]}}
    event = with_key(load_event("log_action.json"), "shared-key")
    other = with_path(event, "/users/456/actions", userId="456")
    other = {**other, "requestContext": {**other["requestContext"], "authorizer": admin}}

    invoke("log_action", event)
    invoke("log_action", other)

    assert real_redis.llen("user:123:actions") == real_redis.llen("user:456:actions") == 1


def test_a_malformed_key_is_a_bad_request_before_redis(real_redis: redis.Redis) -> None:
    response = invoke("log_action", with_key(load_event("log_action.json"), "bad key with spaces"))

    assert response["statusCode"] == 400
    assert real_redis.dbsize() == 0


def test_the_marker_is_never_written_when_the_write_fails(real_redis: redis.Redis) -> None:
    real_redis.set("user:123:actions", "not a list")  # LPUSH will fail with WRONGTYPE inside the script
    event = with_key(load_event("log_action.json"), "k-wrongtype")

    response = invoke("log_action", event)

    assert response["statusCode"] == 500
    assert real_redis.keys("actionlog:receipt*") == []
    real_redis.delete("user:123:actions")
    assert invoke("log_action", event)["statusCode"] == 201  # the key was not burnt by the failure
    assert real_redis.llen("user:123:actions") == 1


def test_a_user_keeps_the_receipts_of_their_newest_keyed_writes_only(real_redis: redis.Redis, configure) -> None:  # type: ignore[no-untyped-def]
    configure(RATE_LIMIT_WRITES="0")
    for number in range(RECEIPTS_MAX + 20):
        invoke("log_action", with_key(load_event("log_action.json"), f"k-{number}"))

    kept = real_redis.zrange("actionlog:receipt-expiries:{user:123:actions}", 0, -1)
    assert len(kept) == real_redis.hlen("actionlog:receipts:{user:123:actions}") == RECEIPTS_MAX
    assert "log_action:k-0" not in kept
    assert f"log_action:k-{RECEIPTS_MAX + 19}" in kept
    newest = invoke("log_action", with_key(load_event("log_action.json"), f"k-{RECEIPTS_MAX + 19}"))
    assert newest["headers"]["Idempotent-Replayed"] == "true"
