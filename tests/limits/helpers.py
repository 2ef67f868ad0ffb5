"""What the limit tests share: events for one user or client, SQS batches, and the user's keys in Redis."""

import json
from typing import Any

import redis

from actionlog import keys
from tests.support import handler_module, invoke, lambda_context, load_event, with_body, with_caller, with_path

USER = {"sub": "123"}
ADMIN = ({"sub": "ops"}, ["actionlog/admin"])


def log_one(user: str = "123", action: str = "tap", *, claims: dict[str, Any] | None = None) -> dict[str, Any]:
    event = with_path(load_event("log_action.json"), f"/users/{user}/actions", userId=user)
    return invoke("log_action", with_caller(with_body(event, {"action": action}), claims or {"sub": user}))


def read(user: str = "123", *, claims: dict[str, Any] | None = None) -> dict[str, Any]:
    event = with_path(load_event("get_user_actions.json"), f"/users/{user}/actions", userId=user)
    return invoke("get_user_actions", with_caller(event, claims or {"sub": user}))


def put_own(user: str, key: str, value: Any, ttl: int | None = None) -> dict[str, Any]:
    event = with_path(load_event("user_cache_set.json"), f"/users/{user}/cache/{key}", userId=user, key=key)
    body = {"value": value} if ttl is None else {"value": value, "ttlSeconds": ttl}
    return invoke("user_cache_set", with_caller(with_body(event, body), {"sub": user}))


def delete_own(user: str, key: str) -> dict[str, Any]:
    event = with_path(load_event("user_cache_delete.json"), f"/users/{user}/cache/{key}", userId=user, key=key)
    return invoke("user_cache_delete", with_caller(event, {"sub": user}))


def erase(user: str = "123") -> dict[str, Any]:
    event = with_path(load_event("erase_user.json"), f"/users/{user}", userId=user)
    return invoke("erase_user", with_caller(event, {"sub": user}))


def sqs_batch(*bodies: dict[str, Any]) -> dict[str, Any]:
    template = load_event("ingest_actions.json")["Records"][0]
    return {"Records": [{**template, "messageId": f"m-{n}", "body": json.dumps(body)} for n, body in enumerate(bodies)]}


def ingest(event: dict[str, Any]) -> set[str]:
    response = handler_module("ingest_actions").lambda_handler(event, lambda_context())
    return {failure["itemIdentifier"] for failure in response["batchItemFailures"]}


def keys_naming(client: redis.Redis, user: str) -> list[str]:
    """Every key in Redis that holds something of `user` (the test may scan; the handlers never do)."""
    own = {keys.actions_key(user), f"{{{keys.actions_key(user)}}}"}
    return sorted(key for key in client.scan_iter(count=1000) if any(part in key for part in own))
