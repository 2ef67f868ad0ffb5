"""The key-value cache: JSON values with an optional TTL, one round trip each.

Two namespaces: the shared cache of backend clients (keys under CACHE_KEY_PREFIXES, e.g. `session:abc`), and each
user's own cache, whose entries live in the user's hash slot beside an index of their keys (with when each expires)
and their sizes (keys.py). A user's own cache is bounded by quotas (USER_CACHE_MAX_KEYS, USER_CACHE_MAX_BYTES),
counted exactly in the write's own script together with the user's rate limit; an expired entry never counts.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from redis import RedisCluster

from actionlog import keys, ratelimit, scripts
from actionlog.codec import encode_json
from actionlog.errors import NotFound, PayloadTooLarge, QuotaExceeded, translate_store_errors
from actionlog.models import MAX_CACHE_VALUE_BYTES
from actionlog.observability import count
from actionlog.ratelimit import READS, WRITES, RateLimit
from actionlog.redis_client import RedisClient
from actionlog.settings import Settings, get_settings
from actionlog.wire import Script

# The user's index and sizes first forget the entries that expired, so that an expired entry never counts.
_FORGET_EXPIRED = """
local function forget_expired(index, sizes, now)
  for _, name in ipairs(call('ZRANGEBYSCORE', index, '-inf', now)) do
    call('HINCRBY', sizes, '#total', -tonumber(call('HGET', sizes, name) or '0'))
    call('HDEL', sizes, name)
    call('ZREM', index, name)
  end
end
"""

# KEYS: the entry, the user's index, their sizes, their write counter. ARGV: the value, its TTL (ms; 0: none), the
# user's key, the quotas (keys, bytes), the rate limit and window (ms).
# Returns {1, used, reset}; {-1, used, reset} over the rate limit; {-2, used, reset, quota} over a quota.
_PUT_OWN = scripts.script(
    _FORGET_EXPIRED
    + """
local now = now_ms()
local used, reset, over = count_request(KEYS[4], ARGV[6], ARGV[7], now, false)
if over then
  return {-1, used, reset}
end
forget_expired(KEYS[2], KEYS[3], now)
local name, size, ttl = ARGV[3], string.len(ARGV[1]), tonumber(ARGV[2])
local old = call('HGET', KEYS[3], name)
if not old and call('ZCARD', KEYS[2]) + 1 > tonumber(ARGV[4]) then
  return {-2, used, reset, 'keys'}
end
local delta = size - tonumber(old or '0')
if tonumber(call('HGET', KEYS[3], '#total') or '0') + delta > tonumber(ARGV[5]) then
  return {-2, used, reset, 'bytes'}
end
if ttl > 0 then
  call('SET', KEYS[1], ARGV[1], 'PX', ttl)
  call('ZADD', KEYS[2], now + ttl, name)
else
  call('SET', KEYS[1], ARGV[1])
  call('ZADD', KEYS[2], '+inf', name)
end
call('HSET', KEYS[3], name, size)
call('HINCRBY', KEYS[3], '#total', delta)
local last = call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')[2]
if last == 'inf' then
  call('PERSIST', KEYS[2])
  call('PERSIST', KEYS[3])
else
  call('PEXPIREAT', KEYS[2], last)
  call('PEXPIREAT', KEYS[3], last)
end
return {1, used, reset}
"""
)

# KEYS: the key (a user's own entry, or a shared one), the caller's read counter (none when not counted here). ARGV:
# the rate limit and window (ms). Returns {1, used, reset, value or false, its TTL in ms (-1: none)}, or
# {-1, used, reset} over the rate limit.
_GET = scripts.script("""
local used, reset, over = count_request(KEYS[2], ARGV[1], ARGV[2], now_ms(), true)
if over then
  return {-1, used, reset}
end
return {1, used, reset, call('GET', KEYS[1]), call('PTTL', KEYS[1])}
""")

# KEYS: the entry, the user's index, their sizes, their write counter. ARGV: the user's key, the rate limit, window.
# Returns {1 when there was a value else 0, used, reset}, or {-1, used, reset} over the rate limit.
_DELETE_OWN = scripts.script(
    _FORGET_EXPIRED
    + """
local now = now_ms()
local used, reset, over = count_request(KEYS[4], ARGV[2], ARGV[3], now, false)
if over then
  return {-1, used, reset}
end
forget_expired(KEYS[2], KEYS[3], now)
local deleted = call('DEL', KEYS[1])
local size = call('HGET', KEYS[3], ARGV[1])
if size then
  call('HINCRBY', KEYS[3], '#total', -tonumber(size))
  call('HDEL', KEYS[3], ARGV[1])
