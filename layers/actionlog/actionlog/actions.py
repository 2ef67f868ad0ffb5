"""The per-user action log: `user:<id>:actions`, a list of JSON entries, newest first, capped.

`log_actions` is the one write path of every entry point (REST, Serverpod, SQS): one atomic round trip, one Lua
script, so no reader sees the list over its cap and no concurrent writer loses an entry that should stay. A keyed
write (an HTTP Idempotency-Key, an SQS message id) checks and records its receipt in the same script, so the check,
the write and the record cannot be separated by a crash or a lost reply.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import repeat
from operator import itemgetter
from typing import Any, NamedTuple

import pydantic_core

from actionlog import keys, ratelimit, scripts, wire
from actionlog.codec import refuse_unstorable, utc_timestamp
from actionlog.errors import BadRequest, Unprocessable, translate_store_errors
from actionlog.models import ENTRY_ID_PATTERN, MAX_METADATA_BYTES, ActionFields, ActionIn
from actionlog.observability import count
from actionlog.ratelimit import READS, WRITES, RateLimit
from actionlog.redis_client import RedisClient
from actionlog.schema import Encoded
from actionlog.settings import Settings, get_settings

# Why a script and not Powertools' idempotency utility: Powertools writes its "in progress" and "completed" records
# in separate round trips around the write. A Lambda that dies, or a reply that is lost, between the LPUSH and the
# "completed" record leaves the write done but unrecorded, and the redelivered message is logged twice. Here the
# rate count, the receipt check, the write, its retention and the receipt are one atomic step; a failing LPUSH
# (which aborts the script) leaves no receipt.
#
# A user's receipts live in one HASH (write id -> receipt) beside a ZSET of their expiry times, in the list's hash
# slot (keys.py), so everything a user's writes leave behind is found from the user id alone. Each keyed write drops
# the user's expired receipts, and keeps at most RECEIPTS_MAX of them (the oldest go first).
#
# KEYS: the list, the receipts, their expiries, the user's write counter.
# ARGV: the cap, the write id ('' for a write without a key), the receipt, its lifetime (ms), the most receipts kept,
# the rate limit (0: none) and window (ms), the list's retention (ms; 0: none), then the entries (oldest first).
# Returns {1, used, reset} when logged; {0, used, reset, receipt} when the write id was written before; {-1, used,
# reset} over the rate limit (nothing written).
LOG_SCRIPT = """
local now = now_ms()
local used, reset, over = count_request(KEYS[4], ARGV[6], ARGV[7], now, false)
if over then
  return {-1, used, reset}
end
local keyed = ARGV[2] ~= ''
if keyed then
  local expired = call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 100)
  for _, write_id in ipairs(expired) do
    call('HDEL', KEYS[2], write_id)
    call('ZREM', KEYS[3], write_id)
  end
  local first = call('HGET', KEYS[2], ARGV[2])
  if first then
    return {0, used, reset, first}
  end
end
call('LPUSH', KEYS[1], unpack(ARGV, 9))
call('LTRIM', KEYS[1], 0, tonumber(ARGV[1]) - 1)
local retention = tonumber(ARGV[8])
if retention > 0 then
  call('PEXPIRE', KEYS[1], retention)
end
if keyed then
  local expiry = now + tonumber(ARGV[4])
  call('HSET', KEYS[2], ARGV[2], ARGV[3])
  call('ZADD', KEYS[3], expiry, ARGV[2])
  local extra = call('ZCARD', KEYS[3]) - tonumber(ARGV[5])
  if extra > 0 then
    local oldest = call('ZPOPMIN', KEYS[3], extra)
    for index = 1, #oldest, 2 do
      call('HDEL', KEYS[2], oldest[index])
    end
  end
  call('PEXPIREAT', KEYS[2], expiry)
  call('PEXPIREAT', KEYS[3], expiry)
