"""The per-user action log: `user:<id>:actions`, a list of JSON entries, newest first, capped.

`log_actions` is the one write path of every entry point (REST, Serverpod, SQS): one atomic round trip, one Lua
script, so no reader sees the list over its cap and no concurrent writer loses an entry that should stay. A keyed
write (an HTTP Idempotency-Key, an SQS message id) checks and records its receipt in the same script, so the check,
the write and the record cannot be separated by a crash or a lost reply.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import pydantic_core
from redis.commands.core import Script

from actionlog import keys
from actionlog.codec import refuse_unstorable, utc_timestamp
from actionlog.errors import Unprocessable, translate_store_errors
from actionlog.models import MAX_METADATA_BYTES, ActionIn
from actionlog.observability import count
from actionlog.redis_client import RedisClient
from actionlog.schema import Encoded
from actionlog.settings import Settings, get_settings

# Why a script and not Powertools' idempotency utility: Powertools writes its "in progress" and "completed" records
# in separate round trips around the write. A Lambda that dies, or a reply that is lost, between the LPUSH and the
# "completed" record leaves the write done but unrecorded, and the redelivered message is logged twice. Here the
# check, the write and the receipt are one atomic step; a failing LPUSH (which aborts the script) leaves no receipt.
#
# A user's receipts live in one HASH (write id -> receipt) beside a ZSET of their expiry times, both in the list's
# hash slot (keys.py), so the script runs on Redis Cluster too, and everything a user's writes leave behind is
# found from the user id alone. Each keyed write first drops a bounded number of expired receipts.
#
# KEYS: the list, the receipts, their expiries.
# ARGV: the cap, the write id ('' for a write without a key), the receipt, its lifetime in ms, the entries (oldest
# first). Returns {1} when the entries were logged, {0, receipt} when the write id had been written before.
LOG_SCRIPT = """
local function call(command, ...)
  local reply = redis.pcall(command, ...)
  if type(reply) == 'table' and reply.err then
    -- A command the ACL denies fails a script with a plain ERR; say NOPERM, as the command alone would.
    if redis.acl_check_cmd and not redis.acl_check_cmd(command, ...) then
      error({err = 'NOPERM this user has no permissions to run the ' .. command .. ' command'})
    end
    error(reply)
  end
  return reply
end
local keyed = ARGV[2] ~= ''
local expiry
if keyed then
  local time = call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  local expired = call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 100)
  if #expired > 0 then
    call('HDEL', KEYS[2], unpack(expired))
    call('ZREM', KEYS[3], unpack(expired))
  end
  local first = call('HGET', KEYS[2], ARGV[2])
  if first and tonumber(call('ZSCORE', KEYS[3], ARGV[2]) or 0) > now then
    return {0, first}
  end
  expiry = now + tonumber(ARGV[4])
end
call('LPUSH', KEYS[1], unpack(ARGV, 5))
call('LTRIM', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if keyed then
  call('HSET', KEYS[2], ARGV[2], ARGV[3])
  call('ZADD', KEYS[3], expiry, ARGV[2])
  call('PEXPIREAT', KEYS[2], expiry)
  call('PEXPIREAT', KEYS[3], expiry)
end
return {1}
"""
_LOG = Script(None, LOG_SCRIPT.encode())  # type: ignore[arg-type]  # the client is given at each call

RECEIPT_TTL_SECONDS = 24 * 60 * 60
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
    user_id: str,
    entries: Sequence[bytes],
    *,
    redis: RedisClient,
    response: Encoded[Any] | None = None,
    key: WriteKey | None = None,
    settings: Settings | None = None,
) -> Logged:
    """Push stored `entries` (oldest first) onto the user's list, trimmed to its cap, and count ActionsLogged.

    With `key`, nothing is logged when the key was written before: the first write's `response` comes back instead
    (422 when the key came with another request). The cap is the settings' `actions_max_entries`.
    """
    settings = settings or get_settings()
    receipt = key.receipt(response) if key is not None else ""
    logged, *first = _LOG(
        keys=[keys.actions_key(user_id), keys.receipts_key(user_id), keys.receipt_expiries_key(user_id)],
        args=[
            settings.actions_max_entries,
            key.write_id if key is not None else "",
            receipt,
            RECEIPT_TTL_SECONDS * 1000,
            *entries,
        ],
        client=redis,
    )
    if logged:
        count("ActionsLogged", len(entries))
        return Logged(len(entries), response)
    [stored] = first
    if stored[:_FINGERPRINT_LENGTH] != receipt[:_FINGERPRINT_LENGTH]:
        raise Unprocessable("this Idempotency-Key was already used with a different request body")
    answer = Encoded(response.shape, stored[_FINGERPRINT_LENGTH:]) if response is not None else None
    return Logged(0, answer, replayed=True)


@translate_store_errors
def recent_actions(user_id: str, limit: int, *, redis: RedisClient) -> list[str]:
    """The newest `limit` entries as stored (JSON strings), newest first."""
    stored: list[str] = redis.lrange(keys.actions_key(user_id), 0, limit - 1)  # type: ignore[assignment]
    return stored


@translate_store_errors
def clear_actions(user_id: str, *, redis: RedisClient) -> bool:
    """Delete the user's list and the receipts of its keyed writes, which hold copies of its entries; True when
    there was a list."""
    with redis.pipeline(transaction=True) as pipe:
        pipe.delete(keys.actions_key(user_id))
        pipe.delete(keys.receipts_key(user_id), keys.receipt_expiries_key(user_id))
        deleted, _ = pipe.execute()
    return bool(deleted)


@translate_store_errors
def count_actions(user_id: str, *, redis: RedisClient) -> int:
    """How many entries the user's list holds (LLEN)."""
    length: int = redis.llen(keys.actions_key(user_id))
    return length
