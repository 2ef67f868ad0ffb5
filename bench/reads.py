"""Reading a long log: filtered reads of a 10,000-entry list beside the plain read of its newest 50, through
get_user_actions in the bench's warm worker (`python -m bench.operations reads ...`).

ACTIONS_MAX_ENTRIES is at its maximum for this measurement only (the worker sets it, and puts it back). A filtered
read takes the whole list after its cursor in its one round trip and keeps the matching entries; the plain read takes
the newest 51. Every subject's list is a server-side copy of one list written through the layer's write path, so the
entries are the ones Actionlog stores; the calls are spread over the subjects, as bench.operations spreads its own,
so that no user passes the read limit.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from redis import Redis

from bench import floors
from bench.operations import (
    CALIBRATION_CALLS,
    MAX_BLOCK_CALLS,
    Event,
    Plan,
    SideBySide,
    Subjects,
    about,
    counting_round_trips,
    run,
    side_by_side,
    succeeded,
)
from dev.lambda_environment import lambda_context
from dev.template import REPO_ROOT

ENTRIES = 10_000  # ACTIONS_MAX_ENTRIES' maximum
NAMES = ("login", "view", "tap", "scroll", "share", "like", "search", "open", "close", "pay")  # each one in ten
START = datetime(2026, 11, 1, tzinfo=UTC)  # the oldest entry's timestamp; each next one a second later
SOURCE = "reads-source"  # the user whose list every subject's is copied from
PLAIN = {"limit": str(floors.READ_LIMIT)}


def _at(index: int) -> str:
    return (START + timedelta(seconds=index)).isoformat().replace("+00:00", "Z")


def filters(cursor: str) -> dict[str, dict[str, str]]:
    """Each filtered read measured, by name: its query (`cursor`: the id of the entry halfway down the list)."""
    return {
        "action=pay, limit 50": {"action": "pay", **PLAIN},
        "since the newest tenth, limit 50": {"since": _at(ENTRIES - ENTRIES // 10), **PLAIN},
        "action=pay,login after a cursor halfway, limit 50": {"action": "pay,login", "before": cursor, **PLAIN},
    }


class FilteredRead(NamedTuple):
    name: str
    timing: SideBySide  # subject: the filtered read; floor: the plain read of 50, on the same lists
    round_trips: int
    returned: int  # the entries the filtered read answered


class Reads(NamedTuple):
    entries: int
    rounds: int
    plain: str  # the plain read's query
    reads: list[FilteredRead]


def written(redis: Redis) -> str:
    """SOURCE's list, ENTRIES long, written through the layer (oldest first, a second apart, the names in turn);
    the id of the entry halfway down it."""
    from actionlog import actions  # the worker's, never the bench process's
    from actionlog.models import ActionIn

    batch = [ActionIn(action=NAMES[n % len(NAMES)], timestamp=START + timedelta(seconds=n)) for n in range(ENTRIES)]
    entries = actions.new_entries(batch)
    redis.delete(floors.actions_key(SOURCE))
    for start in range(0, ENTRIES, 100):
        actions.log_actions(SOURCE, entries[start : start + 100], redis=redis)
    halfway = redis.lindex(floors.actions_key(SOURCE), ENTRIES // 2)
    cursor = actions.entry_id(halfway.decode() if isinstance(halfway, bytes) else str(halfway))
    assert cursor is not None
    return cursor


def query_text(query: dict[str, str]) -> str:
    return "&".join(f"{name}={value}" for name, value in query.items())


def read_call(query: dict[str, str], subjects: Subjects) -> Callable[[], dict[str, Any]]:
    """get_user_actions with `query`, about the next subject; it raises on an answer that is not a success."""
    handler = importlib.import_module("functions.get_user_actions.app").lambda_handler
    context = lambda_context("actionlog-get_user_actions")
    template: Event = json.loads((REPO_ROOT / "events" / "get_user_actions.json").read_text())
    template = {**template, "queryStringParameters": query, "rawQueryString": query_text(query)}
    events = [about(template, name) for name in subjects.names]

    def call() -> dict[str, Any]:
        response: dict[str, Any] = handler(events[subjects.take()], context)
        if not succeeded(response):
            raise RuntimeError(f"a read of {query} answered {response['statusCode']}: {response.get('body')}")
        return response

    return call


def calls_needed(plan: Plan, seconds_per_call: float) -> int:
    """The calls a side-by-side of two reads takes (bench.operations.side_by_side), twice over for its calibration
    landing elsewhere than this estimate: the first call, the warm-ups, the blocks, the round trips counted."""
    per_block = max(1, min(MAX_BLOCK_CALLS, round(plan.warm_block_seconds / max(seconds_per_call, 1e-6))))
    return 2 * (1 + 2 * plan.warm_up_calls + CALIBRATION_CALLS + plan.warm_rounds * 2 * per_block) + 2


def measure(plan: Plan, redis: Redis) -> Reads:
    """Every filtered read of `filters` beside the plain read, with ACTIONS_MAX_ENTRIES at ENTRIES meanwhile."""
    from actionlog.settings import get_settings  # the worker's, never the bench process's

    previous = os.environ.get("ACTIONS_MAX_ENTRIES")
    os.environ["ACTIONS_MAX_ENTRIES"] = str(ENTRIES)
    get_settings.cache_clear()
    try:
        reads_limit = get_settings().rate_limit_reads
        per_subject = reads_limit if reads_limit > 0 else sys.maxsize
        cursor = written(redis)
        measured = [
            _side_by_side(index, name, query, plan, redis, per_subject)
            for index, (name, query) in enumerate(filters(cursor).items())
        ]
        return Reads(ENTRIES, plan.warm_rounds, query_text(PLAIN), measured)
    finally:
        if previous is None:
            os.environ.pop("ACTIONS_MAX_ENTRIES", None)
        else:
            os.environ["ACTIONS_MAX_ENTRIES"] = previous
        get_settings.cache_clear()


def _side_by_side(
    index: int, name: str, query: dict[str, str], plan: Plan, redis: Redis, per_subject: int
) -> FilteredRead:
    """The filtered read `query` and the plain read side by side, on subjects (users reads-<index>-0, -1, ...) enough
    for the calls that a few probing calls say the side-by-side will take."""
    probe = Subjects(f"reads-probe-{index}", CALIBRATION_CALLS + 1, per_subject)
    _copies(redis, probe.names)
    probing = read_call(query, probe)
    probing()
    seconds = run(probing, CALIBRATION_CALLS)
    subjects = Subjects(f"reads-{index}", calls_needed(plan, seconds), per_subject)
    _copies(redis, subjects.names)
    filtered, plain = read_call(query, subjects), read_call(PLAIN, subjects)
    returned = len(json.loads(filtered()["body"])["actions"])
    for call in (filtered, plain):
        run(call, plan.warm_up_calls)
    timing = side_by_side(filtered, plain, rounds=plan.warm_rounds, block_seconds=plan.warm_block_seconds)
    with counting_round_trips() as counter:
        round_trips = counter.count(filtered)
    return FilteredRead(name, timing, round_trips, returned)


def _copies(redis: Redis, names: list[str]) -> None:
    """Each subject's list: a copy of SOURCE's, made by the server."""
    for name in names:
        redis.copy(floors.actions_key(SOURCE), floors.actions_key(name), replace=True)
