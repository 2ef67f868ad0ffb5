"""The application as the test matrices see it: derived from template.yaml, events/ and the functions' declarations.

A suite that covers every operation (the auth matrix, Redis down, metrics, the ACL) is parametrised from here, so a
new operation is covered once its function, its route in the template and its event exist: no test table to edit.
Each function `functions/<name>/` has its own event, `events/<name>.json`, usable with `sam local invoke`; the other
files in events/ are scenarios, each aimed at the function whose route, queue or schedule it names.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from actionlog import cache
from actionlog.http import HttpOperation
from actionlog.serverpod import ServerpodEndpoint
from dev.template import Function, load_template
from tests.support import EVENTS, handler_module, load_event

TEMPLATE = load_template()


@dataclass(frozen=True)
class Operation:
    """One function of the template, as a test drives it."""

    function: Function

    @property
    def name(self) -> str:
        """Its directory under functions/, which `tests.support.invoke` takes."""
        return self.function.code_dir.name

    @property
    def event_file(self) -> str:
        return f"{self.name}.json"

    @cached_property
    def declaration(self) -> Any:
        """Its `lambda_handler`: an HttpOperation, a ServerpodEndpoint, or a plain event handler."""
        return handler_module(self.name).lambda_handler

    def __str__(self) -> str:
        return self.name


OPERATIONS = [Operation(function) for function in TEMPLATE.functions.values()]
# The REST routes: one HttpOperation each.
HTTP_OPERATIONS = [operation for operation in OPERATIONS if isinstance(operation.declaration, HttpOperation)]
SERVERPOD_ENDPOINTS = [operation for operation in OPERATIONS if isinstance(operation.declaration, ServerpodEndpoint)]
EVENT_FILES = sorted(path.name for path in EVENTS.glob("*.json") if path.name != "env.json")


def target(event: dict[str, Any]) -> Operation:
    """The function an event reaches: by the route API Gateway matched, or by the queue or schedule it came from."""
    if "routeKey" in event:
        method, _, path = event["routeKey"].partition(" ")
        [route] = [route for route in TEMPLATE.routes if (route.method, route.path) == (method, path)]
        return next(operation for operation in OPERATIONS if operation.function is route.function)
    source = "SQS" if event.get("Records", [{}])[0].get("eventSource") == "aws:sqs" else "Schedule"
    [operation] = [operation for operation in OPERATIONS if source in operation.function.event_types]
    return operation


def events_of(operation: Operation) -> list[str]:
    """The event files that reach `operation`: its own first, then its scenarios."""
    return [name for name in EVENT_FILES if target(load_event(name)) == operation]


# What the events read and delete (events/cache_get.json, events/user_cache_get.json, ...), put in place by `seed`.
SEEDED = {"session:abc123": '{"theme": "dark"}'}
SEEDED_OWN = {("123", "prefs"): {"theme": "dark"}}  # user 123's own cache, stored as its writes store it


def seed(redis: Any) -> None:
    """The state every function's own event expects: the cached values its reads and deletes find."""
    for key, value in SEEDED.items():
        redis.set(key, value, ex=600)
    for (user_id, name), own in SEEDED_OWN.items():
        cache.put_own(user_id, name, own, 600, redis=redis)
