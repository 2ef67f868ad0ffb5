"""CONTRACT section 3: with Redis unavailable, writes get 503 + Retry-After, the read degrades, nothing hangs."""

import time

import pytest

from tests.support import free_port, invoke, load_event

WRITES_AND_OTHERS = [
    ("log_action", "log_action.json"),
    ("log_batch_actions", "log_batch_actions.json"),
    ("clear_user_actions", "clear_user_actions.json"),
    ("cache_set", "cache_set.json"),
    ("cache_get", "cache_get.json"),
    ("cache_delete", "cache_delete.json"),
    ("health_info", "health_info.json"),
]


@pytest.fixture(autouse=True)
def redis_down(configure) -> None:  # type: ignore[no-untyped-def]
    configure(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")


@pytest.mark.parametrize(("operation", "event_file"), WRITES_AND_OTHERS)
def test_unavailable_redis_is_a_fast_503_with_retry_after(operation: str, event_file: str) -> None:
    started = time.monotonic()
    response = invoke(operation, load_event(event_file))
    elapsed = time.monotonic() - started

    assert response["statusCode"] == 503
    assert int(response["headers"]["Retry-After"]) >= 1
    assert response["json"]["message"]
    assert elapsed < 2


def test_the_read_degrades_to_an_empty_list_as_the_seed_does() -> None:
    response = invoke("get_user_actions", load_event("get_user_actions.json"))

    assert response["statusCode"] == 200
    assert response["json"] == {"userId": "123", "actions": [], "count": 0, "degraded": True}


def test_health_reports_unavailable_with_503() -> None:
    response = invoke("health_check", load_event("health_check.json"))

    assert response["statusCode"] == 503
    body = response["json"]
    assert body["status"] == "unavailable"
    assert body["connected"] is False
    assert body["message"]
