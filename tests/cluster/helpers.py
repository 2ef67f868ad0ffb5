"""Events and look-ups the cluster tests share."""

from __future__ import annotations

import json
from typing import Any

import redis

from actionlog import keys
from tests.support import load_event, with_caller, with_path

# One user per primary of a fresh 3-primary cluster (slots 11114, 2386 and 8647);
# test_cluster_handlers.py checks that they do land on three different nodes.
USER_IDS = ("123", "456", "789")


def user_event(name: str, user_id: str) -> dict[str, Any]:
    """events/<name> for `user_id`, sent by that user (the events are written for user 123)."""
    event = load_event(name)
    path = event["rawPath"].replace("/users/123/", f"/users/{user_id}/", 1)
    return with_caller(with_path(event, path, userId=user_id), {"sub": user_id})


def with_idempotency_key(event: dict[str, Any], key: str) -> dict[str, Any]:
    return {**event, "headers": {**event["headers"], "idempotency-key": key}}


def stored_actions(client: redis.RedisCluster, user_id: str) -> list[str]:
    """The action names in the user's list as stored, newest first."""
    stored: list[str] = client.lrange(keys.actions_key(user_id), 0, -1)  # type: ignore[assignment]
    return [json.loads(entry)["action"] for entry in stored]
