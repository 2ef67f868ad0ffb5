"""The HTTP routes' request and response models, and the stored entry. pydantic validates and documents them.

Every request model is strict (CONTRACT section 3): a field of another JSON type than documented is refused, never
coerced, so `"ttlSeconds": "5"` and `"metadata": []` are 422s. Only query parameters, which are text by nature, are
converted, and only from plain decimal digits.

Models build their validators on first use (`defer_build`): a function pays at cold start only for the models on
its own path. The SQS messages live in actionlog.ingest and the Serverpod arguments in actionlog.serverpod, for the
same reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import pydantic_core
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from actionlog.keys import CACHE_KEY_PATTERN, USER_ID_PATTERN

MAX_ACTION_LENGTH = 100
MAX_METADATA_BYTES = 4096
MAX_BATCH_SIZE = 100
MAX_TTL_SECONDS = 2**31 - 1
MAX_CACHE_VALUE_BYTES = 256 * 1024


def encode_json(value: Any) -> str:
    """The one JSON encoding Actionlog stores: compact, UTF-8 kept as is (pydantic-core's encoder)."""
    return pydantic_core.to_json(value).decode()


def utc_timestamp(moment: datetime) -> str:
    """ISO-8601 in UTC with millisecond precision and a `Z`, as the seed stores it."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Model(BaseModel):
    """Actionlog's models: validators built on first use."""

    model_config = ConfigDict(defer_build=True)


class RequestModel(Model):
    """What a client sends: strict about JSON types, no NaN or Infinity."""

    model_config = ConfigDict(strict=True, allow_inf_nan=False)


def _small_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    if len(pydantic_core.to_json(metadata)) > MAX_METADATA_BYTES:
        raise ValueError(f"metadata must be at most {MAX_METADATA_BYTES} bytes of JSON")
    return metadata


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("timestamp must include a time zone, e.g. 2025-10-15T14:30:00Z")
    try:
        moment.astimezone(UTC)  # stored in UTC: 0001-01-01T00:00:00+01:00 has no UTC year to store
    except OverflowError:
        raise ValueError("timestamp must fall within the years 1 to 9999 in UTC") from None
    return moment


def _number_as_text(value: Any) -> Any:
    # The seed's clients send numeric user ids (`userId: 123`); they name the same list as "123".
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _decimal_digits(value: Any) -> Any:
    # A query parameter is text; "10" names the number 10, while "1.0", " 10" or "1e1" stay text and are refused.
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10 else value


# No control characters (C0, DEL, C1): pydantic-core's regex checks it, and the OpenAPI document shows it.
ActionName = Annotated[str, Field(min_length=1, max_length=MAX_ACTION_LENGTH, pattern=r"^[^\x00-\x1f\x7f-\x9f]+$")]
Metadata = Annotated[dict[str, Any], AfterValidator(_small_metadata)]
Timestamp = Annotated[datetime, AfterValidator(_aware)]
UserId = Annotated[
    str,
    Field(
        pattern=USER_ID_PATTERN,
        description="1 to 64 characters of A-Z, a-z, 0-9, '_' or '-' (numeric ids such as 123 included).",
    ),
]
# A user id in a JSON body (SQS messages, Serverpod arguments): a number names the same list as its digits.
SeedUserId = Annotated[UserId, BeforeValidator(_number_as_text, json_schema_input_type=UserId | int)]
Limit = Annotated[int, Field(ge=1), BeforeValidator(_decimal_digits)]


# Paths and queries.


class UserPath(RequestModel):
    userId: UserId


class CacheKeyPath(RequestModel):
    key: Annotated[
        str,
        Field(
            pattern=CACHE_KEY_PATTERN,
            description=(
                "1 to 256 characters of A-Z, a-z, 0-9, ':', '_', '.' or '-', starting with an allowed prefix"
                " (CACHE_KEY_PREFIXES, by default `session:` or `cache:`); any other key is refused with 403."
            ),
        ),
    ]


class ReadQuery(RequestModel):
    limit: Limit | None = Field(
        default=None,
        description="How many of the newest entries, 1 to ACTIONS_MAX_ENTRIES (100 by default; more is 400).",
    )


# Bodies.


class ActionIn(RequestModel):
    """One action as a client sends it."""

    action: ActionName
    metadata: Metadata = Field(default_factory=dict)
    timestamp: Timestamp | None = None


class BatchIn(RequestModel):
    """A batch of actions, oldest first."""

    actions: list[ActionIn] = Field(min_length=1, max_length=MAX_BATCH_SIZE)


class CachePut(RequestModel):
    value: Any = Field(description="Any JSON value")
    ttlSeconds: int | None = Field(default=None, ge=1, le=MAX_TTL_SECONDS)


# The stored entry and the responses (CONTRACT section 3).


class ActionEntry(Model):
    """One entry of `user:<id>:actions` as stored and returned: the seed's fields plus an `id`."""

    model_config = ConfigDict(extra="allow")

    action: str
    timestamp: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    id: str | None = Field(default=None, exclude_if=lambda value: value is None)


class LogActionResponse(Model):
    """The action, logged: its entry as stored."""

    userId: str
    entry: ActionEntry


class LogBatchResponse(Model):
    """The actions, logged: how many."""

    userId: str
    count: int


class UserActionsResponse(Model):
    """The newest entries, newest first."""

    userId: str
    actions: list[ActionEntry]
    count: int


class DegradedUserActionsResponse(Model):
    """Redis is unavailable: the seed's graceful degradation, an empty list flagged as such."""

    userId: str
    actions: list[ActionEntry] = Field(default_factory=list, max_length=0)
    count: Literal[0] = 0
    degraded: Literal[True] = True


class ActionCountResponse(Model):
    """How many entries the user's log holds."""

    userId: str
    count: int


class ClearActionsResponse(Model):
    """Whether there was a log to clear."""

    userId: str
    cleared: bool


class CachePutResponse(Model):
    """The value, stored under its key."""

    key: str
    ttlSeconds: int | None


class CacheGetResponse(Model):
    """The value and its remaining TTL (null when it has none)."""

    key: str
    value: Any
    ttlSeconds: int | None


class CacheDeleteResponse(Model):
    """Whether there was a value to delete."""

    key: str
    deleted: bool


class HealthReport(Model):
    """The health check: connection, write test, read test, latency."""

    status: Literal["ok", "unavailable"]
    connected: bool
    writeTest: bool
    readTest: bool
    latencyMs: float | None
    mode: str | None
    message: str | None = Field(default=None, exclude_if=lambda value: value is None)


class Healthy(HealthReport):
    """Redis is healthy: connected, written to and read back."""

    status: Literal["ok"] = "ok"


class Unhealthy(HealthReport):
    """Redis is unavailable, or failed the write or read test."""

    status: Literal["unavailable"] = "unavailable"


class ServerInfo(Model):
    """The Redis server's facts (from one node in cluster mode)."""

    redisVersion: str
    mode: str
    uptimeSeconds: int
    connectedClients: int
    usedMemory: int
    usedMemoryHuman: str | None = None
    nodes: int = 1
    note: str | None = Field(default=None, exclude_if=lambda value: value is None)  # what the figures cannot say
