"""Each handler driven by its event file from events/, against fakeredis' embedded server."""

import base64
import json

import pytest
import redis

from actionlog import keys
from tests.catalogue import EVENT_FILES, HTTP_OPERATIONS, OPERATIONS, Operation, seed, target
from tests.support import invoke, load_event, with_body, with_path


def test_log_action_stores_an_entry_and_returns_it(fake_server: redis.Redis) -> None:
    response = invoke("log_action", load_event("log_action.json"))

    assert response["statusCode"] == 201
    assert response["headers"]["Content-Type"] == "application/json"
    body = response["json"]
    assert body["userId"] == "123"
    assert body["entry"]["action"] == "login"
    assert body["entry"]["metadata"] == {"device": "ios", "appVersion": "2.4.1"}
    assert body["entry"]["timestamp"].endswith("Z")
    assert [json.loads(item) for item in fake_server.lrange("user:123:actions", 0, -1)] == [body["entry"]]


def test_log_batch_actions_reads_a_base64_body_and_stores_newest_first(fake_server: redis.Redis) -> None:
    event = load_event("log_batch_actions.json")
    assert event["isBase64Encoded"] is True

    response = invoke("log_batch_actions", event)

    assert (response["statusCode"], response["json"]) == (201, {"userId": "123", "count": 3})
    stored = [json.loads(item) for item in fake_server.lrange("user:123:actions", 0, -1)]
    assert [entry["action"] for entry in stored] == ["logout", "view_profile", "open_app"]
    assert stored[0]["timestamp"] == "2026-11-25T12:00:00.000Z"


def test_get_user_actions_returns_decoded_entries_newest_first(fake_server: redis.Redis) -> None:
    invoke("log_batch_actions", load_event("log_batch_actions.json"))

    response = invoke("get_user_actions", load_event("get_user_actions.json"))

    assert response["statusCode"] == 200
    body = response["json"]
    assert body["userId"] == "123"
    assert body["count"] == 3
    assert [entry["action"] for entry in body["actions"]] == ["logout", "view_profile", "open_app"]
    assert "degraded" not in body


def test_get_user_actions_defaults_to_50(fake_server: redis.Redis) -> None:
    event = with_body(load_event("log_batch_actions.json"), {"actions": [{"action": f"a{n}"} for n in range(60)]})
    invoke("log_batch_actions", event)

    response = invoke("get_user_actions", load_event("get_user_actions_admin.json"))

    assert response["json"]["count"] == 50
    assert response["json"]["actions"][0]["action"] == "a59"


def test_count_user_actions_counts_the_users_log_alone(fake_server: redis.Redis) -> None:
    # Given 60 actions in user 123's log, one in another user's, and the list's cap at its default of 100
    event = with_body(load_event("log_batch_actions.json"), {"actions": [{"action": f"a{n}"} for n in range(60)]})
    invoke("log_batch_actions", event)
    fake_server.lpush("user:456:actions", "{}")

    # When user 123's actions are counted, before and after 60 more
    first = invoke("count_user_actions", load_event("count_user_actions.json"))
    invoke("log_batch_actions", event)
    second = invoke("count_user_actions", load_event("count_user_actions.json"))

    # Then the count is theirs, and the cap's after the second batch
    assert (first["statusCode"], first["json"]) == (200, {"userId": "123", "count": 60})
    assert second["json"] == {"userId": "123", "count": 100}


def test_clear_user_actions_deletes_the_log(fake_server: redis.Redis) -> None:
    invoke("log_action", load_event("log_action.json"))

    first = invoke("clear_user_actions", load_event("clear_user_actions.json"))
    second = invoke("clear_user_actions", load_event("clear_user_actions.json"))

    assert (first["statusCode"], first["json"]) == (200, {"userId": "123", "cleared": True})
    assert second["json"]["cleared"] is False
    assert fake_server.exists("user:123:actions") == 0


