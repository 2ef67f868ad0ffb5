"""The per-user action log: `user:<id>:actions`, a list of JSON entries, newest first, capped.

Every write is one atomic round trip, so no reader sees the list over its cap and no concurrent writer
loses an entry that should stay: a plain write is MULTI/LPUSH/LTRIM/EXEC; a keyed write (an SQS message
id, an HTTP Idempotency-Key) is one Lua script that also records the key. `log_actions` is the one write
path of every entry point (REST, Serverpod, SQS), and counts what it logged.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

import pydantic_core

from actionlog import keys
from actionlog.errors import Unprocessable, translate_store_errors
from actionlog.models import MAX_METADATA_BYTES, ActionEntry, ActionIn, refuse_unstorable, utc_timestamp
from actionlog.observability import count
from actionlog.redis_client import RedisClient

# Why a script and not Powertools' idempotency utility: Powertools writes its "in progress" and
# "completed" records in separate round trips around the write. A Lambda that dies, or a reply that is
# lost, between the LPUSH and the "completed" record leaves the write done but unrecorded, and the
# redelivered message is logged twice. Here the check, the write and the record are one atomic step.
# The marker is set last, so a failing LPUSH (which aborts the script) leaves no marker behind, and the
# marker shares the list's hash slot (see keys.py), so the script also runs on Redis Cluster.
LOG_ONCE_SCRIPT = """
local done = redis.call('GET', KEYS[2])
if done then
  return {0, done}
end
redis.call('LPUSH', KEYS[1], unpack(ARGV, 4))
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[1]) - 1)
redis.call('SET', KEYS[2], ARGV[3], 'EX', tonumber(ARGV[2]))
return {1, ARGV[3]}
"""

WRITE_MARKER_TTL_SECONDS = 24 * 60 * 60
_ID_BYTES = 16  # 128 random bits, as uuid4 gives


class WriteOnce(NamedTuple):
    """Makes a write keyed: at most once per `write_id` within `ttl_seconds`.

    `receipt` is recorded with the key and handed back to every later write with the same key, e.g. the first
    HTTP response, so that a retried request gets the answer of the first.
    """

    write_id: str
    receipt: str
    ttl_seconds: int = WRITE_MARKER_TTL_SECONDS


@dataclass(frozen=True, slots=True)
class Logged:
    """The outcome of a write."""

    count: int  # entries logged now: 0 when a keyed write was done before
    receipt: str | None = None  # a keyed write's receipt, as its first write recorded it

    @property
    def replayed(self) -> bool:
        return self.receipt is not None and self.count == 0


def new_entries(actions: Sequence[ActionIn], *, now: datetime | None = None) -> list[bytes]:
    """Stored entries (compact JSON, UTF-8: what Redis is sent) for `actions`: each with a timestamp in UTC (the
    client's, else the server's) and an id. Every entry point makes its entries here, so every entry is checked
    here: metadata of at most MAX_METADATA_BYTES (else 422) that every JSON reader can take back (else 400).

    Made for batches: one clock read and one draw of random bytes for them all, each entry written once around its
    encoded parts, and the metadata checked on the encoding it is stored in (a batch of 100 spent most of its time
    making entries one model at a time, and then checking its metadata by encoding it again).
    """
    server_time = utc_timestamp(now or datetime.now(UTC))
    width = 2 * _ID_BYTES
    ids = os.urandom(_ID_BYTES * len(actions)).hex().encode()
    metadata = [pydantic_core.to_json(action.metadata) if action.metadata else b"{}" for action in actions]
    refuse_unstorable(metadata, [action.metadata for action in actions])
    if max(map(len, metadata), default=0) > MAX_METADATA_BYTES:
        raise Unprocessable(f"metadata must be at most {MAX_METADATA_BYTES} bytes of JSON")
    return [
        b'{"action":%b,"timestamp":"%b","metadata":%b,"id":"%b"}'
        % (
            pydantic_core.to_json(action.action),
            server_time if action.timestamp is None else utc_timestamp(action.timestamp),
            encoded_metadata,
            ids[index * width : (index + 1) * width],
        )
        for index, (action, encoded_metadata) in enumerate(zip(actions, metadata, strict=True))
    ]


@translate_store_errors
def log_actions(
    user_id: str, entries: Sequence[bytes], *, max_entries: int, redis: RedisClient, once: WriteOnce | None = None
) -> Logged:
    """Push stored `entries` (oldest first) onto the user's list, trim it to `max_entries`, count ActionsLogged.

    With `once`, nothing is logged when its key was written before: the first write's receipt comes back instead.
    """
    key = keys.actions_key(user_id)
    if once is None:
        with redis.pipeline(transaction=True) as pipe:
            pipe.lpush(key, *entries)
            pipe.ltrim(key, 0, max_entries - 1)
            pipe.execute()
        logged = Logged(count=len(entries))
    else:
        script = redis.register_script(LOG_ONCE_SCRIPT)
        first, receipt = script(
            keys=[key, keys.write_marker_key(user_id, once.write_id)],
            args=[max_entries, once.ttl_seconds, once.receipt, *entries],
        )
        logged = Logged(count=len(entries) if first else 0, receipt=receipt)
    if logged.count:
        count("ActionsLogged", logged.count)
    return logged


@translate_store_errors
def recent_actions(user_id: str, limit: int, *, redis: RedisClient) -> list[str]:
    """The newest `limit` entries as stored (JSON strings), newest first."""
    stored: list[str] = redis.lrange(keys.actions_key(user_id), 0, limit - 1)  # type: ignore[assignment]
    return stored


@translate_store_errors
def clear_actions(user_id: str, *, redis: RedisClient) -> bool:
    """Delete the user's list; True when there was one."""
    deleted: int = redis.delete(keys.actions_key(user_id))
    return deleted > 0


