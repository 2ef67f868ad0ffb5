"""Reading the log a page at a time on a real redis-server (docs/api.md, "Reading"): filters, the cursor, entries
without an id, one round trip per read, and pages cut to fit Lambda's response limit."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pydantic_core
import pytest
import redis

from actionlog.models import MAX_METADATA_BYTES
from tests.integration.paging import (
    every_page,
    ids,
    lambda_response,
    logged,
    read_actions,
)
from tests.limits.proxies import HoldingProxy
from tests.support import RedisServer, invoke, load_event, with_body, with_caller, with_path

pytestmark = pytest.mark.redis_server

LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024  # bytes: Lambda refuses a larger response (a 500 at API Gateway)
SINCE = "2026-01-01T00:31:00Z"  # the 32nd entry's timestamp: entries are a minute apart from START

FILTERS: dict[str, dict[str, str]] = {
    "no filter": {},
    "one action": {"action": "pay"},
    "two actions": {"action": "pay,login"},
    "since": {"since": SINCE},
    "action and since": {"action": "view", "since": SINCE},
}


def matches(entry: str, query: dict[str, str]) -> bool:
    parsed = json.loads(entry)
    names = query["action"].split(",") if "action" in query else None
    since = datetime.fromisoformat(query["since"]) if "since" in query else None
    return (names is None or parsed["action"] in names) and (
        since is None or datetime.fromisoformat(parsed["timestamp"]) >= since
    )


# Paging.


@pytest.mark.parametrize("query", list(FILTERS.values()), ids=list(FILTERS))
def test_paging_visits_every_matching_entry_once_newest_first(real_redis: redis.Redis, query: dict[str, str]) -> None:
    stored = logged("123", 90, redis=real_redis)
    expected = [json.loads(entry) for entry in stored if matches(entry, query)]

    pages = every_page("123", limit="7", **query)

    assert [entry for page in pages for entry in page["actions"]] == expected
    assert len(pages) == math.ceil(len(expected) / 7)  # every page but the last is full: limit counts matches
    for page in pages[:-1]:
        assert page["count"] == len(page["actions"]) == 7
        assert page["next"] == page["actions"][-1]["id"]
    assert pages[-1]["next"] is None
    assert pages[-1]["count"] == len(pages[-1]["actions"])


def test_limit_counts_matching_entries_not_entries_read(real_redis: redis.Redis) -> None:
    stored = logged("123", 30, redis=real_redis)
    pays = [json.loads(entry) for entry in stored if json.loads(entry)["action"] == "pay"]

    page = read_actions("123", action="pay", limit="4")["json"]

    assert page["actions"] == pays[:4]  # the four newest payments, though they lie among the twelve newest entries
    assert page["count"] == 4
    assert page["next"] == pays[3]["id"]


def test_a_filter_nothing_matches_is_an_empty_last_page(real_redis: redis.Redis) -> None:
    logged("123", 10, redis=real_redis)

    page = read_actions("123", action="refund", limit="5")["json"]

    assert page == {"userId": "123", "actions": [], "count": 0, "next": None}


def test_entries_logged_between_pages_do_not_disturb_the_paging(real_redis: redis.Redis) -> None:
    stored = logged("123", 20, redis=real_redis)
    first = read_actions("123", limit="8")["json"]

    logged("123", 5, redis=real_redis)  # newer entries arrive while the client pages
    rest = every_page("123", limit="8", before=first["next"])

    assert [entry["id"] for entry in first["actions"]] + [e["id"] for page in rest for e in page["actions"]] == ids(
        stored
    )


@pytest.mark.parametrize("query", [{}, {"action": "login,view,pay"}], ids=["plain", "filtered"])
def test_a_page_after_a_cursor_can_hold_the_rest_of_a_list_at_its_longest(
    real_redis: redis.Redis, configure: Callable[..., None], query: dict[str, str]
) -> None:
    configure(ACTIONS_MAX_ENTRIES="10000")
    stored = logged("123", 10_000, redis=real_redis)
    first = read_actions("123", limit="1", **query)["json"]

    rest = read_actions("123", limit="10000", before=first["next"], **query)

    assert rest["statusCode"] == 200, rest["body"]
    assert [entry["id"] for entry in rest["json"]["actions"]] == ids(stored)[1:]
    assert rest["json"]["next"] is None


# Stale and malformed cursors.

STALE = "before names an entry the log no longer holds: read again from the newest"


def test_a_cursor_the_cap_has_trimmed_off_is_a_400_with_a_message(real_redis: redis.Redis, configure: Any) -> None:
    configure(ACTIONS_MAX_ENTRIES="20")
    logged("123", 20, redis=real_redis)
    cursor = read_actions("123", limit="15")["json"]["next"]
    assert read_actions("123", limit="15", before=cursor)["statusCode"] == 200  # still held: a page

    logged("123", 10, redis=real_redis)  # the cap keeps the newest 20: the cursor's entry is gone
    response = read_actions("123", limit="15", before=cursor)

    assert response["statusCode"] == 400
    assert response["json"]["message"] == STALE


def test_a_cursor_after_clearing_is_a_400_with_a_message(real_redis: redis.Redis) -> None:
    logged("123", 20, redis=real_redis)
    cursor = read_actions("123", limit="5")["json"]["next"]

    cleared = invoke("clear_user_actions", load_event("clear_user_actions.json"))
    logged("123", 20, redis=real_redis)
    response = read_actions("123", limit="5", before=cursor)

    assert cleared["json"]["cleared"] is True
    assert response["statusCode"] == 400
    assert response["json"]["message"] == STALE


def test_another_users_entry_is_no_cursor(real_redis: redis.Redis) -> None:
    logged("123", 10, redis=real_redis)
    theirs = ids(logged("456", 10, redis=real_redis))[3]

    response = read_actions("123", before=str(theirs))

    assert response["statusCode"] == 400
    assert response["json"]["message"] == STALE


MALFORMED = {
    "before a number": ("before", "1"),
    "before text": ("before", "not-an-id"),
    "before in upper case": ("before", "0123456789abcdef0123456789ABCDEF"),
    "before of 31 digits": ("before", "0123456789abcdef0123456789abcde"),
    "before of 33 digits": ("before", "f" * 33),
    "before not hex": ("before", "g" * 32),
    "before empty": ("before", ""),
    "before with a quote": ("before", '0123456789abcdef0123456789abcd"}'),
    "action empty": ("action", ""),
    "action an empty name": ("action", "login,,pay"),
    "action a trailing comma": ("action", "login,"),
    "action of 21 names": ("action", ",".join(f"a{n}" for n in range(21))),
    "action a name of 101 characters": ("action", "a" * 101),
    "action a control character": ("action", "log\x00in"),
}


@pytest.mark.parametrize(("name", "value"), list(MALFORMED.values()), ids=list(MALFORMED))
def test_a_malformed_filter_or_cursor_is_a_400_naming_it_before_redis_is_asked(
    real_redis: redis.Redis, name: str, value: str
) -> None:
    logged("123", 5, redis=real_redis)

    response = read_actions("123", **{name: value})

    assert response["statusCode"] == 400, response["body"]
    assert [problem["location"] for problem in response["json"]["errors"]] == [["query", name]]
    assert response["json"]["message"].startswith(f"query.{name}: ")


# Entries without an id: the seed's.


def seed_entry(n: int) -> str:
    """An entry as the seed's Serverpod service wrote it: no id, a local timestamp."""
    return json.dumps({"action": "login", "timestamp": f"2025-10-15T14:{n % 60:02d}:00.000", "metadata": {"n": n}})