end
call('ZREM', KEYS[2], ARGV[1])
return {deleted, used, reset}
"""
)

# KEYS: the user's index, their read counter. ARGV: the rate limit and window (ms).
# Returns {1, used, reset, {key, expiry (epoch ms, 'inf' for none), ...}, now}: the keys that have not expired, or
# {-1, used, reset} over the rate limit. It only reads (but for the counter): expired keys are left to the next write.
_LIST_OWN = scripts.script("""
local now = now_ms()
local used, reset, over = count_request(KEYS[2], ARGV[1], ARGV[2], now, true)
if over then
  return {-1, used, reset}
end
return {1, used, reset, call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES'), now}
""")

# KEYS: the shared cache's key, the client's write counter (none when not counted here). ARGV: the rate limit and
# window (ms), the value, its TTL (s; 0: none). Returns {1, used, reset}, or {-1, used, reset} over the rate limit.
_SET = scripts.script("""
local used, reset, over = count_request(KEYS[2], ARGV[1], ARGV[2], now_ms(), false)
if over then
  return {-1, used, reset}
end
if tonumber(ARGV[4]) > 0 then
  call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4])
else
  call('SET', KEYS[1], ARGV[3])
end
return {1, used, reset}
""")

# KEYS: the shared cache's key, the client's write counter (none when not counted here). ARGV: the rate limit and
# window (ms). Returns {1 when there was a value else 0, used, reset}, or {-1, used, reset} over the rate limit.
_DELETE = scripts.script("""
local used, reset, over = count_request(KEYS[2], ARGV[1], ARGV[2], now_ms(), false)
if over then
  return {-1, used, reset}
end
return {call('DEL', KEYS[1]), used, reset}
""")

_QUOTAS = {"keys": "USER_CACHE_MAX_KEYS", "bytes": "USER_CACHE_MAX_BYTES"}


class CachedValue(NamedTuple):
    encoded: str
    ttl_seconds: int | None

    def value(self) -> Any:
        """The stored JSON value; a value another client stored that is not JSON is returned as its text."""
        try:
            return json.loads(self.encoded)
        except ValueError:
            return self.encoded


def put(key: str, value: Any, ttl_seconds: int | None, *, redis: RedisClient, rate: RateLimit | None = None) -> None:
    """Store `value` as JSON under `key`: at most MAX_CACHE_VALUE_BYTES (else 413, before anything else), expiring
    after `ttl_seconds`; with `rate`, the request is counted against the client's write limit (429, nothing stored)."""
    _shared(_SET, key, rate, [_encoded(value), ttl_seconds or 0], redis)


def _encoded(value: Any) -> bytes:
    encoded = encode_json(value).encode()
    if len(encoded) > MAX_CACHE_VALUE_BYTES:
        raise PayloadTooLarge(f"value must be at most {MAX_CACHE_VALUE_BYTES} bytes of JSON")
    return encoded


def lookup(key: str, *, redis: RedisClient, name: str | None = None, rate: RateLimit | None = None) -> CachedValue:
    """The value under `key` and its remaining TTL, counted as a CacheHit or a CacheMiss; a 404 when absent, which
    names the key as the caller did (`name`; `key` by default), never the stored one. With `rate`, the request is
    counted against the client's read limit (429 over it)."""
    cached = get(key, redis=redis, rate=rate)
    count("CacheMiss" if cached is None else "CacheHit")
    if cached is None:
        raise NotFound(f"no cached value for {name or key}")
    return cached


def get(key: str, *, redis: RedisClient, rate: RateLimit | None = None) -> CachedValue | None:
    """The value and its remaining TTL, read together in one script so the two agree. A script, not a MULTI: Redis
    refuses every command queued in a MULTI while it is out of memory, reads included, and reads must keep working."""
    _, _, _, *found = _shared(_GET, key, rate, [], redis)
    return _cached(*found)