def entries_json(stored: Sequence[str]) -> str:
    """The stored entries as one JSON array, newest first, reusing the stored text.

    Decoding 50 entries into models and encoding them again was most of a read (bench/RESULTS.md). The array is
    parsed once, with pydantic-core's parser, to check that it holds exactly the stored entries and that each is
    a well-formed entry; only when it does not (the seed's older shapes, text that is not JSON) is each entry
    looked at, and the odd ones rebuilt.
    """
    text = "[" + ",".join(stored) + "]"
    try:
        parsed = pydantic_core.from_json(text, allow_inf_nan=False)
    except ValueError:
        parsed = None
    if isinstance(parsed, list) and len(parsed) == len(stored) and all(map(_well_formed, parsed)):
        return text
    return "[" + ",".join(_entry_json(entry) for entry in stored) + "]"


def _well_formed(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("action"), str)
        and isinstance(entry.get("timestamp"), str)
        and isinstance(entry.get("metadata"), dict)
        and isinstance(entry.get("id", ""), str)
    )


def _entry_json(stored: str) -> str:
    try:
        parsed = pydantic_core.from_json(stored, allow_inf_nan=False)
    except ValueError:
        parsed = None
    if _well_formed(parsed):
        return stored
    return decode_entry(stored).to_json()


def decode_entry(stored: str) -> ActionEntry:
    """An entry as stored, read back. An entry that is not an Actionlog/seed JSON object is kept as `raw`."""
    try:
        return ActionEntry.validate_json(stored)
    except ValueError:
        pass
    try:
        legacy = json.loads(stored)
    except ValueError:
        legacy = None
    action = legacy.get("action") if isinstance(legacy, dict) else None
    return ActionEntry.validate_python(
        {"action": action if isinstance(action, str) else "", "timestamp": "", "raw": stored}
    )


@translate_store_errors
def count_actions(user_id: str, *, redis: RedisClient) -> int:
    """How many entries the user's list holds (LLEN)."""
    length: int = redis.llen(keys.actions_key(user_id))
    return length
