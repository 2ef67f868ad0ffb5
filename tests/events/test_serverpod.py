"""The seed's Serverpod endpoints, in both call forms a Serverpod client uses."""

import json
from typing import Any

import pytest
import redis

from tests.support import free_port, invoke, load_event, with_body, with_caller

pytestmark = pytest.mark.redis_server

USER_123 = {"sub": "123"}


def call(endpoint: str, method: str, arguments: dict[str, Any], *, form: str = "path", claims: Any = USER_123) -> dict:  # type: ignore[type-arg]
    """A Serverpod client's request: POST /<endpoint>/<method>, or POST /<endpoint> with "method"."""
    base = load_event("serverpod_user_actions.json")
    if form == "path":
        path, route, body, parameters = (
            f"/{endpoint}/{method}",
            f"/{endpoint}/{{method}}",
            arguments,
            {"method": method},
        )
    else:
        path, route, body, parameters = f"/{endpoint}", f"/{endpoint}", {"method": method, **arguments}, None
    context = {
        **base["requestContext"],
        "http": {**base["requestContext"]["http"], "path": path},
        "routeKey": f"POST {route}",
    }
    event = {**base, "rawPath": path, "routeKey": f"POST {route}", "requestContext": context}
    event = {key: value for key, value in event.items() if key != "pathParameters"}
    if parameters:
        event["pathParameters"] = parameters
    operation = "serverpod_user_actions" if endpoint == "userActions" else "serverpod_redis_health"
    return invoke(operation, with_caller(with_body(event, body), claims))


@pytest.mark.parametrize("form", ["path", "body"])
def test_log_action_answers_true_and_get_user_actions_returns_the_seeds_strings(
    real_redis: redis.Redis, form: str
) -> None:
    logged = call("userActions", "logAction", {"userId": 123, "action": "login"}, form=form)
    listed = call("userActions", "getUserActions", {"userId": 123, "limit": 10}, form=form)

    assert (logged["statusCode"], logged["json"]) == (200, True)
    assert listed["statusCode"] == 200
    assert listed["json"] == real_redis.lrange("user:123:actions", 0, 9)
    assert all(isinstance(item, str) for item in listed["json"])
    assert json.loads(listed["json"][0])["action"] == "login"


@pytest.mark.parametrize("form", ["path", "body"])
def test_log_batch_actions_takes_names_or_objects_and_clear_empties_the_log(real_redis: redis.Redis, form: str) -> None:
    batch = call(
        "userActions",
        "logBatchActions",
        {"userId": 123, "actions": ["open", {"action": "tap", "metadata": {"x": 1}}]},
        form=form,
    )
    assert (batch["statusCode"], batch["json"]) == (200, True)
    assert [json.loads(item)["action"] for item in real_redis.lrange("user:123:actions", 0, -1)] == ["tap", "open"]

    cleared = call("userActions", "clearUserActions", {"userId": 123}, form=form)

    assert (cleared["statusCode"], cleared["json"]) == (200, True)
    assert real_redis.exists("user:123:actions") == 0


@pytest.mark.parametrize("form", ["path", "body"])
def test_redis_health_check_and_info(real_redis: redis.Redis, form: str) -> None:
    check = call("redisHealth", "check", {}, form=form, claims=None)
    info = call("redisHealth", "info", {}, form=form, claims={"sub": "ops", "scope": "actionlog/admin"})

    assert check["statusCode"] == 200
    assert check["json"]["status"] == "ok"
    assert info["statusCode"] == 200
    assert info["json"]["redisVersion"] == real_redis.info("server")["redis_version"]


@pytest.mark.parametrize(
    ("endpoint", "method", "arguments", "claims", "status"),
    [
        ("userActions", "deleteEverything", {"userId": 123}, USER_123, 404),
        ("userActions", "logAction", {"userId": 123}, USER_123, 400),
        ("userActions", "logAction", {"userId": "12:3", "action": "x"}, USER_123, 400),
        ("userActions", "logAction", {"userId": 123, "action": ""}, USER_123, 400),
        ("userActions", "getUserActions", {"userId": 123, "limit": 0}, USER_123, 400),
        ("userActions", "logBatchActions", {"userId": 123, "actions": []}, USER_123, 400),
        ("userActions", "logAction", {"userId": 123, "action": "x"}, None, 401),
        ("userActions", "logAction", {"userId": 456, "action": "x"}, USER_123, 403),
        ("redisHealth", "info", {}, USER_123, 403),
        ("redisHealth", "info", {}, None, 401),
        ("redisHealth", "nothing", {}, USER_123, 404),
    ],
)
def test_errors_have_the_rest_routes_statuses_and_touch_nothing(
    real_redis: redis.Redis, endpoint: str, method: str, arguments: dict[str, Any], claims: Any, status: int
) -> None:
    response = call(endpoint, method, arguments, claims=claims)

    assert response["statusCode"] == status, response["body"]
    assert response["json"]["message"]
    assert real_redis.dbsize() == 0


def test_the_body_form_needs_a_method(real_redis: redis.Redis) -> None:
    event = with_body(load_event("serverpod_user_actions_method_in_body.json"), {"userId": 123})

    response = invoke("serverpod_user_actions", event)

    assert response["statusCode"] == 400


def test_with_redis_down_get_user_actions_degrades_and_writes_are_503(configure) -> None:  # type: ignore[no-untyped-def]
    configure(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")

    read = call("userActions", "getUserActions", {"userId": 123})
    write = call("userActions", "logAction", {"userId": 123, "action": "login"})
    health = call("redisHealth", "check", {}, claims=None)

    assert (read["statusCode"], read["json"]) == (200, [])
    assert write["statusCode"] == 503
    assert write["headers"]["Retry-After"]
    assert (health["statusCode"], health["json"]["status"]) == (200, "unavailable")


def test_the_event_files_invoke(real_redis: redis.Redis) -> None:
    assert invoke("serverpod_user_actions", load_event("serverpod_user_actions.json"))["json"] is True
    listed = invoke("serverpod_user_actions", load_event("serverpod_user_actions_method_in_body.json"))
    assert len(listed["json"]) == 1
    assert invoke("serverpod_redis_health", load_event("serverpod_redis_health.json"))["json"]["status"] == "ok"
    assert invoke("serverpod_redis_health", load_event("serverpod_redis_health_info.json"))["statusCode"] == 200