def _cached(encoded: str | None, ttl_ms: int) -> CachedValue | None:
    if encoded is None:
        return None
    return CachedValue(encoded=encoded, ttl_seconds=-(-ttl_ms // 1000) if ttl_ms >= 0 else None)


def delete(key: str, *, redis: RedisClient, rate: RateLimit | None = None) -> bool:
    """Delete the value under `key`; True when there was one. With `rate`, counted as `put` is."""
    deleted, _, _ = _shared(_DELETE, key, rate, [], redis)
    return bool(deleted == 1)


def _shared(script: Script, key: str, rate: RateLimit | None, args: list[Any], redis: RedisClient) -> list[Any]:
    """`script` on a shared cache `key`, the request counted in it when `rate` is given. The client's counter is in
    another hash slot than the key: on a standalone Redis the script takes both, one round trip; a cluster's script
    may only take keys of one slot, so there the request is counted first, in a round trip of its own."""
    counted_here = rate is not None and not isinstance(redis, RedisCluster)
    if rate is not None and not counted_here:
        ratelimit.count(rate, redis=redis)
    reply = _run(
        script,
        keys=[key, rate.key] if counted_here and rate is not None else [key],
        args=[*(rate.args() if counted_here and rate is not None else (0, 1)), *args],
        redis=redis,
    )
    if counted_here and rate is not None:
        rate.counted(reply[1], reply[2])
    return reply


# A user's own cache.


def put_own(
    user_id: str,
    name: str,
    value: Any,
    ttl_seconds: int | None,
    *,
    redis: RedisClient,
    rate: RateLimit | None = None,
    settings: Settings | None = None,
) -> int | None:
    """Store `value` under the user's key `name`, within the user's quotas (403 naming the one it would pass); the
    TTL it was given, else the retention's (USER_DATA_RETENTION_DAYS), which it returns in seconds (None: none)."""
    settings = settings or get_settings()
    encoded = _encoded(value)
    ttl_ms = ttl_seconds * 1000 if ttl_seconds is not None else settings.retention_ms
    outcome, used, reset_ms, *quota = _run(
        _PUT_OWN,
        keys=[
            keys.user_cache_key(user_id, name),
            keys.user_cache_index_key(user_id),
            keys.user_cache_sizes_key(user_id),
            keys.user_rate_key(user_id, WRITES),
        ],
        args=[
            encoded,
            ttl_ms,
            name,
            settings.user_cache_max_keys,
            settings.user_cache_max_bytes,
            *(rate.args() if rate is not None else (0, 1)),
        ],
        redis=redis,
    )
    if rate is not None:
        rate.counted(used, reset_ms)
    if outcome == -2:
        [which] = quota
        limits = {"keys": f"{settings.user_cache_max_keys} keys", "bytes": f"{settings.user_cache_max_bytes} bytes"}
        raise QuotaExceeded(
            f"quota {_QUOTAS[which]} reached: a user's own cache holds at most {limits[which]};"
            " delete entries or give them a TTL to make room"
        )
    return ttl_ms // 1000 if ttl_ms else None


def lookup_own(user_id: str, name: str, *, redis: RedisClient, rate: RateLimit | None = None) -> CachedValue:
    """The user's value under `name` and its remaining TTL, counted as a CacheHit or a CacheMiss; 404 when absent."""
    _, used, reset_ms, *found = _run(
        _GET,
        keys=[keys.user_cache_key(user_id, name), keys.user_rate_key(user_id, READS)],
        args=[*(rate.args() if rate is not None else (0, 1))],
        redis=redis,
    )
    if rate is not None:
        rate.counted(used, reset_ms)
    cached = _cached(*found)
    count("CacheMiss" if cached is None else "CacheHit")
    if cached is None:
        raise NotFound(f"no cached value for {name}")
    return cached


def delete_own(user_id: str, name: str, *, redis: RedisClient, rate: RateLimit | None = None) -> bool:
    """Delete the user's value under `name`, freeing its room in the quotas; True when there was one."""
    deleted, used, reset_ms = _run(
        _DELETE_OWN,
        keys=[
            keys.user_cache_key(user_id, name),
            keys.user_cache_index_key(user_id),
            keys.user_cache_sizes_key(user_id),
            keys.user_rate_key(user_id, WRITES),
        ],
        args=[name, *(rate.args() if rate is not None else (0, 1))],
        redis=redis,
    )
    if rate is not None:
        rate.counted(used, reset_ms)
    return bool(deleted == 1)


@translate_store_errors
def _run(script: Script, *, keys: list[str], args: list[Any], redis: RedisClient) -> list[Any]:
    result: list[Any] = script(keys=keys, args=args, client=redis)
    return result


def list_own(user_id: str, *, redis: RedisClient, rate: RateLimit | None = None) -> list[tuple[str, int | None]]:
    """The user's own cache keys that have not expired, sorted, each with its remaining TTL in seconds (None: none).
    Bounded by the user's own keys (their index), never a scan of the keyspace."""
    _, used, reset_ms, *found = _run(
        _LIST_OWN,
        keys=[keys.user_cache_index_key(user_id), keys.user_rate_key(user_id, READS)],
        args=[*(rate.args() if rate is not None else (0, 1))],
        redis=redis,
    )
    if rate is not None:
        rate.counted(used, reset_ms)
    scored, now = found
    listed = []
    for name, expiry in zip(scored[::2], scored[1::2], strict=True):
        left = None if expiry == "inf" else -(-(int(float(expiry)) - now) // 1000)
        listed.append((name, left))
    return sorted(listed)