def test_entries_without_an_id_are_returned_but_never_a_cursor(real_redis: redis.Redis) -> None:
    a, b, c, d = logged("123", 4, redis=real_redis)  # stored, newest first
    real_redis.delete("user:123:actions")
    # Newest first: an entry with an id, then the seed's and ours mixed, the seed's oldest.
    layout = [a, seed_entry(1), seed_entry(2), b, seed_entry(3), c, d, seed_entry(4), seed_entry(5), seed_entry(6)]
    real_redis.rpush("user:123:actions", *layout)

    pages = every_page("123", limit="3")

    answered = [entry for page in pages for entry in page["actions"]]
    assert answered == [json.loads(entry) for entry in layout]
    assert [page["next"] for page in pages] == [*ids([a, b, d]), None]
    for page in pages[:-1]:  # each page ends on the entry that has the id it names
        assert page["actions"][-1]["id"] == page["next"]
        assert 1 <= page["count"] <= 3


def test_a_page_of_the_seeds_entries_alone_is_returned_whole(real_redis: redis.Redis) -> None:
    real_redis.rpush("user:123:actions", *[seed_entry(n) for n in range(100)])

    plain = read_actions("123")["json"]
    filtered = read_actions("123", action="login", limit="30")["json"]

    assert plain["actions"] == [json.loads(seed_entry(n)) for n in range(50)]  # the newest 50, as the seed read them
    assert (plain["count"], plain["next"]) == (50, None)  # no entry of them can be a cursor
    assert filtered["actions"] == [json.loads(seed_entry(n)) for n in range(30)]
    assert filtered["next"] is None


OTHER_WRITERS = {
    "two JSON values": "1,2",
    "not JSON": "not json",
    "an action that is not text": '{"action":["login"],"timestamp":"2026-01-01T00:00:00Z","metadata":{}}',
}


