"""What a hostile or careless caller cannot do with a request the handlers accept: spend CPU out of proportion to its
size, be taken for someone it is not, have its input echoed back, store numbers a reader cannot take back, learn
why the store is down, or log a name that displays as another."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from actionlog import codec
from actionlog.errors import MAX_EXCERPT, BadRequest
from tests.support import (
    free_port,
    handler_module,
    invoke,
    lambda_context,
    load_event,
    logging_to_current_stdout,
    with_body,
    with_caller,
)

LOG = load_event("log_action.json")
BATCH = load_event("log_batch_actions.json")
PUT = load_event("cache_set.json")
SAFE = 2**53 - 1


@pytest.fixture
def unreachable_redis(configure: Callable[..., None]) -> None:
    configure(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")


# Bounded cost: what the storage codec does with a body is a fixed number of searches of its bytes, never a step per
# container. Counted in calls (C functions included), not timed: bench/ measures the time (`python -m bench`).


def calls_made(call: Callable[[], object]) -> int:
    made = 0

    def count(frame: object, event: str, argument: object) -> None:
        nonlocal made
        made += event in ("call", "c_call")

    sys.setprofile(count)
    try:
        call()
    except BadRequest:
        pass
    finally:
        sys.setprofile(None)
    return made


def brackets(size: int) -> bytes:
    """`size` bytes of JSON that is all containers: [[],[],...]."""
    return b"[" + b",".join([b"[]"] * (size // 3)) + b"]"


def deep(size: int) -> bytes:
    """`size` bytes of chains nested 64 deep, then one nested 65 deep: refused, but only at its end."""
    chain = b"[" * 63 + b"]" * 63
    return b"[" + b",".join([chain] * (size // len(chain))) + b"," + b"[" * 65 + b"]" * 65 + b"]"


@pytest.mark.parametrize("body", [brackets, deep, lambda size: json.dumps([SAFE, "[", '"'] * (size // 30)).encode()])
def test_checking_what_is_stored_costs_the_same_few_calls_whatever_the_bodys_size(body: Any) -> None:
    small, large = body(4 * 1024), body(1024 * 1024)
    with contextlib.suppress(BadRequest):  # a warm container: the regexes a first body needs are compiled then
        codec.refuse_unstorable([large])

    assert calls_made(lambda: codec.refuse_unstorable([large])) == calls_made(lambda: codec.refuse_unstorable([small]))
    assert calls_made(lambda: codec.refuse_unstorable([large])) < 100


@pytest.mark.usefixtures("unreachable_redis")
def test_a_value_of_a_mebibyte_of_containers_is_refused_for_its_size() -> None:
    response = invoke("cache_set", with_body(PUT, '{"value":' + brackets(1024 * 1024 - 20).decode() + "}"))

    assert response["statusCode"] == 413


# Numbers every reader can take back: JavaScript's and Dart-on-the-web's doubles hold integers exactly up to 2^53 - 1.


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize("number", [str(SAFE + 1), str(-SAFE - 1), "1" * 400, "-" + "9" * 30, "1" + "0" * 20])
@pytest.mark.parametrize("where", ["metadata", "batch metadata", "cache value"])
def test_an_integer_beyond_javascripts_safe_integers_is_a_bad_request(number: str, where: str) -> None:
    operation, event, body = {
        "metadata": ("log_action", LOG, '{"action": "a", "metadata": {"n": %s}}'),
        "batch metadata": ("log_batch_actions", BATCH, '{"actions": [{"action": "a", "metadata": {"n": [%s]}}]}'),
        "cache value": ("cache_set", PUT, '{"value": {"deep": [[%s]]}}'),
    }[where]

    response = invoke(operation, with_body(event, body % number))

    assert response["statusCode"] == 400
    assert str(SAFE) in response["json"]["message"]


@pytest.mark.parametrize(
    "value", [SAFE, -SAFE, 9007199254740993.0, 1e16, -1.5e300, 0.1, 1.5e-300, "12345678901234567890123"]
)
def test_numbers_every_reader_takes_back_are_stored_and_read_back(fake_server: redis.Redis, value: Any) -> None:
    invoke("cache_set", with_body(PUT, {"value": {"n": value, "key 98765432109876543210": 1}}))

    assert invoke("cache_get", load_event("cache_get.json"))["json"]["value"]["n"] == value


# Tokens that are what they claim.


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize("operation", ["log_action", "get_user_actions", "cache_set", "health_info"])
def test_an_id_token_is_refused_on_every_route_that_needs_a_token(operation: str) -> None:
    claims = {"sub": "123", "token_use": "id", "aud": "app-client", "scope": "actionlog/admin actionlog/cache"}

    response = invoke(operation, with_caller(load_event(f"{operation}.json"), claims, ["actionlog/admin"]))

    assert response["statusCode"] == 401
    assert "access token" in response["json"]["message"]


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize("operation", ["log_action", "get_user_actions", "user_cache_set", "clear_user_actions"])
def test_a_machine_clients_token_gets_no_users_space_under_its_client_id(operation: str) -> None:
    event = load_event(f"{operation}.json")
    client = event["pathParameters"]["userId"]  # the client's id as the path's user: 123
    claims = {"sub": client, "client_id": client, "token_use": "access", "scope": "actionlog/cache"}

    response = invoke(operation, with_caller(event, claims))

    assert response["statusCode"] == 403


@pytest.mark.usefixtures("unreachable_redis")
def test_a_scope_joined_by_a_no_break_space_is_no_admin_scope() -> None:
    claims = {"sub": "999", "scope": "openid\u00a0actionlog/admin"}

    response = invoke("log_action", with_caller(LOG, claims))

    assert response["statusCode"] == 403


# No echoes: a message or log line quotes at most an excerpt of what a caller sent.


def serverpod(body: Any, *, method: str | None = None) -> dict[str, Any]:
    event = load_event("serverpod_user_actions.json")
    if method is None:
        event = {**event, "routeKey": "POST /userActions", "pathParameters": None}
    else:
        event = {**event, "pathParameters": {"method": method}}
    return invoke("serverpod_user_actions", with_body(event, body))


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize("form", ["path", "body"])
def test_an_unknown_serverpod_method_is_named_in_a_short_excerpt(form: str) -> None:
    name = "m" * 100_000

    response = serverpod({"method": name}, method=name if form == "path" else None)

    assert response["statusCode"] == 404
    assert len(response["body"]) < 300
    assert "m" * MAX_EXCERPT in response["json"]["message"]


@pytest.fixture
def log_lines(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], str]]:
    with logging_to_current_stdout():
        yield lambda: capsys.readouterr().out


def test_an_sqs_messages_unexpected_key_is_logged_as_a_short_excerpt(
    unreachable_redis: None, log_lines: Callable[[], str]
) -> None:
    record = load_event("ingest_actions.json")["Records"][0]
    record = {**record, "body": json.dumps({"userId": "1", "action": "a", "k" * 50_000: 1})}

    result = handler_module("ingest_actions").lambda_handler({"Records": [record]}, lambda_context())

    assert result["batchItemFailures"] == [{"itemIdentifier": record["messageId"]}]
    written = log_lines()
    assert "k" * MAX_EXCERPT in written
    assert "k" * (MAX_EXCERPT + 1) not in written


# Action names that read as what is stored.

INVISIBLE = {
    "zero-width space": "\u200b",
    "zero-width joiner": "\u200d",
    "left-to-right mark": "\u200e",
    "right-to-left override": "\u202e",
    "left-to-right embedding": "\u202a",
    "word joiner": "\u2060",
    "first strong isolate": "\u2068",
    "pop directional isolate": "\u2069",
    "byte order mark": "\ufeff",
    "soft hyphen": "\u00ad",
    "arabic letter mark": "\u061c",
    "line separator": "\u2028",
    "tag letter": "\U000e0061",
    "DEL": "\x7f",
}


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize("character", list(INVISIBLE.values()), ids=list(INVISIBLE))
def test_an_action_name_with_an_invisible_or_bidirectional_control_character_is_refused(character: str) -> None:
    for body, operation, event in [
        ({"action": f"log{character}in"}, "log_action", LOG),
        ({"actions": [{"action": f"{character}login"}]}, "log_batch_actions", BATCH),
    ]:
        response = invoke(operation, with_body(event, body))

        assert response["statusCode"] == 422, (operation, response["body"])
        assert character not in response["body"]


@pytest.mark.parametrize("name", ["café", "ログイン", "\U0001f600 smile", "\u05e9\u05dc\u05d5\u05dd", "👍🏽"])
def test_action_names_in_any_script_are_logged(fake_server: redis.Redis, name: str) -> None:
    assert invoke("log_action", with_body(LOG, {"action": name}))["statusCode"] == 201


# Public health: ok or unavailable, never why; and a flood of it costs Redis little.


def test_an_anonymous_health_call_of_a_refusing_store_learns_only_that_it_is_unavailable(
    own_redis_server: Any, configure: Callable[..., None]
) -> None:
    own_redis_server.client().config_set("requirepass", "a-password-the-function-lacks")

    answers = [
        invoke("health_check", with_caller(load_event("health_check.json"), None)),
        invoke("serverpod_redis_health", with_caller(load_event("serverpod_redis_health.json"), None)),
    ]

    assert [(answer["statusCode"], answer["json"]) for answer in answers] == [
        (503, {"status": "unavailable"}),
        (200, {"status": "unavailable"}),
    ]


@pytest.mark.redis_server
@pytest.mark.parametrize(
    ("operation", "event"),
    [("health_check", "health_check.json"), ("serverpod_redis_health", "serverpod_redis_health.json")],
)
def test_a_flood_of_health_calls_writes_to_redis_once_per_interval(
    real_redis: redis.Redis, operation: str, event: str
) -> None:
    invoke(operation, load_event(event))  # the container's first check
    real_redis.config_resetstat()

    answers = [invoke(operation, load_event(event))["json"]["status"] for _ in range(50)]

    assert answers == ["ok"] * 50
    assert "cmdstat_set" not in real_redis.info("commandstats")


# The document says exactly what the server accepts; a message never says an integer is not an integer.

READ = load_event("get_user_actions.json")


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize(
    ("limit", "said"),
    [
        ("552799954773721", "between 1 and 100"),
        ("9" * 5000, "between 1 and"),
        ("-1", "greater than or equal to 1"),
        ("0", "greater than or equal to 1"),
    ],
)
def test_an_integer_limit_out_of_range_is_refused_as_out_of_range_not_as_no_integer(limit: str, said: str) -> None:
    response = invoke("get_user_actions", {**READ, "queryStringParameters": {"limit": limit}})

    assert response["statusCode"] == 400
    assert said in response["json"]["message"]
    assert "valid integer" not in response["json"]["message"]
    assert len(response["body"]) < 500


@pytest.mark.parametrize("ttl", ["3790.0", "3.79e3", "3790"])
def test_a_ttl_written_as_a_whole_float_is_the_integer_it_is(fake_server: redis.Redis, ttl: str) -> None:
    response = invoke("cache_set", with_body(PUT, '{"value": 1, "ttlSeconds": ' + ttl + "}"))

    assert (response["statusCode"], response["json"]["ttlSeconds"]) == (200, 3790)
    assert 3780 < fake_server.ttl("session:abc123") <= 3790


@pytest.mark.usefixtures("unreachable_redis")
@pytest.mark.parametrize("ttl", [3790.5, "3790", True])
def test_a_ttl_that_is_no_integer_is_still_refused(ttl: Any) -> None:
    assert invoke("cache_set", with_body(PUT, {"value": 1, "ttlSeconds": ttl}))["statusCode"] == 422


def test_a_serverpod_limit_written_as_a_whole_float_is_the_integer_it_is(fake_server: redis.Redis) -> None:
    response = serverpod({"userId": "123", "limit": 10.0}, method="getUserActions")

    assert (response["statusCode"], response["json"]) == (200, [])


@pytest.mark.usefixtures("unreachable_redis")
def test_a_serverpod_method_path_refuses_another_methods_arguments() -> None:
    response = serverpod({"userId": "123", "action": "login"}, method="logBatchActions")

    assert response["statusCode"] == 400
    assert "actions" in response["json"]["message"]
