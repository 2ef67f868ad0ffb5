"""Edge cases a review found: each answered as the contract says, none a 500."""

import json
import os
import subprocess
import sys
import time

import pytest
import redis

from actionlog.redis_client import create_client
from actionlog.settings import Settings
from tests.support import ROOT, FlakyProxy, free_port, invoke, load_event, with_body, with_caller

ADMIN = ({"sub": "ops"}, ["actionlog/admin"])


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("operation", ["log_action", "log_batch_actions", "cache_set"])
def test_json_nested_deeper_than_the_store_can_serialise_is_a_bad_request(configure, operation: str) -> None:  # type: ignore[no-untyped-def]
    configure(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    bodies = {
        "log_action": ("log_action.json", '{"action":"a","metadata":{"m":' + nested(300) + "}}"),
        "log_batch_actions": (
            "log_batch_actions.json",
            '{"actions":[{"action":"a","metadata":{"m":' + nested(300) + "}}]}",
        ),
        "cache_set": ("cache_set.json", '{"value":' + nested(300) + "}"),
    }
    event_file, body = bodies[operation]

    response = invoke(operation, with_body(load_event(event_file), body))

    assert response["statusCode"] == 400
    assert response["json"]["message"]


def test_reasonably_nested_json_is_stored(fake_server: redis.Redis) -> None:
    response = invoke("cache_set", with_body(load_event("cache_set.json"), '{"value":' + nested(40) + "}"))

    assert response["statusCode"] == 200


def test_a_lone_surrogate_in_a_cache_value_is_a_bad_request(configure) -> None:  # type: ignore[no-untyped-def]
    configure(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")

    response = invoke("cache_set", with_body(load_event("cache_set.json"), '{"value": "\\ud800"}'))

    assert response["statusCode"] == 400


def test_a_paired_surrogate_escape_is_an_ordinary_character(fake_server: redis.Redis) -> None:
    invoke("cache_set", with_body(load_event("cache_set.json"), '{"value": "\\ud83d\\ude00"}'))

    assert invoke("cache_get", load_event("cache_get.json"))["json"]["value"] == "\U0001f600"


def test_a_small_cap_still_serves_a_read_without_limit(fake_server: redis.Redis, configure) -> None:  # type: ignore[no-untyped-def]
    configure(ACTIONS_MAX_ENTRIES="20")
    invoke("log_batch_actions", with_body(load_event("log_batch_actions.json"), {"actions": [{"action": "a"}] * 30}))

    response = invoke(
        "get_user_actions", with_caller({**load_event("get_user_actions.json"), "queryStringParameters": None}, *ADMIN)
    )

    assert (response["statusCode"], response["json"]["count"]) == (200, 20)


def test_a_cache_value_another_client_stored_as_plain_text_reads_as_text(fake_server: redis.Redis) -> None:
    fake_server.set("session:abc123", "not json")

    response = invoke("cache_get", load_event("cache_get.json"))

    assert (response["statusCode"], response["json"]["value"]) == (200, "not json")


def test_foreign_list_entries_never_break_a_read(fake_server: redis.Redis) -> None:
    raw = redis.Redis(port=fake_server.connection_pool.connection_kwargs["port"])
    raw.rpush("user:123:actions", b"\xff\xfe not utf-8", b'{"action":"a","timestamp":"t","metadata":{"x":NaN}}')

    response = invoke("get_user_actions", load_event("get_user_actions.json"))

    def strict(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    assert response["statusCode"] == 200
    actions = json.loads(response["body"], parse_constant=strict)["actions"]
    assert [entry["action"] for entry in actions] == ["", "a"]  # rebuilt: raw text, and NaN as null
    assert actions[1]["metadata"] == {"x": None}


def test_redis_url_with_redis_tls_true_makes_a_tls_client() -> None:
    client = create_client(Settings(redis_url="redis://cache.internal:6380/0", redis_tls=True))

    assert client.connection_pool.connection_class.__name__ == "SSLConnection"


def test_an_unreachable_secrets_manager_gives_a_fast_503_not_a_function_timeout(configure, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with FlakyProxy(None) as black_hole:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", f"http://127.0.0.1:{black_hole.port}")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        configure(
            REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
            REDIS_SECRET_ARN="arn:aws:secretsmanager:eu-west-1:123456789012:secret:redis-AbCdEf",
        )
        started = time.monotonic()

        response = invoke("log_action", load_event("log_action.json"))

    assert response["statusCode"] == 503
    assert time.monotonic() - started < 6  # botocore's defaults would wait minutes; the function timeout is 10 s


def test_powertools_variables_name_the_service_and_namespace() -> None:
    program = "from actionlog.observability import logger, metrics; print(logger.service, metrics.namespace)"
    environment = {**os.environ, "POWERTOOLS_SERVICE_NAME": "billing", "POWERTOOLS_METRICS_NAMESPACE": "Billing"}
    environment["PYTHONPATH"] = str(ROOT / "layers" / "actionlog")

    completed = subprocess.run(
        [sys.executable, "-c", program], env=environment, capture_output=True, text=True, check=True
    )

    assert completed.stdout.split() == ["billing", "Billing"]
