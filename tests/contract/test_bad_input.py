"""docs/api.md, Conventions and Limits: bad input is a clear 4xx with a message, never a 5xx, and never touches Redis.

Redis is pointed at a closed loopback port: a handler that touched it would answer 503 (or a degraded
200), so getting the 4xx proves the request was refused before any Redis call.
"""

import base64
from typing import Any

import pytest

from tests.support import free_port, invoke, load_event, with_body, with_path, with_query

LOG = load_event("log_action.json")
BATCH = load_event("log_batch_actions.json")
READ = load_event("get_user_actions.json")
PUT = load_event("cache_set.json")
GET = load_event("cache_get.json")
DELETE = load_event("cache_delete.json")
ADMIN_SCOPES = ["actionlog/admin"]


def cache_path(event: dict[str, Any], key: str) -> dict[str, Any]:
    return with_path(event, f"/cache/{key}", key=key)


def user_path(event: dict[str, Any], user_id: str, suffix: str = "") -> dict[str, Any]:
    return with_path(event, f"/users/{user_id}/actions{suffix}", userId=user_id)


def as_admin(event: dict[str, Any]) -> dict[str, Any]:
    context = {**event["requestContext"], "authorizer": {"jwt": {"claims": {"sub": "ops"}, "scopes": ADMIN_SCOPES}}}
    return {**event, "requestContext": context}


BAD_REQUESTS = {
    "log: body is not JSON": ("log_action", with_body(LOG, "{not json"), 400),
    "log: body is a list": ("log_action", with_body(LOG, []), 422),
    "log: no action": ("log_action", with_body(LOG, {"metadata": {}}), 422),
    "log: empty action": ("log_action", with_body(LOG, {"action": ""}), 422),
    "log: action too long": ("log_action", with_body(LOG, {"action": "a" * 101}), 422),
    "log: control character": ("log_action", with_body(LOG, {"action": "log\u0000in"}), 422),
    "log: action not a string": ("log_action", with_body(LOG, {"action": ["login"]}), 422),
    "log: metadata not an object": ("log_action", with_body(LOG, {"action": "a", "metadata": [1]}), 422),
    "log: metadata over 4 KiB": ("log_action", with_body(LOG, {"action": "a", "metadata": {"x": "y" * 5000}}), 422),
    "log: bad timestamp": ("log_action", with_body(LOG, {"action": "a", "timestamp": "2025-13-40T99:00:00Z"}), 422),
    "log: naive timestamp": ("log_action", with_body(LOG, {"action": "a", "timestamp": "2025-10-15T14:30:00"}), 422),
    "log: timestamp before year 1 in UTC": (
        "log_action",
        with_body(LOG, {"action": "a", "timestamp": "0001-01-01T00:00:00+01:00"}),
        422,
    ),
    "log: timestamp after 9999 in UTC": (
        "log_action",
        with_body(LOG, {"action": "a", "timestamp": "9999-12-31T23:59:59-01:00"}),
        422,
    ),
    "log: JSON nested past the recursion limit": ("log_action", with_body(LOG, "[" * 100_000 + "]" * 100_000), 400),
    "log: integer of 5000 digits": (
        "log_action",
        with_body(LOG, '{"action": "a", "metadata": {"n": ' + "1" * 5000 + "}}"),
        400,
    ),
    "log: NaN is not JSON": ("log_action", with_body(LOG, '{"action": "a", "metadata": {"n": NaN}}'), 400),
    "log: user id with colon": ("log_action", as_admin(user_path(LOG, "1:2")), 400),
    "log: user id too long": ("log_action", as_admin(user_path(LOG, "u" * 65)), 400),
    "log: user id with wildcard": ("log_action", as_admin(user_path(LOG, "*")), 400),
    "log: unicode look-alike id": ("log_action", as_admin(user_path(LOG, "\uff11\uff12\uff13")), 400),
    "log: body over 1 MiB": ("log_action", with_body(LOG, '{"action":"' + "a" * (1024 * 1024) + '"}'), 413),
    "batch: empty": ("log_batch_actions", with_body(BATCH, {"actions": []}), 422),
    "batch: over 100": ("log_batch_actions", with_body(BATCH, {"actions": [{"action": "a"}] * 101}), 422),
    "batch: one bad entry": (
        "log_batch_actions",
        with_body(BATCH, {"actions": [{"action": "a"}, {"action": ""}]}),
        422,
    ),
    "batch: not a list": ("log_batch_actions", with_body(BATCH, {"actions": "a"}), 422),
    "batch: bad base64 JSON": (
        "log_batch_actions",
        {**BATCH, "body": base64.b64encode(b"{oops").decode(), "isBase64Encoded": True},
        400,
    ),
    "read: limit 0": ("get_user_actions", with_query(READ, limit="0"), 400),
    "read: limit over the cap": ("get_user_actions", with_query(READ, limit="101"), 400),
    "read: limit not a number": ("get_user_actions", with_query(READ, limit="ten"), 400),
    "read: bad user id": ("get_user_actions", as_admin(user_path(READ, "a b")), 400),
    "cache put: key outside prefixes": ("cache_set", cache_path(PUT, "user:123:actions"), 403),
    "cache put: internal key": ("cache_set", cache_path(PUT, "actionlog:health"), 403),
    "cache put: key with space": ("cache_set", cache_path(PUT, "session:a b"), 400),
    "cache put: key with braces": ("cache_set", cache_path(PUT, "session:{x}"), 400),
    "cache put: key with newline": ("cache_set", cache_path(PUT, "session:a\nb"), 400),
    "cache put: key too long": ("cache_set", cache_path(PUT, "session:" + "k" * 250), 400),
    "cache put: no value": ("cache_set", with_body(PUT, {"ttlSeconds": 5}), 422),
    "cache put: ttl 0": ("cache_set", with_body(PUT, {"value": 1, "ttlSeconds": 0}), 422),
    "cache put: ttl negative": ("cache_set", with_body(PUT, {"value": 1, "ttlSeconds": -1}), 422),
    "cache put: ttl huge": ("cache_set", with_body(PUT, {"value": 1, "ttlSeconds": 10**20}), 422),
    "cache put: ttl text": ("cache_set", with_body(PUT, {"value": 1, "ttlSeconds": "1h"}), 422),
    "cache put: value over 256 KiB": ("cache_set", with_body(PUT, {"value": "v" * (300 * 1024)}), 413),
    "cache put: Infinity is not JSON": ("cache_set", with_body(PUT, '{"value": [Infinity]}'), 400),
    "cache put: a number too large for a double": ("cache_set", with_body(PUT, '{"value": 1e999}'), 400),
    "cache put: body not JSON": ("cache_set", with_body(PUT, "value=1"), 400),
    "cache get: key outside prefixes": ("cache_get", cache_path(GET, "user:1:actions"), 403),
    "cache get: wildcard": ("cache_get", cache_path(GET, "session:*"), 400),
    "cache delete: key outside prefixes": ("cache_delete", cache_path(DELETE, "other:1"), 403),
}


