"""The HTTP routes' request and response models, and the stored entry: shapes (actionlog.schema) on pydantic-core.

Every request model is strict: a field of another JSON type than documented is refused, never
coerced, so `"ttlSeconds": "5"` and `"metadata": []` are 422s. Only query parameters, which are text by nature, are
converted, and only from plain decimal digits.

Each shape builds its validator on first use, so a function pays at cold start only for the models on its own path.
The SQS messages live in actionlog.ingest and the Serverpod arguments in actionlog.serverpod, for the same reason.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from actionlog.keys import CACHE_KEY_PATTERN, USER_CACHE_KEY_PATTERN, USER_ID_PATTERN, cache_key
from actionlog.schema import Before, Doc, Encoded, Fields, LazyPattern, Length, Moment, Number, Shape, Text, field
from actionlog.settings import Settings, get_settings

MAX_BODY_BYTES = 1024 * 1024  # a request body, as the adapters admit it; API Gateway's own limit is ten times that
MAX_ACTION_LENGTH = 100
MAX_METADATA_BYTES = 4096
MAX_BATCH_SIZE = 100
MAX_TTL_SECONDS = 2**31 - 1
MAX_CACHE_VALUE_BYTES = 256 * 1024
MAX_JSON_DEPTH = 64
ENTRY_ID_PATTERN = r"^[0-9a-f]{32}$"  # the ids Actionlog gives entries: 128 random bits in hex
DEFAULT_READ_LIMIT = 50  # entries a read returns when it names no limit (fewer when the cap is lower)


def _number_as_text(value: Any) -> Any:
    # The seed's clients send numeric user ids (`userId: 123`); they name the same list as "123".
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _moment_text(value: Any) -> Any:
    # A query parameter is text: an ISO-8601 instant with a time zone is read as one; anything else stays text and
    # is refused (400).
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return moment if moment.tzinfo is not None else value
    return value


def _decimal_integer(value: Any) -> Any:
    # A query parameter is text: "10" and "-1" are integers, checked against the bounds as such, while "1.0", " 10",
    # "+10" or "1e1" stay text and are refused. A numeral longer than every bound stands for a number beyond them
    # all, which the bounds refuse, without converting what could be thousands of digits.
    if isinstance(value, str) and value.isascii() and value.removeprefix("-").isdigit():
        negative, digits = value.startswith("-"), value.lstrip("-").lstrip("0")
        if len(digits) > _QUERY_DIGITS:
            return -(10**_QUERY_DIGITS) if negative else 10**_QUERY_DIGITS
        return int(value)
    return value


_QUERY_DIGITS = 18


def whole_number_as_int(value: Any) -> Any:
    """JSON Schema's reading of an integer: a number without a fractional part, so 3790.0 and 1e3 are integers too.

    Anything else (text, booleans, fractions) stays as it is, and strict validation refuses it as before.
    """
    return int(value) if isinstance(value, float) and value.is_integer() else value


# Characters an action name may not hold: controls (C0, DEL, C1), and the format characters and line separators
# that display as nothing or reorder what follows them (Unicode categories Cf, Zl and Zp: zero-width spaces and
# joiners, bidirectional embeddings, overrides and isolates, the byte order mark, tag characters), so a name always
# reads as what is stored. Code points of Unicode 15.1; astral ones written as themselves, which every regex engine
# reads (pydantic-core's, Python's, JavaScript's with the u flag).
INVISIBLE_OR_CONTROL = (
    (0x00, 0x1F), (0x7F, 0x9F), (0xAD, 0xAD), (0x600, 0x605), (0x61C, 0x61C), (0x6DD, 0x6DD), (0x70F, 0x70F),
    (0x890, 0x891), (0x8E2, 0x8E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x2028, 0x202E), (0x2060, 0x206F),
    (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)  # fmt: skip


def _character_class(ranges: tuple[tuple[int, int], ...]) -> str:
    def written(code: int) -> str:
        return f"\\u{code:04x}" if code <= 0xFFFF else chr(code)

    return "".join(written(low) + ("" if low == high else "-" + written(high)) for low, high in ranges)


# pydantic-core's regex checks it, and the OpenAPI document shows it.
ActionName = Annotated[
    str,
    Text(
        min_length=1,
        max_length=MAX_ACTION_LENGTH,
        pattern=f"^[^{_character_class(INVISIBLE_OR_CONTROL)}]+$",
    ),
]
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
Limit = Annotated[int, Number(ge=1), Before(_decimal_integer)]


# Paths and queries.


class UserPath(Shape):
    # The field naming the user whose data the request is about: the owner Access.OWNER compares with the caller.
    OWNER: ClassVar[str] = "userId"

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

    def check(self) -> None:
        """The key policy: a key under one of CACHE_KEY_PREFIXES, else 403 (before the request is counted)."""
        cache_key(self.key, get_settings().cache_key_prefixes)


class UserCacheKeyPath(UserPath):
    key: Annotated[
        str,
        Text(pattern=USER_CACHE_KEY_PATTERN),
        Doc("1 to 200 characters of A-Z, a-z, 0-9, ':', '_', '.' or '-': any key, in the user's own namespace."),
    ]


class ReadQuery(Shape):
    limit: Annotated[
        Annotated[Limit, Doc(json_schema_extra={"maximum": Settings.actions_max_entries})] | None,
        Doc(
            f"How many matching entries, 1 to ACTIONS_MAX_ENTRIES (more is 400); {DEFAULT_READ_LIMIT} when absent, or"
            " ACTIONS_MAX_ENTRIES when that is lower. The maximum shown is ACTIONS_MAX_ENTRIES' default: a"
            " deployment's own cap may be other."
        ),
    ] = None
    # The constraints sit on the text, not on the optional: on `str | None` they would check nothing.
    action: Annotated[
        Annotated[str, LazyPattern(r"^[^,\x00-\x1f\x7f-\x9f]{1,100}(,[^,\x00-\x1f\x7f-\x9f]{1,100}){0,19}$")] | None,
        Doc("Only entries with one of these action names: up to 20, comma-separated."),
    ] = None
    since: Annotated[
        datetime | None,
        Before(_moment_text, accepts=datetime),
        Doc("Only entries whose timestamp is at or after this instant: ISO-8601 with a time zone."),
    ] = None
    before: Annotated[
        Annotated[str, Text(pattern=ENTRY_ID_PATTERN)] | None,
        Doc("Only entries older than the entry with this id: the `next` of the previous page."),
    ] = None

    def names(self) -> frozenset[str] | None:
        return frozenset(self.action.split(",")) if self.action is not None else None


# Bodies.


class ActionIn(Shape):
    """One action as a client sends it."""

    action: ActionName
    metadata: Metadata = field(factory=dict)
    timestamp: Timestamp | None = None


type ActionFields = dict[str, Any]  # an ActionIn's fields, by name


class BatchIn(Shape):
    """A batch of actions, oldest first."""

    # Each action validated as an ActionIn, kept as a dict of its fields: a hundred models cost half the validation.
    actions: Annotated[list[ActionFields], Fields(ActionIn), Length(min_length=1, max_length=MAX_BATCH_SIZE)]


class CachePut(Shape):
    value: Annotated[Any, Doc("Any JSON value")]
    ttlSeconds: Annotated[int, Number(ge=1, le=MAX_TTL_SECONDS), Before(whole_number_as_int)] | None = None


# The stored entry and the responses.


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

    @classmethod
    def around(cls, user_id: str, entry: bytes) -> Encoded["LogActionResponse"]:
        """The answer written around the stored entry (a user id needs no escaping: see UserId's pattern)."""
        return Encoded(cls, f'{{"userId":"{user_id}","entry":{entry.decode()}}}')


class LogBatchResponse(Shape):
    """The actions, logged: how many."""

    userId: str
    count: int


class UserActionsResponse(Shape):
    """The newest matching entries, newest first, and where the next page starts."""

    userId: str
    actions: list[ActionEntry]
    count: Annotated[int, Doc("How many entries this page holds")]
    next: Annotated[
        str | None, Doc("The id to pass as `before` for the next page; null when no matching entry remains")
    ] = None

    @classmethod
    def around(cls, user_id: str, entries: str, count: int, next_id: str | None) -> Encoded["UserActionsResponse"]:
        """The answer written around `entries`, the stored entries' JSON array (codec.entries_json); an id needs no
        escaping (ENTRY_ID_PATTERN)."""
        after = "null" if next_id is None else f'"{next_id}"'
        return Encoded(cls, f'{{"userId":"{user_id}","actions":{entries},"count":{count},"next":{after}}}')


class DegradedUserActionsResponse(Shape):
    """Redis is unavailable: the seed's graceful degradation, an empty list flagged as such."""

    userId: str
    actions: Annotated[list[ActionEntry], Length(max_length=0)] = field(factory=list)
    count: Literal[0] = 0
    next: None = None
    degraded: Literal[True] = True


class ActionCountResponse(Shape):
    """How many entries the user's log holds."""

    userId: str
    count: int


class ClearActionsResponse(Shape):
    """Whether there was a log to clear."""

    userId: str
    cleared: bool


class EraseUserResponse(Shape):
    """Whether Actionlog held anything of the user: it holds nothing now."""

    userId: str
    erased: bool


class CachePutResponse(Shape):
    """The value, stored under its key."""

    key: str
    ttlSeconds: int | None


class CacheGetResponse(Shape):
    """The value and its remaining TTL (null when it has none)."""

    key: str
    value: Any
    ttlSeconds: int | None


class CachedKey(Shape):
    key: str
    ttlSeconds: Annotated[int | None, Doc("Seconds left to live; null for a key without a TTL")]


class UserCacheKeysResponse(Shape):
    """The user's own cache keys, sorted, with their remaining TTLs."""

    userId: str
    keys: list[CachedKey]
    count: int


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
