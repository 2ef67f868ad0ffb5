"""Attempts that the handlers turn away, each as a hostile or careless caller would make it: reaching another user's
data through a claim's type, case or look-alikes, the Serverpod forms, duplicate JSON keys or key injection; bodies
that test the parser and the byte limits at their boundaries; tricks on idempotency and SQS. Each must keep being
turned away. (Those the route and caller matrices already cover live in tests/contract/test_authorisation.py,
test_key_injection.py and test_bad_input.py.)"""

from __future__ import annotations

import base64
import inspect
import json
import logging
import sys
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
import redis

from actionlog import codec, keys
from dev import emulator, local_api, redis_server
from tests.support import (
    EVENTS,
    NEVER_LOGGED,
    free_port,
    handler_module,
    invoke,
    lambda_context,
    load_event,
    with_body,
    with_caller,
    with_path,
    with_query,
)

LOG = load_event("log_action.json")
BATCH = load_event("log_batch_actions.json")
READ = load_event("get_user_actions.json")
PUT = load_event("cache_set.json")
GET = load_event("cache_get.json")
USER_PUT = load_event("user_cache_set.json")
ADMIN = ({"sub": "ops"}, ["actionlog/admin"])
MIB = 1024 * 1024


@pytest.fixture
def unreachable_redis(configure: Callable[..., None]) -> None:
    """Redis on a closed port: a request that reached it would answer 503, so a 4xx also proves none did."""
    configure(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")


def as_caller(event: dict[str, Any], claims: Any, scopes: list[str] | None = None) -> dict[str, Any]:
    return with_caller(event, claims, scopes)


def serverpod(
    body: Any, *, method: str | None = None, claims: Any = None, endpoint: str = "userActions"
) -> dict[str, Any]:
    """A Serverpod call: the method in the path, or (method None) in the body."""
    event = load_event("serverpod_user_actions.json")
    route = f"/{endpoint}/{{method}}" if method is not None else f"/{endpoint}"
    event = {**event, "routeKey": f"POST {route}", "pathParameters": {"method": method} if method else None}
    event = with_body(event, body)
    if claims is not None:
        event = with_caller(event, claims)
    operation = "serverpod_user_actions" if endpoint == "userActions" else "serverpod_redis_health"
    return invoke(operation, event)


# Authorisation: `sub` claim variants against the path's user 123.


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize("sub", [["123"], "123 ", " 123", "\uff11\uff12\uff13", "0123", {"id": "123"}, True], ids=repr)
def test_a_sub_claim_that_only_resembles_the_users_id_is_refused(sub: Any) -> None:
    response = invoke("log_action", as_caller(LOG, {"sub": sub}))

    assert response["statusCode"] == 403


@pytest.mark.usefixtures("unreachable_redis")
def test_user_ids_differ_by_case() -> None:
    event = with_path(LOG, "/users/ABC/actions", userId="ABC")

    assert invoke("log_action", as_caller(event, {"sub": "abc"}))["statusCode"] == 403


@pytest.mark.usefixtures("unreachable_redis")
def test_an_empty_sub_against_an_empty_user_id_is_refused_by_the_pattern() -> None:
    event = with_path(LOG, "/users//actions", userId="")

    assert invoke("log_action", as_caller(event, {"sub": ""}))["statusCode"] == 400


# Authorisation: scope variants on another user's log (user 999 against 123) and on the shared cache.


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize(
    ("claims", "scopes"),
    [
        ({"sub": "999", "scope": ["actionlog/admin"]}, None),  # a list where a string is expected
        ({"sub": "999", "scope": "actionlog/adminx"}, None),
        ({"sub": "999", "scope": "ACTIONLOG/ADMIN"}, None),
        ({"sub": "999", "scp": "actionlog/admin"}, None),  # another issuer's claim name
        ({"sub": "999"}, ["actionlog/admin "]),
        ({"sub": "999"}, ["Actionlog/Admin"]),
    ],
    ids=["scope list", "adminx", "upper case", "scp claim", "trailing space", "capitalised"],
)
def test_a_scope_that_only_resembles_admin_is_no_admin(claims: dict[str, Any], scopes: list[str] | None) -> None:
    assert invoke("log_action", as_caller(LOG, claims, scopes))["statusCode"] == 403
    assert invoke("cache_set", as_caller(PUT, claims, scopes))["statusCode"] == 403


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize("claims", [{}, None], ids=["empty claims", "no authorizer"])
def test_a_request_without_claims_is_401(claims: Any) -> None:
    event = {**LOG, "requestContext": {**LOG["requestContext"], "authorizer": {"jwt": {"claims": claims}}}}

    assert invoke("log_action", event)["statusCode"] == 401


# Serverpod.


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize("method", [None, "logAction"], ids=["body method", "path method"])
def test_a_serverpod_call_for_another_user_is_refused(method: str | None) -> None:
    body = {"userId": 456, "action": "x"} | ({"method": "logAction"} if method is None else {})

    assert serverpod(body, method=method, claims={"sub": "123"})["statusCode"] == 403


def test_duplicate_user_id_keys_are_read_as_the_last_by_authorisation_and_the_write(real_redis: redis.Redis) -> None:
    victim_first = '{"userId": "456", "userId": "123", "action": "x"}'
    victim_last = '{"userId": "123", "userId": "456", "action": "x"}'

    allowed = serverpod(victim_first, method="logAction", claims={"sub": "123"})
    refused = serverpod(victim_last, method="logAction", claims={"sub": "123"})

    assert (allowed["statusCode"], refused["statusCode"]) == (200, 403)
    assert (real_redis.llen("user:123:actions"), real_redis.exists("user:456:actions")) == (1, 0)


def test_duplicate_method_keys_are_read_as_the_last(real_redis: redis.Redis) -> None:
    body = '{"method": "clearUserActions", "method": "logAction", "userId": "123", "action": "x"}'

    response = serverpod(body, claims={"sub": "123"})

    assert response["statusCode"] == 200
    assert real_redis.llen("user:123:actions") == 1


def test_the_method_in_the_path_wins_over_one_in_the_body(real_redis: redis.Redis) -> None:
    body = {"method": "clearUserActions", "userId": "123", "action": "x"}

    assert serverpod(body, method="logAction", claims={"sub": "123"})["statusCode"] == 200
    assert real_redis.llen("user:123:actions") == 1


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize("user_id", ["true", "1.0", "1e2", '["123"]', "1" * 65, "null"])
def test_a_serverpod_user_id_that_is_no_id_is_a_bad_request(user_id: str) -> None:
    body = '{"userId": ' + user_id + ', "action": "x"}'

    assert serverpod(body, method="logAction", claims=ADMIN[0] | {"scope": "actionlog/admin"})["statusCode"] == 400


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize("method", ["__init__", "get", "methods", "__class__", "answer"])
def test_a_method_name_that_is_a_python_attribute_is_no_method(method: str) -> None:
    assert serverpod({"userId": "123"}, method=method, claims={"sub": "123"})["statusCode"] == 404
    assert serverpod({"userId": "123", "method": method}, claims={"sub": "123"})["statusCode"] == 404


def test_the_public_check_route_runs_check_whatever_its_body_names(real_redis: redis.Redis) -> None:
    event = load_event("serverpod_redis_health.json")

    response = invoke("serverpod_redis_health", with_caller(with_body(event, {"method": "info"}), None))

    assert (response["statusCode"], response["json"]) == (200, {"status": "ok"})


# Keys.


@pytest.mark.parametrize("key", ["actions", "..:actions", "receipts", "user:123:actions"])
def test_a_user_cache_key_named_like_other_data_stays_in_the_users_cache(fake_server: redis.Redis, key: str) -> None:
    fake_server.lpush("user:123:actions", "{}")
    event = with_path(USER_PUT, f"/users/123/cache/{key}", userId="123", key=key)

    response = invoke("user_cache_set", event)

    assert response["statusCode"] == 200
    assert fake_server.exists(keys.user_cache_key("123", key)) == 1
    assert fake_server.type("user:123:actions") == "list"


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize("key", ["a/b", "%2e%2e", "..%2Factions", "a b", "a\nb", "{a}", "\uff41", "k" * 201])
def test_a_user_cache_key_with_a_character_outside_the_alphabet_is_refused(key: str) -> None:
    event = with_path(USER_PUT, f"/users/123/cache/{key}", userId="123", key=key)

    assert invoke("user_cache_set", event)["statusCode"] == 400


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize("user_id", ["123%2Factions", "123%2f", "1:2", "123/actions"])
def test_a_user_id_with_an_encoded_slash_or_a_colon_is_refused(user_id: str) -> None:
    event = as_caller(with_path(LOG, f"/users/{user_id}/actions", userId=user_id), *ADMIN)

    assert invoke("log_action", event)["statusCode"] == 400


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize(
    ("key", "status"),
    [("user:1:cache:x", 403), ("actionlog:health", 403), ("Session:abc", 403), ("sessionx:abc", 403),
     ("session:*", 400), ("cache:a*b", 400)],
)  # fmt: skip
def test_a_shared_cache_key_outside_the_allowed_prefixes_is_refused(key: str, status: int) -> None:
    event = as_caller(with_path(PUT, f"/cache/{key}", key=key), *ADMIN)

    assert invoke("cache_set", event)["statusCode"] == status


# Idempotency.


def keyed(event: dict[str, Any], key: str) -> dict[str, Any]:
    return {**event, "headers": {**event["headers"], "idempotency-key": key}}


def test_the_same_key_on_another_route_is_another_write(real_redis: redis.Redis) -> None:
    one = invoke("log_action", keyed(LOG, "shared-key"))
    batch = invoke("log_batch_actions", keyed(BATCH, "shared-key"))

    assert (one["statusCode"], batch["statusCode"]) == (201, 201)
    assert batch["headers"]["Idempotent-Replayed"] == "false"


@pytest.mark.parametrize("other", [" ", "\n"], ids=["space", "newline"])
def test_the_same_key_with_a_body_that_differs_only_in_whitespace_is_refused(
    real_redis: redis.Redis, other: str
) -> None:
    first = invoke("log_action", keyed(with_body(LOG, '{"action": "a"}'), "ws-key"))
    again = invoke("log_action", keyed(with_body(LOG, '{"action": "a"}' + other), "ws-key"))

    assert (first["statusCode"], again["statusCode"]) == (201, 422)
    assert real_redis.llen("user:123:actions") == 1


def test_the_users_key_used_by_an_admin_for_them_with_another_body_is_refused(real_redis: redis.Redis) -> None:
    invoke("log_action", keyed(with_body(LOG, {"action": "a"}), "admin-key"))

    response = invoke("log_action", as_caller(keyed(with_body(LOG, {"action": "b"}), "admin-key"), *ADMIN))

    assert response["statusCode"] == 422
    assert real_redis.llen("user:123:actions") == 1


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize("key", ["k3,k3", "", "k" * 129, "a\nb", "a b", "k\u00e9"])
def test_a_malformed_idempotency_key_is_a_bad_request(key: str) -> None:
    assert invoke("log_action", keyed(LOG, key))["statusCode"] == 400


# Input limits.


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(("depth", "status"), [(63, 201), (64, 400), (65, 400), (199, 400), (5000, 400)])
def test_metadata_nested_past_64_levels_is_a_bad_request(fake_server: redis.Redis, depth: int, status: int) -> None:
    # The metadata object is the first level: a value nested `depth` deep inside it is `depth` + 1 levels.
    response = invoke("log_action", with_body(LOG, '{"action": "a", "metadata": {"m": ' + nested(depth) + "}}"))

    assert response["statusCode"] == status


@pytest.mark.parametrize(("depth", "status"), [(64, 200), (65, 400), (199, 400), (5000, 400)])
def test_a_cache_value_nested_past_64_levels_is_a_bad_request(
    fake_server: redis.Redis, depth: int, status: int
) -> None:
    assert invoke("cache_set", with_body(PUT, '{"value": ' + nested(depth) + "}"))["statusCode"] == status


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize("body", ['{"value": "\\udc00"}', '{"value": "\\ud800x"}', '{"value": "\ud800"}'])
def test_a_lone_surrogate_escaped_or_raw_is_refused(body: str) -> None:
    event = {**PUT, "body": base64.b64encode(body.encode("utf-8", "surrogatepass")).decode(), "isBase64Encoded": True}

    assert invoke("cache_set", event)["statusCode"] in (400, 422)


@pytest.mark.usefixtures("unreachable_redis")
def test_a_body_starting_with_a_byte_order_mark_is_a_bad_request() -> None:
    assert invoke("log_action", with_body(LOG, '\ufeff{"action": "a"}'))["statusCode"] == 400


def test_nul_in_metadata_is_stored_escaped(fake_server: redis.Redis) -> None:
    response = invoke("log_action", with_body(LOG, {"action": "a", "metadata": {"n": "x\u0000y"}}))

    assert response["statusCode"] == 201
    [stored] = fake_server.lrange("user:123:actions", 0, -1)
    assert "\\u0000" in stored
    assert "\x00" not in stored


@pytest.mark.parametrize(("count", "status"), [(100, 201), (101, 422)])
def test_an_action_name_counts_characters_not_bytes_or_utf16_units(
    fake_server: redis.Redis, count: int, status: int
) -> None:
    assert invoke("log_action", with_body(LOG, {"action": "\U0001f600" * count}))["statusCode"] == status


def test_duplicate_json_keys_are_read_as_the_last_everywhere(fake_server: redis.Redis) -> None:
    invoke("log_action", with_body(LOG, '{"action": "first", "action": "last", "metadata": {"k": 1, "k": 2}}'))

    [entry] = invoke("get_user_actions", READ)["json"]["actions"]
    assert (entry["action"], entry["metadata"]) == ("last", {"k": 2})


TIMESTAMPS = {
    "0001-01-01T01:00:00+01:00": "0001-01-01T00:00:00.000Z",
    "0001-01-01T00:00:00+01:00": None,
    "9999-12-31T22:59:59-01:00": "9999-12-31T23:59:59.000Z",
    "9999-12-31T23:59:59-01:00": None,
    "2025-10-15T14:30:00+24:00": None,
    "2024-02-30T00:00:00Z": None,
    "2016-12-31T23:59:60Z": None,
    "2025-10-15T14:30:00": None,
    "2024-W01-1T00:00:00Z": None,
    "2025-10-15T14:30:00.123456789Z": "2025-10-15T14:30:00.123Z",
    "2025-10-15T14:30:00.1Z": "2025-10-15T14:30:00.100Z",
    "2025-10-15T16:30:00+02:00": "2025-10-15T14:30:00.000Z",
    "2025-10-15t14:30:00z": "2025-10-15T14:30:00.000Z",
    "2024-02-29T00:00:00Z": "2024-02-29T00:00:00.000Z",
    "": None,
}


@pytest.mark.parametrize(("sent", "stored"), list(TIMESTAMPS.items()))
def test_a_timestamp_at_an_edge_is_stored_in_utc_or_refused_never_a_500(
    fake_server: redis.Redis, sent: str, stored: str | None
) -> None:
    response = invoke("log_action", with_body(LOG, {"action": "a", "timestamp": sent}))

    assert response["statusCode"] == (201 if stored else 422), response["body"]
    if stored:
        assert response["json"]["entry"]["timestamp"] == stored


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize("timestamp", [1760538600, 1760538600.5, True])
def test_a_numeric_timestamp_is_refused(timestamp: Any) -> None:
    assert invoke("log_action", with_body(LOG, {"action": "a", "timestamp": timestamp}))["statusCode"] == 422


def base64_event(event: dict[str, Any], encoded: str) -> dict[str, Any]:
    return {**event, "body": encoded, "isBase64Encoded": True}


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize(
    ("encoded", "status"),
    [
        (base64.b64encode(b'{"action":"a"}').decode().rstrip("="), 400),  # padding missing
        (base64.b64encode(b'{"action":"a"}').decode() + "==", 400),  # padding extra
        (" " + base64.b64encode(b'{"action":"a"}').decode(), 400),
        (base64.b64encode(b"\xc3\x28").decode(), 400),  # not UTF-8
        (base64.b64encode(b'{"action":"' + b"a" * MIB + b'"}').decode(), 413),  # 1 MiB + 15 bytes decoded
    ],
    ids=["missing padding", "extra padding", "leading space", "not UTF-8", "over 1 MiB decoded"],
)
def test_a_malformed_or_oversized_base64_body_is_refused(encoded: str, status: int) -> None:
    assert invoke("log_action", base64_event(LOG, encoded))["statusCode"] == status


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize("character", ["\u00e9", "\u20ac", "\U0001f600"])
def test_a_multibyte_body_over_1_mib_in_utf8_is_refused(character: str) -> None:
    # Fewer than 1 MiB characters, more than 1 MiB bytes
    text = '{"action": "a", "metadata": {"m": "' + character * (MIB // len(character.encode()) + 1) + '"}}'

    assert invoke("log_action", with_body(LOG, text))["statusCode"] == 413


def test_a_body_on_a_get_is_ignored_unless_over_1_mib(fake_server: redis.Redis) -> None:
    assert invoke("get_user_actions", with_body(READ, '{"not": "read"}'))["statusCode"] == 200
    assert invoke("get_user_actions", with_body(READ, "x" * (2 * MIB)))["statusCode"] == 413


@pytest.mark.parametrize(
    ("limit", "status"),
    [("10,20", 400), ("\uff11\uff10", 400), ("+10", 400), (" 10", 400), ("0x10", 400), ("1e1", 400), ("10.0", 400),
     ("0", 400), ("-1", 400), ("", 400), ("101", 400), ("9999999999", 400), ("12345678901", 400),
     ("0000000010", 200), ("100", 200)],
)  # fmt: skip
def test_a_limit_that_is_not_1_to_the_cap_in_decimal_digits_is_refused(
    fake_server: redis.Redis, limit: str, status: int
) -> None:
    assert invoke("get_user_actions", with_query(READ, limit=limit))["statusCode"] == status


def test_extra_and_huge_query_parameters_are_ignored(fake_server: redis.Redis) -> None:
    event = with_query(READ, limit="10", other="x" * 100_000, **{"limit2": "0", "user": "456"})

    assert invoke("get_user_actions", event)["statusCode"] == 200


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize("digits", [4301, 4400, 10_000])
def test_an_integer_past_the_parsers_digit_limit_is_a_bad_request(digits: int) -> None:
    body = '{"action": "a", "metadata": {"n": ' + "7" * digits + "}}"

    assert invoke("log_action", with_body(LOG, body))["statusCode"] == 400


def test_a_safe_integer_round_trips_exactly(fake_server: redis.Redis) -> None:
    invoke("log_action", with_body(LOG, '{"action": "a", "metadata": {"n": 9007199254740991, "m": -42}}'))

    [entry] = invoke("get_user_actions", READ)["json"]["actions"]
    assert entry["metadata"] == {"n": 9007199254740991, "m": -42}


def metadata_of(size: int, fill: str = "x") -> dict[str, str]:
    """Metadata whose compact encoding is `size` bytes: {"m":"xxx..."}."""
    return {"m": fill * ((size - len('{"m":""}')) // len(json.dumps(fill)[1:-1].encode()))}


@pytest.mark.parametrize(("size", "status"), [(4096, 201), (4097, 422)])
def test_metadata_is_measured_in_bytes_at_its_boundary(fake_server: redis.Redis, size: int, status: int) -> None:
    metadata = metadata_of(size)
    assert len(json.dumps(metadata, separators=(",", ":")).encode()) == size

    assert invoke("log_action", with_body(LOG, {"action": "a", "metadata": metadata}))["statusCode"] == status


@pytest.mark.parametrize(("size", "status"), [(262_144, 200), (262_145, 413)])
def test_a_cache_value_is_measured_in_bytes_at_its_boundary(fake_server: redis.Redis, size: int, status: int) -> None:
    value = "v" * (size - 2)  # a JSON string: its quotes are the other two bytes

    assert invoke("cache_set", with_body(PUT, {"value": value}))["statusCode"] == status


@pytest.mark.usefixtures("unreachable_redis")
def test_metadata_of_escaped_control_characters_is_measured_as_escaped() -> None:
    # 700 control characters: 700 bytes raw, 4,200 once escaped as \u0001 in the stored encoding
    response = invoke("log_action", with_body(LOG, {"action": "a", "metadata": {"m": "\u0001" * 700}}))

    assert response["statusCode"] == 422


@pytest.mark.parametrize(("characters", "status"), [(1360, 201), (1400, 422)])
def test_non_ascii_metadata_is_measured_in_utf8_bytes(fake_server: redis.Redis, characters: int, status: int) -> None:
    # 3 bytes each in UTF-8: 1,360 characters are 4,080 bytes of metadata, 1,400 are 4,200
    response = invoke("log_action", with_body(LOG, {"action": "a", "metadata": {"m": "\u20ac" * characters}}))

    assert response["statusCode"] == status


@pytest.mark.usefixtures("unreachable_redis")
def test_a_mebibyte_of_containers_needs_far_less_memory_than_a_function_has() -> None:
    body = '{"value":' + codec_brackets(MIB - 12) + "}"
    tracemalloc.start()
    try:
        response = invoke("cache_set", with_body(PUT, body))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert response["statusCode"] == 413
    assert peak < 128 * MIB  # the functions have 256 MB


def codec_brackets(size: int) -> str:
    return "[" + ",".join(["[]"] * ((size - 2) // 3)) + "]"


def test_a_read_of_100_bracket_heavy_entries_returns_them_whole_in_a_few_calls(fake_server: redis.Redis) -> None:
    metadata = {"m": json.loads(codec_brackets(3000))}
    for _ in range(2):
        invoke("log_batch_actions", with_body(BATCH, {"actions": [{"action": "a", "metadata": metadata}] * 50}))
    stored = fake_server.lrange("user:123:actions", 0, -1)

    calls = 0

    def count(frame: object, event: str, argument: object) -> None:
        nonlocal calls
        calls += event in ("call", "c_call")

    sys.setprofile(count)
    try:
        text = codec.entries_json(stored)
    finally:
        sys.setprofile(None)

    assert len(json.loads(text)) == 100
    assert calls < 3000  # about ten per entry, none per container (each holds a thousand)


@pytest.mark.parametrize(("limit", "count"), [(10**30, 7), (3, 3)])
def test_a_serverpod_limit_is_clamped_to_the_cap(fake_server: redis.Redis, limit: int, count: int) -> None:
    for _ in range(7):
        invoke("log_action", LOG)

    response = serverpod({"userId": "123", "limit": limit}, method="getUserActions", claims={"sub": "123"})

    assert (response["statusCode"], len(response["json"])) == (200, count)


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize("limit", [0, -1, "10", 1.5, True])
def test_a_serverpod_limit_that_is_no_positive_integer_is_a_bad_request(limit: Any) -> None:
    response = serverpod({"userId": "123", "limit": limit}, method="getUserActions", claims={"sub": "123"})

    assert response["statusCode"] == 400


# SQS.


def ingest(*bodies: str) -> tuple[list[str], dict[str, Any]]:
    record = load_event("ingest_actions.json")["Records"][0]
    records = [{**record, "messageId": f"attempt-{number}", "body": body} for number, body in enumerate(bodies)]
    result = handler_module("ingest_actions").lambda_handler({"Records": records}, lambda_context())
    return [record["messageId"] for record in records], result


def test_a_batch_message_of_80_actions_of_3_kb_is_logged_and_an_oversized_one_fails_alone(
    real_redis: redis.Redis,
) -> None:
    large = {"userId": "123", "actions": [{"action": "a", "metadata": {"m": "x" * 3000}}] * 80}
    oversized = {"userId": "456", "action": "a", "metadata": {"m": "x" * 5000}}

    ids, result = ingest(json.dumps(large), json.dumps(oversized))

    assert result["batchItemFailures"] == [{"itemIdentifier": ids[1]}]
    assert (real_redis.llen("user:123:actions"), real_redis.exists("user:456:actions")) == (80, 0)


def test_a_message_that_is_not_json_fails_alone(real_redis: redis.Redis) -> None:
    ids, result = ingest("not json", '{"userId": "123", "action": "a"}', "\ufeff{}", "")

    assert result["batchItemFailures"] == [{"itemIdentifier": ids[index]} for index in (0, 2, 3)]
    assert real_redis.llen("user:123:actions") == 1


# Leaks and logs.


def test_powertools_own_package_logger_does_not_pass_its_lines_to_the_root_logger() -> None:
    import actionlog.observability  # noqa: F401  # Powertools set up as the functions use it

    assert logging.getLogger("aws_lambda_powertools").propagate is False


def test_the_local_servers_listen_on_loopback_only() -> None:
    assert redis_server.LOOPBACK == "127.0.0.1"
    assert emulator.LOOPBACK == local_api.LOOPBACK == redis_server.LOOPBACK
    assert "(LOOPBACK, port)" in inspect.getsource(local_api.LocalApiServer.__init__)
    assert '"--bind", LOOPBACK' in inspect.getsource(redis_server)
    assert 'f"{LOOPBACK}:{self._port}"' in inspect.getsource(emulator)


def test_no_event_file_holds_a_secret_other_than_the_tests_marked_ones() -> None:
    for path in EVENTS.glob("*.json"):
        text = path.read_text()
        for line in text.splitlines():
            if any(word in line.lower() for word in ("password", "secret", "bearer ")):
                assert NEVER_LOGGED in line or "arn:aws:secretsmanager" in line or '""' in line, (path.name, line)
