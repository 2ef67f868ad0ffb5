"""docs/api.md, When Redis is unavailable: writes get 503 + Retry-After, the read degrades, nothing hangs.

Every REST operation, by its declaration (tests.catalogue): a 503 with Retry-After and a message, or the fallback
it declares, with its status and shape.
"""

import time

import pytest

from tests.catalogue import HTTP_OPERATIONS, Operation
from tests.support import free_port, invoke, load_event


@pytest.fixture(autouse=True)
def redis_down(configure) -> None:  # type: ignore[no-untyped-def]
    configure(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")


@pytest.mark.parametrize("operation", HTTP_OPERATIONS, ids=str)
def test_unavailable_redis_is_a_fast_503_with_retry_after_or_the_declared_fallback(operation: Operation) -> None:
    started = time.monotonic()
    response = invoke(operation.name, load_event(operation.event_file))
    elapsed = time.monotonic() - started

    fallback = operation.declaration.unavailable
    if fallback is None:
        assert response["statusCode"] == 503
        assert response["json"]["message"]
    else:
        assert response["statusCode"] == fallback.status
        fallback.model.validate_python(response["json"])
    if response["statusCode"] == 503:
        assert int(response["headers"]["Retry-After"]) >= 1
    assert elapsed < 2


def test_the_read_degrades_to_an_empty_list_as_the_seed_does() -> None:
    response = invoke("get_user_actions", load_event("get_user_actions.json"))

    assert response["statusCode"] == 200
    assert response["json"] == {"userId": "123", "actions": [], "count": 0, "next": None, "degraded": True}


def test_health_reports_unavailable_with_503_and_no_cause() -> None:
    response = invoke("health_check", load_event("health_check.json"))

    assert response["statusCode"] == 503
    assert response["json"] == {"status": "unavailable"}
