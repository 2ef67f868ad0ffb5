"""Request, response and stored-entry models. The HTTP routes, SQS messages and Serverpod calls share them."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter

from actionlog.keys import USER_ID_PATTERN

MAX_ACTION_LENGTH = 100
MAX_METADATA_BYTES = 4096
MAX_BATCH_SIZE = 100
MAX_TTL_SECONDS = 2**31 - 1
MAX_CACHE_VALUE_BYTES = 256 * 1024


def encode_json(value: Any) -> str:
    """The one JSON encoding Actionlog stores: compact, UTF-8 kept as is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def utc_timestamp(moment: datetime) -> str:
    """ISO-8601 in UTC with millisecond precision and a `Z`, as the seed stores it."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _small_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    if len(encode_json(metadata).encode()) > MAX_METADATA_BYTES:
        raise ValueError(f"metadata must be at most {MAX_METADATA_BYTES} bytes of JSON")
    return metadata


def _number_as_text(value: Any) -> Any:
    # The seed's clients send numeric user ids (`userId: 123`); they name the same list as "123".
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("timestamp must include a time zone, e.g. 2025-10-15T14:30:00Z")
    try:
        moment.astimezone(UTC)  # stored in UTC: 0001-01-01T00:00:00+01:00 has no UTC year to store
    except OverflowError:
        raise ValueError("timestamp must fall within the years 1 to 9999 in UTC") from None
    return moment


# No control characters (C0, DEL, C1): pydantic-core's regex checks it, and the OpenAPI document shows it.
ActionName = Annotated[str, Field(min_length=1, max_length=MAX_ACTION_LENGTH, pattern=r"^[^\x00-\x1f\x7f-\x9f]+$")]
Metadata = Annotated[dict[str, Any], AfterValidator(_small_metadata)]
Timestamp = Annotated[datetime, AfterValidator(_aware)]
UserId = Annotated[str, BeforeValidator(_number_as_text), Field(pattern=USER_ID_PATTERN)]


class ActionIn(BaseModel):
    """One action as a client sends it."""

    action: ActionName
    metadata: Metadata = Field(default_factory=dict)
    timestamp: Timestamp | None = None


class BatchIn(BaseModel):
    """A batch of actions, oldest first."""

    actions: list[ActionIn] = Field(min_length=1, max_length=MAX_BATCH_SIZE)


class ActionMessage(ActionIn):
    """An SQS message carrying one action (CONTRACT section 5)."""

    model_config = ConfigDict(extra="forbid")

    userId: UserId


class BatchMessage(BatchIn):
    """An SQS message carrying a batch of actions for one user."""

    model_config = ConfigDict(extra="forbid")

    userId: UserId


IngestMessage: TypeAdapter[ActionMessage | BatchMessage] = TypeAdapter(ActionMessage | BatchMessage)


class ActionEntry(BaseModel):
    """One entry of `user:<id>:actions` as stored and returned: the seed's fields plus an `id`."""

    model_config = ConfigDict(extra="allow")

    action: str
    timestamp: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    id: str | None = Field(default=None, exclude_if=lambda value: value is None)

    @classmethod
    def record(cls, action: ActionIn, *, now: datetime | None = None) -> ActionEntry:
        moment = action.timestamp or now or datetime.now(UTC)
        # model_construct: every field comes from a validated ActionIn or is made here.
        return cls.model_construct(
            action=action.action,
            timestamp=utc_timestamp(moment),
            metadata=action.metadata,
            id=secrets.token_hex(16),  # 128 random bits, as uuid4().hex gives, at a quarter of the cost
        )

    def encode(self) -> str:
        """The entry as stored: compact JSON, UTF-8 kept as is (pydantic-core's encoder, one pass)."""
        return self.model_dump_json()


# Arguments of the seed's Serverpod endpoint methods (named JSON fields).


class LogActionArgs(BaseModel):
    userId: UserId
    action: ActionName
    metadata: Metadata | None = None

    def as_action(self) -> ActionIn:
        return ActionIn(action=self.action, metadata=self.metadata or {})


class GetUserActionsArgs(BaseModel):
    userId: UserId
    limit: int = Field(default=50, ge=1)


class LogBatchActionsArgs(BaseModel):
    userId: UserId
    actions: list[ActionName | ActionIn] = Field(min_length=1, max_length=MAX_BATCH_SIZE)

    def as_actions(self) -> list[ActionIn]:
        return [ActionIn(action=item) if isinstance(item, str) else item for item in self.actions]


class ClearUserActionsArgs(BaseModel):
    userId: UserId


class CachePut(BaseModel):
    value: Any = Field(description="Any JSON value")
    ttlSeconds: int | None = Field(default=None, ge=1, le=MAX_TTL_SECONDS)


# Responses (contract section 3).


class LogActionResponse(BaseModel):
    userId: str
    entry: ActionEntry


class LogBatchResponse(BaseModel):
    userId: str
    count: int


class UserActionsResponse(BaseModel):
    userId: str
    actions: list[ActionEntry]
    count: int
    degraded: bool | None = Field(default=None, exclude_if=lambda value: value is None)


class ClearActionsResponse(BaseModel):
    userId: str
    cleared: bool


class CachePutResponse(BaseModel):
    key: str
    ttlSeconds: int | None


class CacheGetResponse(BaseModel):
    key: str
    value: Any
    ttlSeconds: int | None


class CacheDeleteResponse(BaseModel):
    key: str
    deleted: bool


class HealthReport(BaseModel):
    status: str
    connected: bool
    writeTest: bool
    readTest: bool
    latencyMs: float | None
    mode: str | None
    message: str | None = Field(default=None, exclude_if=lambda value: value is None)


class ServerInfo(BaseModel):
    redisVersion: str
    mode: str
    uptimeSeconds: int
    connectedClients: int
    usedMemory: int
    usedMemoryHuman: str | None = None
    nodes: int = 1
