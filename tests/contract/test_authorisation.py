"""Authorisation (docs/auth.md): every route x every kind of caller, against a real redis-server.

The routes and their access rules come from the functions' declarations (tests.catalogue); the rules each kind of
caller meets are those docs/auth.md states.
"""

from typing import Any

import pytest
import redis

from tests.catalogue import HTTP_OPERATIONS, Operation, seed
from tests.support import invoke, load_event, with_caller

# The events act on user 123 and cache key session:abc123.
CALLERS: dict[str, tuple[dict[str, Any] | None, list[str] | None]] = {
    "no token": (None, None),
    "right user": ({"sub": "123"}, None),
    "other user": ({"sub": "456"}, None),
    "admin": ({"sub": "ops"}, ["actionlog/admin"]),
    "cache scope only": ({"sub": "999", "scope": "actionlog/cache"}, None),
    "wrong scope": ({"sub": "999", "scope": "openid profile"}, ["actionlog/read"]),
}

ALLOWED = {
    "owner": {"right user", "admin"},
    "cache": {"admin", "cache scope only"},
    "admin": {"admin"},
    "public": set(CALLERS),
}


def expected_status(access: str, caller: str) -> str:
    if caller in ALLOWED[access]:
        return "allowed"
    return "401" if caller == "no token" else "403"


@pytest.mark.redis_server
@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("operation", HTTP_OPERATIONS, ids=str)
def test_each_route_admits_exactly_the_callers_the_contract_names(
    real_redis: redis.Redis, operation: Operation, caller: str
) -> None:
    claims, scopes = CALLERS[caller]
    seed(real_redis)

    response = invoke(operation.name, with_caller(load_event(operation.event_file), claims, scopes))

    match expected_status(operation.declaration.access, caller):
        case "allowed":
            assert 200 <= response["statusCode"] < 300, response["body"]
        case status:
            assert response["statusCode"] == int(status), response["body"]
            assert response["json"]["message"]


@pytest.mark.redis_server
def test_a_refused_caller_changes_nothing(real_redis: redis.Redis) -> None:
    real_redis.lpush("user:123:actions", '{"action":"login","timestamp":"2025-10-15T14:20:00Z","metadata":{}}')

    invoke("clear_user_actions", with_caller(load_event("clear_user_actions.json"), {"sub": "456"}))
    invoke("cache_set", with_caller(load_event("cache_set.json"), {"sub": "123"}))

    assert real_redis.llen("user:123:actions") == 1
    assert real_redis.exists("session:abc123") == 0


@pytest.mark.redis_server
@pytest.mark.parametrize("operation", [op for op in HTTP_OPERATIONS if op.declaration.access != "public"], ids=str)
def test_without_claims_auth_required_false_lets_local_development_in(
    real_redis: redis.Redis,
    configure,
    operation: Operation,  # type: ignore[no-untyped-def]
) -> None:
    configure(AUTH_REQUIRED="false")
    seed(real_redis)

    response = invoke(operation.name, with_caller(load_event(operation.event_file), None))

    assert 200 <= response["statusCode"] < 300, response["body"]
