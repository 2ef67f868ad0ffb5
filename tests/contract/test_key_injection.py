"""Key-injection attempts in every user id and every cache key, on every route that takes one.

Redis is a closed port: a request that reached Redis would answer 503 (or a degraded 200), so each 4xx
here also proves the request was refused before any Redis call.
"""

from typing import Any

import pytest

from tests.support import free_port, invoke, load_event, with_caller, with_path

ADMIN = ({"sub": "ops"}, ["actionlog/admin"])

USER_ROUTES = {
    "log_action": ("log_action.json", ""),
    "log_batch_actions": ("log_batch_actions.json", "/batch"),
    "get_user_actions": ("get_user_actions.json", ""),
    "clear_user_actions": ("clear_user_actions.json", ""),
}
CACHE_ROUTES = {"cache_set": "cache_set.json", "cache_get": "cache_get.json", "cache_delete": "cache_delete.json"}

HOSTILE_USER_IDS = [
    "123:actions",  # would reach user:123:actions:actions
    "*",
    "12?",
    "{123}",  # a hash tag
    "123\n",
    "123\r\nFLUSHALL",
    "\u0031\u0032\u0033\u200b",  # zero-width space
    "\uff11\uff12\uff13",  # fullwidth digits that look like 123
    "123\u0338",
    "../123",
    "u" * 65,
    "",
]
HOSTILE_CACHE_KEYS = {
    "user:123:actions": 403,  # another namespace, well formed
    "actionlog:written:{user:123:actions}:x": 400,  # braces are not allowed at all
    "actionlog:health": 403,
    "session:*": 400,
    "session:a?b": 400,
    "session:{x}": 400,
    "session:a\nb": 400,
    "session:a b": 400,
    "session:\u0430bc": 400,  # Cyrillic a
    "session\uff1aabc": 400,  # fullwidth colon
    "SESSION:abc": 403,  # prefixes are case-sensitive
    "session:" + "k" * 249: 400,  # 257 characters
}


@pytest.fixture(autouse=True)
def redis_unreachable(configure) -> None:  # type: ignore[no-untyped-def]
    configure(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")


@pytest.mark.parametrize("user_id", HOSTILE_USER_IDS)
@pytest.mark.parametrize("operation", list(USER_ROUTES))
def test_a_hostile_user_id_is_refused_on_every_user_route(operation: str, user_id: str) -> None:
    event_file, suffix = USER_ROUTES[operation]
    event: dict[str, Any] = with_path(load_event(event_file), f"/users/{user_id}/actions{suffix}", userId=user_id)

    response = invoke(operation, with_caller(event, *ADMIN))

    assert response["statusCode"] == 400, response["body"]
    assert response["json"]["message"]


@pytest.mark.parametrize(("key", "status"), list(HOSTILE_CACHE_KEYS.items()))
@pytest.mark.parametrize("operation", list(CACHE_ROUTES))
def test_a_hostile_cache_key_is_refused_on_every_cache_route(operation: str, key: str, status: int) -> None:
    event = with_path(load_event(CACHE_ROUTES[operation]), f"/cache/{key}", key=key)

    response = invoke(operation, with_caller(event, *ADMIN))

    assert response["statusCode"] == status, response["body"]
    assert response["json"]["message"]
