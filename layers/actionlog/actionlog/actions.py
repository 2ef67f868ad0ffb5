"""The per-user action log: `user:<id>:actions`, a list of JSON entries, newest first, capped.

Every write is one atomic round trip, so no reader sees the list over its cap and no concurrent writer
loses an entry that should stay: a plain write is MULTI/LPUSH/LTRIM/EXEC; a keyed write (an SQS message
id, an HTTP Idempotency-Key) is one Lua script that also records the key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pydantic_core

from actionlog import keys
from actionlog.errors import translate_store_errors
from actionlog.models import ActionEntry
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


@dataclass(frozen=True, slots=True)
class KeyedWrite:
    """The outcome of a keyed write."""

    first: bool  # False: the key was written before; nothing was logged this time
    receipt: str  # what the first write recorded under its key


@translate_store_errors
def log_actions(user_id: str, entries: Sequence[ActionEntry], *, max_entries: int, redis: RedisClient) -> int:
    """Push `entries` (oldest first) onto the user's list and trim it to `max_entries`."""
    key = keys.actions_key(user_id)
    with redis.pipeline(transaction=True) as pipe:
        pipe.lpush(key, *(entry.encode() for entry in entries))
        pipe.ltrim(key, 0, max_entries - 1)
        pipe.execute()
    return len(entries)


@translate_store_errors
def log_actions_once(
    user_id: str,
    entries: Sequence[ActionEntry],
    *,
    write_id: str,
    receipt: str,
    max_entries: int,
    redis: RedisClient,
    ttl_seconds: int = WRITE_MARKER_TTL_SECONDS,
) -> KeyedWrite:
    """Like log_actions, but at most once per `write_id` within `ttl_seconds`.

    `receipt` is recorded with the key and handed back to every later write with the same key, e.g. the
    first HTTP response, so a retried request gets the answer of the first.
    """
    script = redis.register_script(LOG_ONCE_SCRIPT)
    first, recorded = script(
        keys=[keys.actions_key(user_id), keys.write_marker_key(user_id, write_id)],
        args=[max_entries, ttl_seconds, receipt, *(entry.encode() for entry in entries)],
    )
    return KeyedWrite(first=bool(first), receipt=recorded)


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
    """The stored entries as one JSON array, newest first, reusing each entry's stored text.

    Decoding 50 entries into models and encoding them again was most of a read (bench/RESULTS.md). Each
    entry is still parsed once, with pydantic-core's fast parser, to check it is a well-formed entry; only
    entries that are not (the seed's older shapes, text that is not JSON) are rebuilt.
    """
    return "[" + ",".join(_entry_json(entry) for entry in stored) + "]"


def _entry_json(stored: str) -> str:
    try:
        parsed = pydantic_core.from_json(stored, allow_inf_nan=False)
    except ValueError:
        parsed = None
    if (
        isinstance(parsed, dict)
        and isinstance(parsed.get("action"), str)
        and isinstance(parsed.get("timestamp"), str)
        and isinstance(parsed.get("metadata"), dict)
    ):
        return stored
    return decode_entry(stored).model_dump_json()


def decode_entry(stored: str) -> ActionEntry:
    """An entry as stored, read back. An entry that is not an Actionlog/seed JSON object is kept as `raw`."""
    try:
        return ActionEntry.model_validate_json(stored)
    except ValueError:
        pass
    try:
        legacy = json.loads(stored)
    except ValueError:
        legacy = None
    action = legacy.get("action") if isinstance(legacy, dict) else None
    return ActionEntry.model_validate(
        {"action": action if isinstance(action, str) else "", "timestamp": "", "raw": stored}
    )
