"""Key-injection attempts in every user id and every cache key, on every route that takes one.

Redis is a closed port: a request that reached Redis would answer 503 (or a degraded 200), so each 4xx
here also proves the request was refused before any Redis call.
"""

from typing import Any

import pytest

from tests.catalogue import HTTP_OPERATIONS, TEMPLATE
from tests.support import free_port, invoke, load_event, with_caller, with_path

ADMIN = ({"sub": "ops"}, ["actionlog/admin"])


def routes_taking(parameter: str) -> list[tuple[str, str]]:
    """(operation, route path) for every REST route of the template whose path takes `parameter`."""
    return [
        (operation.name, route.path)
        for operation in HTTP_OPERATIONS
        for route in TEMPLATE.routes
        if route.function is operation.function and f"{{{parameter}}}" in route.path
    ]


USER_ROUTES = routes_taking("userId")
SHARED_CACHE_ROUTES = [(name, path) for name, path in routes_taking("key") if "{userId}" not in path]
USER_CACHE_ROUTES = [(name, path) for name, path in routes_taking("key") if "{userId}" in path]

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
# A user's own cache takes any well-formed key (it stays inside the user's own namespace), up to 200 characters.
HOSTILE_USER_CACHE_KEYS = [key for key, status in HOSTILE_CACHE_KEYS.items() if status == 400] + ["k" * 201]


def hostile_event(operation: str, path: str, **values: str) -> dict[str, Any]:
    """The operation's own event, sent by an admin to `path` with these path parameters in place of its own."""
    event = load_event(f"{operation}.json")
    parameters = {**(event.get("pathParameters") or {}), **values}
    return with_caller(with_path(event, path.format(**parameters), **parameters), *ADMIN)


@pytest.fixture(autouse=True)
def redis_unreachable(configure) -> None:  # type: ignore[no-untyped-def]
    configure(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")


@pytest.mark.parametrize("user_id", HOSTILE_USER_IDS)
@pytest.mark.parametrize(("operation", "path"), USER_ROUTES)
def test_a_hostile_user_id_is_refused_on_every_user_route(operation: str, path: str, user_id: str) -> None:
    response = invoke(operation, hostile_event(operation, path, userId=user_id))

    assert response["statusCode"] == 400, response["body"]
    assert response["json"]["message"]


@pytest.mark.parametrize(("key", "status"), list(HOSTILE_CACHE_KEYS.items()))
@pytest.mark.parametrize(("operation", "path"), SHARED_CACHE_ROUTES)
def test_a_hostile_cache_key_is_refused_on_every_cache_route(operation: str, path: str, key: str, status: int) -> None:
    response = invoke(operation, hostile_event(operation, path, key=key))

    assert response["statusCode"] == status, response["body"]
    assert response["json"]["message"]


@pytest.mark.parametrize("key", HOSTILE_USER_CACHE_KEYS)
@pytest.mark.parametrize(("operation", "path"), USER_CACHE_ROUTES)
def test_a_malformed_key_is_refused_on_every_user_cache_route(operation: str, path: str, key: str) -> None:
    response = invoke(operation, hostile_event(operation, path, key=key))

    assert response["statusCode"] == 400, response["body"]
    assert response["json"]["message"]


def test_every_route_that_takes_a_user_id_or_a_key_is_covered() -> None:
    # The derivation finds the routes it should: the REST routes of both families, shared and per-user caches
    assert len(USER_ROUTES) >= 8
    assert {name for name, _ in SHARED_CACHE_ROUTES} == {"cache_set", "cache_get", "cache_delete"}
    assert {name for name, _ in USER_CACHE_ROUTES} == {"user_cache_set", "user_cache_get", "user_cache_delete"}