@pytest.mark.parametrize("other", list(OTHER_WRITERS.values()), ids=list(OTHER_WRITERS))
def test_an_entry_of_another_writer_does_not_fail_a_filtered_read(real_redis: redis.Redis, other: str) -> None:
    ours = logged("123", 3, redis=real_redis)
    real_redis.rpush("user:123:actions", other)  # older than ours

    response = read_actions("123", action="login,pay")

    assert response["statusCode"] == 200, response["body"]
    assert response["json"]["actions"] == [
        json.loads(entry) for entry in ours if matches(entry, {"action": "login,pay"})
    ]


# One round trip.

HOLD = 0.05  # seconds each request waits before Redis sees it


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"action": "pay"},
        {"since": SINCE},
        {"before": "cursor"},
        {"action": "pay,view", "since": SINCE, "before": "cursor"},
    ],
    ids=["plain", "action", "since", "before", "all of them"],
)
def test_a_read_is_one_round_trip_whatever_the_filters(
    session_redis_server: RedisServer, real_redis: redis.Redis, configure: Callable[..., None], query: dict[str, str]
) -> None:
    cursor = str(ids(logged("123", 100, redis=real_redis))[10])
    query = {name: cursor if value == "cursor" else value for name, value in query.items()}
    proxy = HoldingProxy(session_redis_server.port, HOLD)
    configure(REDIS_URL=proxy.url)  # the template's defaults: rate limits and retention on
    try:
        read_actions("123", limit="20", **query)  # a warm container: connected, the script loaded
        proxy.requests.clear()

        started = time.monotonic()
        response = read_actions("123", limit="20", **query)
        elapsed = time.monotonic() - started
    finally:
        proxy.close()

    assert response["statusCode"] == 200, response["body"]
    assert response["json"]["count"] > 0
    assert "RateLimit-Remaining" in response["headers"]  # the read was counted, in the same round trip
    assert len(proxy.requests) == 1
    assert HOLD <= elapsed < 2 * HOLD


# Lambda's response limit.

# 4 KiB of metadata that escapes badly twice over: stored JSON escapes each quote (`\"`), and the Lambda runtime's JSON
# escapes the answer again (`\\\"`, and `\u00e9`, `\ud83d\ude00` for non-ASCII, or its UTF-8 bytes as they are).
BAD_ESCAPES = {"note": 'é"😀\\' * 408}


@pytest.mark.parametrize("query", [{}, {"action": "login,view,pay"}], ids=["plain", "filtered"])
def test_a_page_is_cut_to_fit_lambdas_response_limit_and_paging_visits_the_rest(
    real_redis: redis.Redis, configure: Callable[..., None], query: dict[str, str]
) -> None:
    configure(ACTIONS_MAX_ENTRIES="2000", RATE_LIMIT_READS="0")
    stored = logged("123", 2000, redis=real_redis, metadata=BAD_ESCAPES)
    assert 4000 < len(pydantic_core.to_json(BAD_ESCAPES)) <= MAX_METADATA_BYTES  # each entry about its largest
    assert sum(len(json.dumps(entry)) for entry in stored) > 3 * LAMBDA_RESPONSE_LIMIT  # all of them: far past it

    bodies, cursor = [], None
    while not bodies or cursor is not None:
        response = lambda_response("123", limit="2000", **query, **({"before": cursor} if cursor else {}))
        assert response["statusCode"] == 200, response["body"]
        for ensure_ascii in (True, False):  # the runtime's JSON: escaping non-ASCII, or sending it as UTF-8
            assert len(json.dumps(response, ensure_ascii=ensure_ascii).encode()) < LAMBDA_RESPONSE_LIMIT
        bodies.append(json.loads(response["body"]))
        cursor = bodies[-1]["next"]

    assert len(bodies) > 1  # the first page was cut, whatever limit asked
    for body in bodies[:-1]:
        assert 0 < body["count"] < 2000
        assert body["next"] == body["actions"][-1]["id"]
    assert [entry["id"] for body in bodies for entry in body["actions"]] == ids(stored)  # every entry, once, in order


# The Serverpod endpoint.


def test_serverpod_get_user_actions_still_answers_the_stored_strings(real_redis: redis.Redis) -> None:
    logged("123", 60, redis=real_redis)
    real_redis.rpush("user:123:actions", seed_entry(1))
    event = with_path(load_event("serverpod_user_actions.json"), "/userActions/getUserActions", method="getUserActions")

    response = invoke(
        "serverpod_user_actions", with_caller(with_body(event, {"userId": 123, "limit": 100}), {"sub": "123"})
    )

    assert response["statusCode"] == 200
    assert response["json"] == real_redis.lrange("user:123:actions", 0, -1)  # every one, the seed's too, as text
    assert len(response["json"]) == 61
    assert all(isinstance(item, str) for item in response["json"])