end
return {1, used, reset}
"""
_LOG = scripts.script(LOG_SCRIPT)

# KEYS: the list, the user's read counter. ARGV: how many entries (-1: all), the rate limit and window (ms), and a
# cursor: the id of the entry to read after ('' for the newest). Returns {1, used, reset, 1, n, the n entries joined
# by ENTRY_SEPARATOR}, {1, used, reset, 0} when the list no longer holds the cursor's entry, or {-1, used, reset}
# over the rate limit. A read the store cannot count (out of memory) is answered all the same. The entries come back
# as one string (as a list when ARGV[5] is 'list'): passed as 50 strings, from Lua to the reply and through the
# client, they cost about as much as the LRANGE itself.
#
# The cursor is found by the end of an entry's text: Actionlog writes `"id":"<id>"}` last, so an id quoted inside
# metadata never matches. The list is at most ACTIONS_MAX_ENTRIES long, so a read is one round trip whatever it asks.
# The entries after the cursor are taken with LRANGE, not unpack: Redis' Lua unpacks at most about 8,000 values.
READ_SCRIPT = """
local used, reset, over = count_request(KEYS[2], ARGV[2], ARGV[3], now_ms(), true)
if over then
  return {-1, used, reset}
end
local function found(entries)
  if ARGV[5] == 'list' then
    return {1, used, reset, 1, #entries, entries}
  end
  return {1, used, reset, 1, #entries, table.concat(entries, '\\30')}
end
local count = tonumber(ARGV[1])
if ARGV[4] == '' then
  return found(call('LRANGE', KEYS[1], 0, count < 0 and -1 or count - 1))
end
local entries = call('LRANGE', KEYS[1], 0, -1)
local ending = '"id":"' .. ARGV[4] .. '"}'
for index, entry in ipairs(entries) do
  if string.sub(entry, -#ending) == ending then
    local last = count < 0 and #entries or math.min(#entries, index + count)
    return found(call('LRANGE', KEYS[1], index, last - 1))
  end
end
return {1, used, reset, 0}
"""
_READ = scripts.script(READ_SCRIPT)

# KEYS: the list, the receipts, their expiries, the user's write counter. ARGV: the rate limit and window (ms).
# Returns {1 when there was a list else 0, used, reset}, or {-1, used, reset} over the rate limit (nothing deleted).
_CLEAR = scripts.script("""
local used, reset, over = count_request(KEYS[4], ARGV[1], ARGV[2], now_ms(), false)
if over then
  return {-1, used, reset}
end
local cleared = call('DEL', KEYS[1])
call('DEL', KEYS[2], KEYS[3])
return {cleared, used, reset}
""")
ENTRY_SEPARATOR = "\x1e"  # ASCII's record separator: a control character, never unescaped in JSON text

RECEIPTS_MAX = 100  # receipts kept per user: a client retries its newest requests, not one 100 writes ago
RECEIPT_TTL_SECONDS = 24 * 60 * 60
# Lambda refuses a response over 6 MB (6,291,456 bytes) as API Gateway gets it: a page keeps well inside it.
MAX_PAGE_BYTES = 5 * 1024 * 1024
_ID = re.compile(ENTRY_ID_PATTERN)
_ID_BYTES = 16  # 128 random bits, as uuid4 gives
_FINGERPRINT_LENGTH = 64  # a SHA-256 in hex


class WriteKey(NamedTuple):
    """What makes a write keyed: done at most once per key within RECEIPT_TTL_SECONDS.

    `scope` separates the kinds of write (an HTTP operation's name, `sqs`), so the same key on another route is
    another write; `request` is the request as sent (an HTTP body), and the same key with another request is refused.
    """

    scope: str
    key: str
    request: str = ""

    @property
    def write_id(self) -> str:
        return f"{self.scope}:{self.key}"

    def receipt(self, response: Encoded[Any] | None) -> str:
        """What the receipt keeps: the request's fingerprint, then the answer a repeat gets again, byte for byte."""
        fingerprint = hashlib.sha256(self.request.encode()).hexdigest()
        return fingerprint + (response.json if response is not None else "")


@dataclass(frozen=True, slots=True)
class Logged:
    """The outcome of a write: how many entries it logged (0 when it was a repeat) and its answer."""

    count: int
    response: Encoded[Any] | None  # the answer of this write, or of the first write when it is a repeat
    replayed: bool = False


def new_entries(actions: Sequence[ActionIn | ActionFields], *, now: datetime | None = None) -> list[bytes]:
    """Stored entries (compact JSON, UTF-8: what Redis is sent) for `actions`: each with a timestamp in UTC (the
    client's, else the server's) and an id. Every entry point makes its entries here, so every entry is checked
    here: metadata of at most MAX_METADATA_BYTES (else 422) that every JSON reader can take back (else 400).

    Made for batches: one clock read and one draw of random bytes for them all, each entry written once around its
    encoded parts, and the metadata checked on the encoding it is stored in (a batch of 100 spent most of its time
    making entries one model at a time, and then checking its metadata by encoding it again).
    """
    server_time = utc_timestamp(now or datetime.now(UTC))
    # One hex id of _ID_BYTES random bytes each, cut in C (bytes.hex puts a space between each id's bytes and the next).
    ids = os.urandom(_ID_BYTES * len(actions)).hex(" ", _ID_BYTES).encode().split()
    given = [action if type(action) is dict else vars(action) for action in actions]  # each action's fields
    # The fields read by map over C functions: a batch of 100 made 300 Python calls of dict.get.
    metadata = [pydantic_core.to_json(value) if value else b"{}" for value in map(dict.get, given, repeat("metadata"))]
    if max(map(len, metadata), default=0) > MAX_METADATA_BYTES:
        raise Unprocessable(f"metadata must be at most {MAX_METADATA_BYTES} bytes of JSON")
    refuse_unstorable(metadata)
    # Every name in one encoding, cut at the `","` between strings: inside a string a quote is always escaped.
    names = pydantic_core.to_json(list(map(itemgetter("action"), given)))[2:-2].split(b'","') if given else []
    moments = list(map(dict.get, given, repeat("timestamp")))
    stamps: dict[datetime, bytes] = {}  # a batch's actions often share their client's timestamp
    times = (
        [
            server_time if moment is None else stamps.get(moment) or stamps.setdefault(moment, utc_timestamp(moment))
            for moment in moments
        ]
        if any(moments)
        else repeat(server_time)
    )
    # Each entry written around its encoded parts, the parts handed over by zip and map: no Python loop per entry.
    return list(map(_ENTRY.__mod__, zip(names, times, metadata, ids, strict=False)))


_ENTRY = b'{"action":"%b","timestamp":"%b","metadata":%b,"id":"%b"}'


def log_actions(
    user_id: str,
    entries: Sequence[bytes],
    *,
    redis: RedisClient,
    response: Encoded[Any] | None = None,
    key: WriteKey | None = None,
    rate: RateLimit | None = None,
    settings: Settings | None = None,
) -> Logged:
    """Push stored `entries` (oldest first) onto the user's list, trimmed to its cap, and count ActionsLogged.

    With `key`, nothing is logged when the key was written before: the first write's `response` comes back instead
    (422 when the key came with another request). With `rate`, the request is counted against the user's write
    limit in the same round trip (429, nothing written, over it). The cap and the retention come from the settings.
    """
    settings = settings or get_settings()
    receipt = key.receipt(response) if key is not None else ""
    outcome, used, reset_ms, *first = _log(
        keys=[
            keys.actions_key(user_id),
            keys.receipts_key(user_id),
            keys.receipt_expiries_key(user_id),
            keys.user_rate_key(user_id, WRITES),
        ],
        args=[
            settings.actions_max_entries,
            key.write_id if key is not None else "",
            receipt,
            RECEIPT_TTL_SECONDS * 1000,
            RECEIPTS_MAX,
            *(rate.args() if rate is not None else (0, 1)),
            settings.retention_ms,
            *entries,
        ],
        redis=redis,
    )
    if rate is not None:
        rate.counted(used, reset_ms)
    if outcome == 1:
        count("ActionsLogged", len(entries))
        return Logged(len(entries), response)
    [stored] = first
    if stored[:_FINGERPRINT_LENGTH] != receipt[:_FINGERPRINT_LENGTH]:
        raise Unprocessable("this Idempotency-Key was already used with a different request body")
    answer = Encoded(response.shape, stored[_FINGERPRINT_LENGTH:]) if response is not None else None
    return Logged(0, answer, replayed=True)


@translate_store_errors
def _log(*, keys: list[str], args: list[Any], redis: RedisClient) -> list[Any]:
    result: list[Any] = _LOG(keys=keys, args=args, client=redis)
    return result


@translate_store_errors
def recent_actions(user_id: str, limit: int, *, redis: RedisClient, rate: RateLimit | None = None) -> list[str]:
    """The newest `limit` entries as stored (JSON strings), newest first; with `rate`, the request is counted
    against the user's read limit in the same round trip (429 over it)."""
    return _read(user_id, limit, None, rate, redis)


class Page(NamedTuple):
    """A page of the log: entries as stored, newest first, and the cursor of the next page (None: none)."""

    entries: list[str]
    next: str | None


@translate_store_errors
def read_page(
    user_id: str,
    limit: int,
    *,
    redis: RedisClient,
    names: frozenset[str] | None = None,
    since: datetime | None = None,
    before: str | None = None,
    rate: RateLimit | None = None,
    budget: int = MAX_PAGE_BYTES,
) -> Page:
    """Up to `limit` entries, newest first, older than the entry `before` names (400 when the log no longer holds
    it), with an action among `names` and a timestamp at or after `since`: one round trip whatever is asked. The page
    is cut where its answer would pass `budget` bytes as a Lambda response carries it; `next` then says where to go
    on. An entry without an id (the seed's) is returned but is no cursor: a page ends on an entry that has one, and a
    page without one (the seed's entries, older than any with an id) is returned whole, where paging ends."""
    filtered = names is not None or since is not None
    stored = _read(user_id, -1 if filtered else limit + 1, before, rate, redis)
    matching = _matching(stored, names, since) if filtered else stored
    page = _fitting(matching[:limit], budget)
    if len(page) == len(matching):
        return Page(page, None)
    end = len(page)
    while end and (cursor := entry_id(page[end - 1])) is None:
        end -= 1  # a page ends on an entry a next page can start after
    return Page(page[:end], cursor) if end else Page(page, None)


def _read(
    user_id: str, count: int, before: str | None, rate: RateLimit | None, redis: RedisClient, form: str = "joined"
) -> list[str]:
    if before is None and count > 0 and form == "joined":
        return _newest(user_id, count, rate, redis)
    _, used, reset_ms, *found = _READ(
        keys=[keys.actions_key(user_id), keys.user_rate_key(user_id, READS)],
        args=[count, *(rate.args() if rate is not None else (0, 1)), before or "", form],
        client=redis,
    )
    if rate is not None:
        rate.counted(used, reset_ms)
    if found[0] == 0:
        raise BadRequest("before names an entry the log no longer holds: read again from the newest")
    _, length, entries = found
    if form == "list":
        listed: list[str] = entries
        return listed
    split: list[str] = entries.split(ENTRY_SEPARATOR) if length else []
    if len(split) != length:
        # An entry holding the separator, a control character no JSON text holds unescaped (another writer's bytes):
        # read again as a list, at the cost of a second round trip, not counted again.
        return _read(user_id, count, before, None, redis, "list")
    return split


def _newest(user_id: str, count: int, rate: RateLimit | None, redis: RedisClient) -> list[str]:
    """The newest `count` entries, and the read counted, in one round trip without a script: INCR, PEXPIREAT NX (the
    window's end), PTTL and LRANGE sent together (`ratelimit.count_beside`). The entries cost as much again when
    they pass through Lua, and a read needs no atomicity: an answer over the limit is a 429 whatever came back."""
    command = ("LRANGE", keys.actions_key(user_id), 0, count - 1)
    if rate is None:
        entries: list[str] = wire.call(redis, *command)
        return entries
    [listed] = ratelimit.count_beside(rate, [command], redis=redis)
    return listed  # type: ignore[no-any-return]


def _matching(stored: list[str], names: frozenset[str] | None, since: datetime | None) -> list[str]:
    """The stored entries with an action among `names` and a timestamp at or after `since`, parsed in one pass."""
    try:
        parsed = pydantic_core.from_json("[" + ",".join(stored) + "]")
    except ValueError:
        parsed = None
    if not isinstance(parsed, list) or len(parsed) != len(stored):  # an entry that is not one JSON value (another
        parsed = [_parsed(text) for text in stored]  # writer's, such as `1,2`): parse them one by one
    return [
        text
        for text, entry in zip(stored, parsed, strict=True)
        if isinstance(entry, dict)
        and (names is None or (isinstance(action := entry.get("action"), str) and action in names))
        and (since is None or _at_or_after(entry.get("timestamp"), since))
    ]


def _parsed(text: str) -> object:
    try:
        return pydantic_core.from_json(text)
    except ValueError:
        return None


def _at_or_after(timestamp: object, since: datetime) -> bool:
    if not isinstance(timestamp, str):
        return False
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        return False
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) >= since


def entry_id(text: str) -> str | None:
    """The id Actionlog wrote at the end of a stored entry, or None (an entry of the seed's, or another shape)."""
    if not text.endswith('"}'):
        return None
    start = text.rfind('"id":"')
    candidate = text[start + 6 : -2] if start >= 0 else ""
    return candidate if _ID.match(candidate) else None


def _fitting(entries: list[str], budget: int) -> list[str]:
    """The first entries whose answer fits in `budget` bytes once a Lambda response carries it as an escaped string
    (each quote and backslash doubled, each other character up to 12 bytes as a \\u escape pair)."""
    if sum(map(len, entries)) * 12 < budget:
        return entries  # even escaped at its worst it fits: no need to measure
    fitting, used = [], 0
    for text in entries:
        used += len(json.dumps(text)) + 1
        if used > budget:
            break
        fitting.append(text)
    return fitting


def clear_actions(user_id: str, *, redis: RedisClient, rate: RateLimit | None = None) -> bool:
    """Delete the user's list and the receipts of its keyed writes, which hold copies of its entries; True when
    there was a list. With `rate`, the request is counted against the user's write limit in the same script (429,
    nothing deleted, over it)."""
    cleared, used, reset_ms = _clear(
        keys=[
            keys.actions_key(user_id),
            keys.receipts_key(user_id),
            keys.receipt_expiries_key(user_id),
            keys.user_rate_key(user_id, WRITES),
        ],
        args=[*(rate.args() if rate is not None else (0, 1))],
        redis=redis,
    )
    if rate is not None:
        rate.counted(used, reset_ms)
    return bool(cleared == 1)


@translate_store_errors
def _clear(*, keys: list[str], args: list[Any], redis: RedisClient) -> list[Any]:
    result: list[Any] = _CLEAR(keys=keys, args=args, client=redis)
    return result


@translate_store_errors
def count_actions(user_id: str, *, redis: RedisClient, rate: RateLimit | None = None) -> int:
    """How many entries the user's list holds (LLEN); with `rate`, the request is counted against the user's read
    limit in the same round trip (429 over it)."""
    command = ("LLEN", keys.actions_key(user_id))
    if rate is None:
        length: int = wire.call(redis, *command)
        return length
    [counted] = ratelimit.count_beside(rate, [command], redis=redis)
    return int(counted)
