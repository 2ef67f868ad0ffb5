"""The HTTP routes' request and response models, and the stored entry: shapes (actionlog.schema) on pydantic-core.

Every request model is strict (CONTRACT section 3): a field of another JSON type than documented is refused, never
coerced, so `"ttlSeconds": "5"` and `"metadata": []` are 422s. Only query parameters, which are text by nature, are
converted, and only from plain decimal digits.

Each shape builds its validator on first use, so a function pays at cold start only for the models on its own path.
The SQS messages live in actionlog.ingest and the Serverpod arguments in actionlog.serverpod, for the same reason.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import pydantic_core

from actionlog.errors import BadRequest
from actionlog.keys import CACHE_KEY_PATTERN, USER_CACHE_KEY_PATTERN, USER_ID_PATTERN
from actionlog.schema import Before, Doc, Length, Moment, Number, Shape, Text, field

MAX_ACTION_LENGTH = 100
MAX_METADATA_BYTES = 4096
MAX_BATCH_SIZE = 100
MAX_TTL_SECONDS = 2**31 - 1
MAX_CACHE_VALUE_BYTES = 256 * 1024
MAX_JSON_DEPTH = 64


def encode_json(value: Any) -> str:
    """The one JSON encoding Actionlog stores: compact, UTF-8 kept as is (pydantic-core's encoder). See `storable`."""
    return storable(value).decode()


def storable(value: Any) -> bytes:
    """`value` encoded as stored, when every JSON reader can take it back (see `refuse_unstorable`)."""
    encoded = pydantic_core.to_json(value)
    refuse_unstorable([encoded], [value])
    return encoded


def refuse_unstorable(encoded: Sequence[bytes], values: Sequence[Any]) -> None:
    """Raise BadRequest (400) unless every JSON reader can take back each of `encoded`, the encodings of `values`.

    pydantic-core's parser takes NaN, Infinity and numbers that overflow a double (as infinity) into an `Any`, which
    would be stored as text no JSON parser reads back; and any nesting up to 200 levels, where Actionlog stores at
    most MAX_JSON_DEPTH. Both are the caller's invalid JSON, like the parser's own refusals. The check reads the
    encodings Actionlog makes anyway, all in one search: a batch's entries cost a few µs, not a walk.
    """
    joined = b"\n".join(encoded)
    if b"NaN" in joined or b"Infinity" in joined:
        for text, value in zip(encoded, values, strict=True):
            if text != pydantic_core.to_json(value, inf_nan_mode="null"):
                raise BadRequest("request body is not valid JSON: NaN, Infinity or a number beyond a double's range")
    for text, value in zip(encoded, values, strict=True):
        # A level of nesting takes two bytes, so only a long encoding can be too deep: most are not even counted.
        if (
            len(text) > 2 * MAX_JSON_DEPTH
            and text.count(b"[") + text.count(b"{") > MAX_JSON_DEPTH
            and _depth(value) > MAX_JSON_DEPTH
        ):
            raise BadRequest(f"request body is not JSON to store: nested deeper than {MAX_JSON_DEPTH} levels")


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def utc_timestamp(moment: datetime) -> bytes:
    """ISO-8601 in UTC with millisecond precision and a `Z`, as the seed stores it: 2025-10-15T14:30:00.250Z.

    pydantic-core writes a moment in UTC as `"2025-10-15T14:30:00Z"` or `"2025-10-15T14:30:00.250000Z"` at half
    the cost of Python's isoformat, which a batch of client timestamps notices; other zones go through UTC first.
    """
    written = pydantic_core.to_json(moment)
    if not written.endswith(b'Z"'):
        offset = moment.utcoffset()
        written = pydantic_core.to_json(
            (moment.replace(tzinfo=None) - offset) if offset else moment.replace(tzinfo=None)
        )
        written = written[:-1] + b'Z"'
    return written[1:20] + (written[20:24] if len(written) > 22 else b".000") + b"Z"


def _number_as_text(value: Any) -> Any:
    # The seed's clients send numeric user ids (`userId: 123`); they name the same list as "123".
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _decimal_digits(value: Any) -> Any:
    # A query parameter is text; "10" names the number 10, while "1.0", " 10" or "1e1" stay text and are refused.
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10 else value


# No control characters (C0, DEL, C1): pydantic-core's regex checks it, and the OpenAPI document shows it.
ActionName = Annotated[str, Text(min_length=1, max_length=MAX_ACTION_LENGTH, pattern=r"^[^\x00-\x1f\x7f-\x9f]+$")]
# At most MAX_METADATA_BYTES once encoded: checked where entries are encoded (actions.new_entries), which every
# entry point uses, rather than by encoding each metadata object twice.
Metadata = Annotated[dict[str, Any], Doc(f"A JSON object of at most {MAX_METADATA_BYTES} bytes encoded")]
# With a time zone, and within the years 1 to 9999 in UTC, where entries are stored: all checked by pydantic-core.
Timestamp = Annotated[
    datetime, Moment(ge=datetime(1, 1, 1, tzinfo=UTC), le=datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
]
UserId = Annotated[
    str,
    Text(pattern=USER_ID_PATTERN),
    Doc("1 to 64 characters of A-Z, a-z, 0-9, '_' or '-' (numeric ids such as 123 included)."),
]
# A user id in a JSON body (SQS messages, Serverpod arguments): a number names the same list as its digits.
SeedUserId = Annotated[
    str,
    Text(pattern=USER_ID_PATTERN),
    Before(_number_as_text, accepts=UserId | int),
    Doc("1 to 64 characters of A-Z, a-z, 0-9, '_' or '-', or a number (123 names the same list as \"123\")."),
]
Limit = Annotated[int, Number(ge=1), Before(_decimal_digits)]


# Paths and queries.


class UserPath(Shape):
    userId: UserId


class CacheKeyPath(Shape):
    key: Annotated[
        str,
        Text(pattern=CACHE_KEY_PATTERN),
        Doc(
            "1 to 256 characters of A-Z, a-z, 0-9, ':', '_', '.' or '-', starting with an allowed prefix"
            " (CACHE_KEY_PREFIXES, by default `session:` or `cache:`); any other key is refused with 403."
        ),
    ]


class UserCacheKeyPath(Shape):
    userId: UserId
    key: Annotated[
        str,
        Text(pattern=USER_CACHE_KEY_PATTERN),
        Doc("1 to 200 characters of A-Z, a-z, 0-9, ':', '_', '.' or '-': any key, in the user's own namespace."),
    ]


class ReadQuery(Shape):
    limit: Annotated[
        Limit | None, Doc("How many of the newest entries, 1 to ACTIONS_MAX_ENTRIES (100 by default; more is 400).")
    ] = None


# Bodies.


class ActionIn(Shape):
    """One action as a client sends it."""

    action: ActionName
    metadata: Metadata = field(factory=dict)
    timestamp: Timestamp | None = None


class BatchIn(Shape):
    """A batch of actions, oldest first."""

    actions: Annotated[list[ActionIn], Length(min_length=1, max_length=MAX_BATCH_SIZE)]


class CachePut(Shape):
    value: Annotated[Any, Doc("Any JSON value")]
    ttlSeconds: Annotated[int, Number(ge=1, le=MAX_TTL_SECONDS)] | None = None


# The stored entry and the responses (CONTRACT section 3).


class ActionEntry(Shape, strict=False, extra="allow"):
    """One entry of `user:<id>:actions` as stored and returned: the seed's fields plus an `id`."""

    action: str
    timestamp: str
    metadata: dict[str, Any] = field(factory=dict)
    id: str | None = field(default=None, omit_if_none=True)


class LogActionResponse(Shape):
    """The action, logged: its entry as stored."""

    userId: str
    entry: ActionEntry


class LogBatchResponse(Shape):
    """The actions, logged: how many."""

    userId: str
    count: int


class UserActionsResponse(Shape):
    """The newest entries, newest first."""

    userId: str
    actions: list[ActionEntry]
    count: int


class DegradedUserActionsResponse(Shape):
    """Redis is unavailable: the seed's graceful degradation, an empty list flagged as such."""

    userId: str
    actions: Annotated[list[ActionEntry], Length(max_length=0)] = field(factory=list)
    count: Literal[0] = 0
    degraded: Literal[True] = True


class ActionCountResponse(Shape):
    """How many entries the user's log holds."""

    userId: str
    count: int


class ClearActionsResponse(Shape):
    """Whether there was a log to clear."""

    userId: str
    cleared: bool


class CachePutResponse(Shape):
    """The value, stored under its key."""

    key: str
    ttlSeconds: int | None


class CacheGetResponse(Shape):
    """The value and its remaining TTL (null when it has none)."""

    key: str
    value: Any
    ttlSeconds: int | None


class CacheDeleteResponse(Shape):
    """Whether there was a value to delete."""

    key: str
    deleted: bool


class HealthReport(Shape):
    """The health check: connection, write test, read test, latency."""

    status: Literal["ok", "unavailable"]
    connected: bool
    writeTest: bool
    readTest: bool
    latencyMs: float | None
    mode: str | None
    message: str | None = field(default=None, omit_if_none=True)


class Healthy(HealthReport):
    """Redis is healthy: connected, written to and read back."""

    status: Literal["ok"] = "ok"


class Unhealthy(HealthReport):
    """Redis is unavailable, or failed the write or read test."""

    status: Literal["unavailable"] = "unavailable"


class ServerInfo(Shape):
    """The Redis server's facts (from one node in cluster mode)."""

    redisVersion: str
    mode: str
    uptimeSeconds: int
    connectedClients: int
    usedMemory: int
    usedMemoryHuman: str | None = None
    nodes: int = 1
    note: str | None = field(default=None, omit_if_none=True)  # what the figures cannot say