@pytest.fixture
def unreachable_redis(configure) -> None:  # type: ignore[no-untyped-def]
    configure(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize(("operation", "event", "status"), list(BAD_REQUESTS.values()), ids=list(BAD_REQUESTS))
def test_bad_input_gets_a_4xx_with_a_message_before_redis_is_touched(
    operation: str, event: dict[str, Any], status: int
) -> None:
    response = invoke(operation, event)

    assert response["statusCode"] == status, response["body"]
    assert isinstance(response["json"]["message"], str)
    assert response["json"]["message"]
    assert response["headers"]["Content-Type"] == "application/json"


@pytest.mark.usefixtures("unreachable_redis")
def test_validation_errors_name_the_field_but_never_echo_the_input() -> None:
    secret = "hunter2-" + "x" * 100

    response = invoke("log_action", with_body(LOG, {"action": secret}))

    assert response["statusCode"] == 422
    assert "action" in response["json"]["message"]
    assert secret not in response["body"]


@pytest.mark.usefixtures("unreachable_redis")
def test_a_body_that_is_not_utf8_is_a_bad_request() -> None:
    event = {**LOG, "body": base64.b64encode(b"\xff\xfe{").decode(), "isBase64Encoded": True}

    response = invoke("log_action", event)

    assert response["statusCode"] == 400
    assert "UTF-8" in response["json"]["message"]


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", "application/xml", None])
def test_a_json_body_is_read_as_json_whatever_its_content_type(fake_server, content_type: str | None) -> None:  # type: ignore[no-untyped-def]
    headers = {name: value for name, value in LOG["headers"].items() if name != "content-type"}
    if content_type:
        headers["content-type"] = content_type

    response = invoke("log_action", {**LOG, "headers": headers})

    assert response["statusCode"] == 201