def test_cache_set_get_delete_round_trip(fake_server: redis.Redis) -> None:
    put = invoke("cache_set", load_event("cache_set.json"))
    got = invoke("cache_get", load_event("cache_get.json"))
    deleted = invoke("cache_delete", load_event("cache_delete.json"))
    gone = invoke("cache_get", load_event("cache_get.json"))

    assert (put["statusCode"], put["json"]) == (200, {"key": "session:abc123", "ttlSeconds": 3600})
    assert got["statusCode"] == 200
    assert got["json"]["value"] == json.loads(load_event("cache_set.json")["body"])["value"]
    assert 3590 <= got["json"]["ttlSeconds"] <= 3600
    assert (deleted["statusCode"], deleted["json"]) == (200, {"key": "session:abc123", "deleted": True})
    assert gone["statusCode"] == 404
    assert "session:abc123" in gone["json"]["message"]


def test_user_cache_set_get_delete_round_trip_under_the_users_own_keys(fake_server: redis.Redis) -> None:
    put = invoke("user_cache_set", load_event("user_cache_set.json"))
    got = invoke("user_cache_get", load_event("user_cache_get.json"))
    deleted = invoke("user_cache_delete", load_event("user_cache_delete.json"))
    gone = invoke("user_cache_get", load_event("user_cache_get.json"))

    assert (put["statusCode"], put["json"]) == (200, {"key": "prefs", "ttlSeconds": 3600})
    assert got["statusCode"] == 200
    assert got["json"]["value"] == json.loads(load_event("user_cache_set.json")["body"])["value"]
    assert (deleted["statusCode"], deleted["json"]) == (200, {"key": "prefs", "deleted": True})
    assert fake_server.exists(keys.user_cache_key("123", "prefs")) == 0
    assert gone["statusCode"] == 404
    assert gone["json"]["message"] == "no cached value for prefs"  # the caller's key, not where it is stored


def test_a_user_cache_key_named_like_the_action_log_leaves_the_log_alone(fake_server: redis.Redis) -> None:
    invoke("log_action", load_event("log_action.json"))
    event = load_event("user_cache_set.json")
    event = with_path(event, event["rawPath"].replace("/prefs", "/actions"), userId="123", key="actions")

    put = invoke("user_cache_set", event)

    assert put["statusCode"] == 200
    assert fake_server.llen("user:123:actions") == 1
    assert fake_server.type("user:123:actions") == "list"


def test_cache_values_are_stored_as_the_seeds_json_strings(fake_server: redis.Redis) -> None:
    invoke("cache_set", load_event("cache_set.json"))

    stored = json.loads(fake_server.get("session:abc123") or "")
    assert stored == json.loads(load_event("cache_set.json")["body"])["value"]


def test_a_cached_value_without_ttl_reports_null(fake_server: redis.Redis) -> None:
    invoke("cache_set", with_body(load_event("cache_set.json"), {"value": [1, 2, 3]}))

    got = invoke("cache_get", load_event("cache_get.json"))

    assert got["json"] == {"key": "session:abc123", "value": [1, 2, 3], "ttlSeconds": None}


def test_health_check_reports_ok(fake_server: redis.Redis) -> None:
    response = invoke("health_check", load_event("health_check.json"))

    assert response["statusCode"] == 200
    assert response["json"] == {"status": "ok"}


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_every_function_has_its_own_event(operation: Operation) -> None:
    assert operation.event_file in EVENT_FILES
    assert target(load_event(operation.event_file)) == operation


@pytest.mark.parametrize("event_file", [name for name in EVENT_FILES if "routeKey" in load_event(name)])
def test_every_http_event_file_is_an_http_api_v2_event(event_file: str) -> None:
    event = load_event(event_file)
    assert event["version"] == "2.0"
    assert event["routeKey"] == event["requestContext"]["routeKey"]
    if event.get("isBase64Encoded"):
        json.loads(base64.b64decode(event["body"]))


@pytest.mark.parametrize("operation", HTTP_OPERATIONS, ids=str)
def test_every_operation_answers_its_own_event_as_it_declares(fake_server: redis.Redis, operation: Operation) -> None:
    seed(fake_server)

    response = invoke(operation.name, load_event(operation.event_file))

    declaration = operation.declaration
    assert response["statusCode"] == declaration.status, response["body"]
    assert response["headers"]["Content-Type"] == "application/json"
    declaration.response.validate_python(response["json"])
