"""The operations the bench measures: which handler, which event, which floor, which state each needs."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import floors

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"

type Event = dict[str, Any]


@dataclass(frozen=True)
class Operation:
    name: str
    function: str  # functions/<function>/app.py
    event: Callable[[], Event]
    floor: floors.Floor
    # Put in place once before the operation is measured, or before every call (untimed) when the call uses it up.
    setup: floors.Floor | None = None
    prepare: floors.Floor | None = None


def load_event(name: str) -> Event:
    event: Event = json.loads((EVENTS / name).read_text())
    return event


def read_event(limit: int = floors.READ_LIMIT) -> Event:
    """events/get_user_actions.json asking for `limit` entries."""
    event = load_event("get_user_actions.json")
    return {**event, "queryStringParameters": {"limit": str(limit)}, "rawQueryString": f"limit={limit}"}


def batch_event(size: int = floors.BATCH_SIZE) -> Event:
    """events/log_batch_actions.json with its actions repeated up to `size`, encoded as the file encodes its body."""
    event = load_event("log_batch_actions.json")
    encoded = event["isBase64Encoded"]
    body = json.loads(base64.b64decode(event["body"]) if encoded else event["body"])
    body["actions"] = list(itertools.islice(itertools.cycle(body["actions"]), size))
    text = json.dumps(body)
    return {**event, "body": base64.b64encode(text.encode()).decode() if encoded else text}


def event_file(name: str) -> Callable[[], Event]:
    return lambda: load_event(name)


OPERATIONS: tuple[Operation, ...] = (
    Operation("log one", "log_action", event_file("log_action.json"), floors.log_one),
    Operation("log batch of 100", "log_batch_actions", batch_event, floors.log_batch),
    Operation("read 50", "get_user_actions", read_event, floors.read_50, setup=floors.full_list),
    Operation(
        "clear", "clear_user_actions", event_file("clear_user_actions.json"), floors.clear, prepare=floors.full_list
    ),
    Operation("cache set", "cache_set", event_file("cache_set.json"), floors.cache_set),
    Operation("cache get", "cache_get", event_file("cache_get.json"), floors.cache_get, setup=floors.cached_value),
    Operation(
        "cache delete",
        "cache_delete",
        event_file("cache_delete.json"),
        floors.cache_delete,
        prepare=floors.cached_value,
    ),
    Operation("health", "health_check", event_file("health_check.json"), floors.health),
    Operation("health info", "health_info", event_file("health_info.json"), floors.health_info),
)


def operation(name: str) -> Operation:
    return next(op for op in OPERATIONS if op.name == name)


def succeeded(response: dict[str, Any]) -> bool:
    return 200 <= int(response["statusCode"]) < 300
