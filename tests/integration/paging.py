"""What the paging tests share: a log written as the write path writes it, and reads through the handler."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from actionlog import actions
from actionlog.models import ActionIn
from actionlog.redis_client import RedisClient
from tests.support import handler_module, invoke, lambda_context, load_event, with_caller, with_path, with_query

START = datetime(2026, 1, 1, tzinfo=UTC)
NAMES = ("login", "view", "pay")


def logged(user: str, count: int, *, redis: RedisClient, metadata: dict[str, Any] | None = None) -> list[str]:
    """Log `count` actions for `user` through the layer's write path (oldest first, one minute apart, the names taking
    turns): the stored entries, newest first, as the list holds them."""
    moments = [START + timedelta(minutes=n) for n in range(count)]
    batch = [ActionIn(action=NAMES[n % 3], timestamp=moments[n], metadata=metadata or {"n": n}) for n in range(count)]
    entries = actions.new_entries(batch)
    for start in range(0, count, 100):
        actions.log_actions(user, entries[start : start + 100], redis=redis)
    return [entry.decode() for entry in reversed(entries)]


def read_event(user: str, **query: str) -> dict[str, Any]:
    event = with_path(load_event("get_user_actions.json"), f"/users/{user}/actions", userId=user)
    return with_caller(with_query(event, **query), {"sub": user})


def read_actions(user: str, **query: str) -> dict[str, Any]:
    """GET /users/{user}/actions?<query> as the user, through the handler; the body decoded as `json`."""
    return invoke("get_user_actions", read_event(user, **query))


def lambda_response(user: str, **query: str) -> dict[str, Any]:
    """The handler's return value itself: what the Lambda runtime encodes and sends."""
    response: dict[str, Any] = handler_module("get_user_actions").lambda_handler(
        read_event(user, **query), lambda_context()
    )
    return response


def every_page(user: str, *, before: str | None = None, **query: str) -> list[dict[str, Any]]:
    """The bodies of the pages a client reads (from `before`, else the newest), following `next` until it is null
    (each page a 200)."""
    pages: list[dict[str, Any]] = []
    cursor = before
    while not pages or cursor is not None:
        response = read_actions(user, **query, **({"before": cursor} if cursor else {}))
        assert response["statusCode"] == 200, response["body"]
        pages.append(response["json"])
        assert response["json"]["next"] != cursor, f"the page after {cursor} names it again as the next"
        cursor = response["json"]["next"]
    return pages


def ids(entries: Sequence[Any]) -> list[str | None]:
    """The ids of entries, stored (text) or answered (objects)."""
    return [(json.loads(entry) if isinstance(entry, str) else entry).get("id") for entry in entries]
